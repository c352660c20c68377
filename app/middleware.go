package app

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/static"
	"github.com/parleydesk/parley/views"
)

const (
	sessionCookie = "parley_session"
	csrfCookie    = "parley_csrf"
	flashCookie   = "parley_flash"
)

// Context keys for values the handlers read from echo's context.
const (
	ctxUser    = "parley.user"
	ctxSession = "parley.session"
	ctxExpired = "parley.session_expired"
	ctxLog     = "parley.log"
	// ctxSettings holds the desk settings a page read (pageSettings).
	ctxSettings = "parley.settings"
)

// The asset URLs depend only on the embedded files: set them once, before
// any request renders.
func init() { views.AssetURL = assetURLs(static.Files) }

func (a *App) newEcho() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = a.handleError
	// The client's address (logs, rate limits): X-Forwarded-For is believed
	// only from the proxies PARLEY_TRUSTED_PROXIES names (loopback by
	// default), so a client cannot pick its own IP to dodge the widget's
	// per-IP limits, not even from a neighbouring private address.
	trust := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range a.cfg.TrustedProxies {
		trust = append(trust, echo.TrustIPRange(n))
	}
	e.IPExtractor = echo.ExtractIPFromXFFHeader(trust...)
	e.Pre(middleware.RemoveTrailingSlashWithConfig(middleware.TrailingSlashConfig{RedirectCode: http.StatusMovedPermanently}))
	e.Use(
		middleware.RequestIDWithConfig(middleware.RequestIDConfig{Generator: func() string { return models.RandomToken(9) }}),
		a.metrics.observe,
		a.logRequests,
		a.recoverPanics,
		a.secureHeaders,
		// The edge: bodies limited and input checked before anything reads
		// them (edge.go).
		a.limitBody,
		a.checkInput,
		a.loadSession,
		a.checkCSRF,
		a.ringAfterWrites,
	)
	a.routes(e)
	return e
}

// logRequests logs one structured line per request, with the request id, and
// puts a logger carrying that id into the context for handlers.
func (a *App) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		id := c.Response().Header().Get(echo.HeaderXRequestID)
		log := a.log.With("request_id", id)
		c.Set(ctxLog, log)
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		req := c.Request()
		if req.URL.Path == "/healthz" || req.URL.Path == "/readyz" || strings.HasPrefix(req.URL.Path, "/static/") {
			return nil
		}
		attrs := []any{"method", req.Method, "path", req.URL.Path, "status", c.Response().Status,
			"duration", time.Since(start).Round(time.Microsecond), "ip", c.RealIP()}
		if u := currentUser(c); u != nil {
			attrs = append(attrs, "user_id", u.ID)
		}
		log.Info("request", attrs...)
		return nil
	}
}

func (a *App) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return next(c)
	}
}

func reqLog(c echo.Context) *slog.Logger {
	if l, ok := c.Get(ctxLog).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

// secureHeaders sets the browser protections every staff page gets. The
// content security policy allows only Parley's own scripts and styles.
// Served over https (the base URL says so), browsers are told to never use
// plain http for this host again.
func (a *App) secureHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	hsts := a.cfg.SecureCookies()
	return func(c echo.Context) error {
		h := c.Response().Header()
		if hsts {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
		return next(c)
	}
}

// loadSession resolves the session cookie to a user and prepares what the
// views need for this request: language, CSRF token, toasts.
func (a *App) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if isWidgetPath(req.URL.Path) {
			return next(c) // visitors never use the staff session (widgetContext)
		}
		ctx := req.Context()
		var user *models.User
		var csrf string
		if ck, err := req.Cookie(sessionCookie); err == nil && ck.Value != "" {
			s, u, err := models.LookupSession(ctx, a.db, ck.Value, a.cfg.SessionTTL)
			switch {
			case err == nil:
				user, csrf = u, s.CSRFToken
				c.Set(ctxUser, u)
				c.Set(ctxSession, s)
				if req.Method == http.MethodGet && req.Header.Get("HX-Request") == "" {
					a.setSessionCookie(c, ck.Value) // keep the cookie as long as the sliding session
				}
			case errors.Is(err, models.ErrSessionExpired):
				c.Set(ctxExpired, true)
				a.clearCookie(c, sessionCookie)
			case errors.Is(err, models.ErrNotFound):
				a.clearCookie(c, sessionCookie)
			default:
				return err
			}
		}
		if csrf == "" {
			csrf = a.anonCSRFToken(c)
		}
		lang := ""
		if user != nil {
			lang = user.Locale
		}
		if lang == "" {
			lang = views.MatchLanguage(req.Header.Get("Accept-Language"))
		}
		ctx = views.WithLanguage(ctx, lang)
		vr := &views.Request{
			User: user, CSRFToken: csrf, Path: req.URL.Path,
			RequestID: c.Response().Header().Get(echo.HeaderXRequestID),
			Fragment:  req.Header.Get("HX-Request") == "true" && req.Header.Get("HX-Boosted") != "true",
		}
		if !vr.Fragment {
			vr.Toasts = a.takeFlash(c) // fragments have no toast area; the next page shows it
		}
		if user != nil {
			vr.FileURL = a.fileURLs(ctx, models.FileViewerUser(user))
		}
		ctx = views.WithRequest(ctx, vr)
		c.SetRequest(req.WithContext(ctx))
		c.Response().Header().Add("Vary", "Cookie")
		return next(c)
	}
}

func currentUser(c echo.Context) *models.User {
	u, _ := c.Get(ctxUser).(*models.User)
	return u
}

// requireUser sends signed-out visitors to the sign-in page, remembering
// where they were going.
func (a *App) requireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if currentUser(c) != nil {
			if err := a.withDesk(c); err != nil {
				return err
			}
			return next(c)
		}
		reason := "required"
		if c.Get(ctxExpired) == true {
			reason = "expired"
		}
		target := "/login?m=" + reason
		if c.Request().Method == http.MethodGet {
			target += "&next=" + url.QueryEscape(c.Request().URL.RequestURI())
		}
		return a.redirect(c, target)
	}
}

// errForbidden answers 403: signed in, but the role does not allow it.
var errForbidden = echo.NewHTTPError(http.StatusForbidden)

func (a *App) requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !currentUser(c).IsAdmin() {
			return errForbidden
		}
		return next(c)
	}
}

// ringAfterWrites rings the realtime doorbell after every successful
// state-changing request: whatever events its transactions committed reach
// open desks and widgets at once, without each handler remembering to.
func (a *App) ringAfterWrites(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			if err == nil && c.Response().Status < 400 {
				a.rt.Ring()
			}
		}
		return err
	}
}

// errCSRF is a state-changing request without the right token.
var errCSRF = errors.New("missing or wrong CSRF token")

// checkCSRF requires the session's token (or, signed out, the token of the
// csrf cookie) on every state-changing request, as the _csrf form field or
// the X-CSRF-Token header htmx sends.
func (a *App) checkCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		// The widget authenticates with the visitor token in the
		// X-Parley-Visitor header, never with a cookie (and loadSession skips
		// these paths): a forged cross-site request carries nothing that
		// identifies anyone, so there is no ambient credential to protect.
		if isWidgetPath(c.Request().URL.Path) {
			return next(c)
		}
		// River's jobs UI guards its API itself (admin_jobs.go).
		if isJobsAPIPath(c.Request().URL.Path) {
			return next(c)
		}
		want := views.Req(c.Request().Context()).CSRFToken
		got := c.Request().Header.Get("X-CSRF-Token")
		if got == "" {
			got = c.FormValue("_csrf")
		}
		if want == "" || got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			return errCSRF
		}
		return next(c)
	}
}

// anonCSRFToken returns the signed-out visitor's CSRF token, creating its
// cookie on first use. Sign-in and setup forms are protected with it.
func (a *App) anonCSRFToken(c echo.Context) string {
	if ck, err := c.Request().Cookie(csrfCookie); err == nil && len(ck.Value) >= 32 {
		return ck.Value
	}
	token := models.RandomToken(32)
	c.SetCookie(&http.Cookie{Name: csrfCookie, Value: token, Path: "/", HttpOnly: true,
		Secure: a.cfg.SecureCookies(), SameSite: http.SameSiteLaxMode, MaxAge: 86400 * 7})
	// Make the new cookie visible to the CSRF check of this same request.
	c.Request().AddCookie(&http.Cookie{Name: csrfCookie, Value: token})
	return token
}

func (a *App) setSessionCookie(c echo.Context, token string) {
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true,
		Secure: a.cfg.SecureCookies(), SameSite: http.SameSiteLaxMode, MaxAge: int(a.cfg.SessionTTL.Seconds())})
}

func (a *App) clearCookie(c echo.Context, name string) {
	c.SetCookie(&http.Cookie{Name: name, Value: "", Path: "/", HttpOnly: true,
		Secure: a.cfg.SecureCookies(), SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// toast shows a message to the user: on an htmx fragment request through the
// HX-Trigger header, otherwise through a one-time cookie read by the next page.
func (a *App) toast(c echo.Context, level, message string) {
	t := views.Toast{Level: level, Message: message}
	if views.Req(c.Request().Context()).Fragment {
		b, _ := json.Marshal(map[string]any{"toast": map[string]string{"level": t.Level, "message": t.Message}})
		c.Response().Header().Set("HX-Trigger", string(b))
		return
	}
	b, _ := json.Marshal(t)
	c.SetCookie(&http.Cookie{Name: flashCookie, Value: base64.RawURLEncoding.EncodeToString(b), Path: "/",
		HttpOnly: true, Secure: a.cfg.SecureCookies(), SameSite: http.SameSiteLaxMode, MaxAge: 60})
}

func (a *App) takeFlash(c echo.Context) []views.Toast {
	ck, err := c.Request().Cookie(flashCookie)
	if err != nil || ck.Value == "" || c.Request().Method != http.MethodGet {
		return nil
	}
	a.clearCookie(c, flashCookie)
	b, err := base64.RawURLEncoding.DecodeString(ck.Value)
	var t views.Toast
	if err != nil || json.Unmarshal(b, &t) != nil || t.Message == "" {
		return nil
	}
	switch t.Level {
	case "success", "error", "info":
	default:
		t.Level = "info"
	}
	return []views.Toast{t}
}

// redirect answers a request with a redirect that also works for htmx
// fragment requests (which would otherwise swap the target page in place).
func (a *App) redirect(c echo.Context, target string) error {
	if views.Req(c.Request().Context()).Fragment {
		c.Response().Header().Set("HX-Redirect", target)
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, target)
}

// tr translates id in the request's language.
func tr(c echo.Context, id string, data ...map[string]any) string {
	return views.T(c.Request().Context(), id, data...)
}

// ctxOf is the request context handlers pass to models and templates.
func ctxOf(c echo.Context) context.Context { return c.Request().Context() }
