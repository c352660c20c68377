package app

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// The widget is Parley's public side: a loader script on customers' sites
// and an iframe served from here. Visitors are anonymous browsers known by a
// random token that the loader keeps in the host page's storage; the frame
// sends it in the X-Parley-Visitor header (never a cookie, which third-party
// contexts block and which an attacker's page could ride on), so these
// routes need no CSRF token and never see the staff session.

const (
	ctxVisitor    = "parley.visitor"
	visitorHeader = "X-Parley-Visitor"
	langHeader    = "X-Parley-Lang"
)

// isWidgetPath reports whether a request belongs to the public widget.
func isWidgetPath(p string) bool {
	return p == "/widget.js" || strings.HasPrefix(p, "/widget/")
}

// widgetContext prepares a widget request: the visitor's language (the one
// the loader passed, else the browser's), never the staff user's, and what
// the views need to know about the request.
func (a *App) widgetContext(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		lang := c.QueryParam("lang")
		if lang == "" {
			lang = req.Header.Get(langHeader)
		}
		if lang == "" {
			lang = req.Header.Get("Accept-Language")
		}
		ctx := views.WithLanguage(req.Context(), views.MatchLanguage(lang))
		ctx = views.WithRequest(ctx, &views.Request{
			RequestID: c.Response().Header().Get(echo.HeaderXRequestID),
			Path:      req.URL.Path,
			Fragment:  req.Header.Get("HX-Request") == "true",
		})
		c.SetRequest(req.WithContext(ctx))
		c.Response().Header().Add("Vary", langHeader+", Accept-Language")
		return next(c)
	}
}

// errUnknownVisitor is a missing or unknown token: the frame then starts a
// new visitor.
var errUnknownVisitor = errors.New("unknown visitor")

// requireVisitor resolves the visitor token. Only the event stream takes it
// from the query string (EventSource cannot send headers); the request log
// records paths without query strings, so it is never written down.
func (a *App) requireVisitor(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		token := c.Request().Header.Get(visitorHeader)
		if token == "" && c.Path() == "/widget/events" {
			token = c.QueryParam("visitor")
		}
		v, err := models.FindVisitor(ctxOf(c), a.db, token)
		if errors.Is(err, models.ErrNotFound) {
			c.Response().Header().Set("Cache-Control", "no-store")
			return c.JSON(http.StatusUnauthorized, map[string]string{"error": errUnknownVisitor.Error()})
		}
		if err != nil {
			return err
		}
		c.Set(ctxVisitor, v)
		views.Req(ctxOf(c)).FileURL = a.fileURLs(ctxOf(c), models.FileViewerVisitor(v))
		return next(c)
	}
}

func currentVisitor(c echo.Context) *models.Visitor {
	v, _ := c.Get(ctxVisitor).(*models.Visitor)
	return v
}

// visitorToken is the token the request authenticated with.
func visitorToken(c echo.Context) string {
	if t := c.Request().Header.Get(visitorHeader); t != "" {
		return t
	}
	return c.QueryParam("visitor")
}

// limitIP takes a token from l's bucket for the client's IP.
func (a *App) limitIP(l func(*widgetLimiters) *limiter) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if ok, retry := l(a.widgetLimits).allow(c.RealIP()); !ok {
				return a.widgetTooMany(c, retry)
			}
			return next(c)
		}
	}
}

// limitVisitor takes a token from the visitor's bucket of writes; it runs
// after requireVisitor.
func (a *App) limitVisitor(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if ok, retry := a.widgetLimits.visitorPosts.allow(strconv.FormatInt(currentVisitor(c).ID, 10)); !ok {
			return a.widgetTooMany(c, retry)
		}
		return next(c)
	}
}

func ipReads(l *widgetLimiters) *limiter    { return l.ipReads }
func ipPosts(l *widgetLimiters) *limiter    { return l.ipPosts }
func ipVisitors(l *widgetLimiters) *limiter { return l.ipVisitors }

// widgetTooMany answers 429 with Retry-After and a translated message: a
// toast in the frame (the composer keeps what was typed), JSON for the API.
func (a *App) widgetTooMany(c echo.Context, retry time.Duration) error {
	secs := max(1, int(math.Ceil(retry.Seconds())))
	msg := tr(c, "widget.rate_limited", map[string]any{"Count": secs})
	h := c.Response().Header()
	h.Set("Retry-After", strconv.Itoa(secs))
	h.Set("Cache-Control", "no-store")
	reqLog(c).Info("widget rate limited", "path", c.Request().URL.Path, "ip", c.RealIP(), "retry_after", secs)
	if c.Request().Header.Get("HX-Request") == "true" {
		b, _ := json.Marshal(map[string]any{"toast": map[string]string{"level": "error", "message": msg}})
		h.Set("HX-Trigger", string(b))
		return c.String(http.StatusTooManyRequests, msg)
	}
	return c.JSON(http.StatusTooManyRequests, map[string]string{"error": msg})
}

// widgetToast answers status with a toast in the frame and nothing swapped.
func (a *App) widgetToast(c echo.Context, status int, msg string) error {
	b, _ := json.Marshal(map[string]any{"toast": map[string]string{"level": "error", "message": msg}})
	c.Response().Header().Set("HX-Trigger", string(b))
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.String(status, msg)
}

// frameHeaders replace the staff pages' "never framed" headers on the frame
// page: it may be framed by Parley itself (the demo page) and by the sites
// the admin allowed, nowhere else.
func frameHeaders(c echo.Context, s *models.DeskSettings) {
	h := c.Response().Header()
	h.Del("X-Frame-Options")
	h.Set("Content-Security-Policy", frameCSP(s.AllowedOrigins))
}

func frameCSP(origins []string) string {
	ancestors := "'self'"
	for _, o := range origins {
		// Stored origins are normalised by models.ParseOrigins; never let a
		// stray character end the directive.
		if !strings.ContainsAny(o, " ;,'\"\r\n") {
			ancestors += " " + o
		}
	}
	return "frame-ancestors " + ancestors + "; default-src 'self'; script-src 'self'; style-src 'self'; " +
		"img-src 'self' data:; connect-src 'self'; base-uri 'self'; form-action 'self'"
}

// themeURL is the stylesheet carrying the brand colour; its version changes
// with the colour, so it can be cached for good.
func themeURL(s *models.DeskSettings) string {
	return "/widget/theme.css?v=" + themeVersion(s.BrandColor)
}

func themeVersion(color string) string {
	sum := sha256.Sum256([]byte("theme-v1:" + color))
	return hex.EncodeToString(sum[:5])
}

// themeCSS sets the brand colour and a readable text colour on it.
func themeCSS(color string) string {
	return fmt.Sprintf(":root{--brand:%s;--on-brand:%s}\n", color, views.BrandInk(color))
}

// streamURL is the visitor's event stream for a view: from the cursor the
// view was rendered at, in the visitor's language, for one conversation or
// (pid empty) the home view.
func (a *App) streamURL(c echo.Context, since uint64, pid string) string {
	q := url.Values{}
	q.Set("visitor", visitorToken(c))
	q.Set("since", strconv.FormatUint(since, 10))
	q.Set("lang", views.Lang(ctxOf(c)))
	if pid != "" {
		q.Set("conv", pid)
	}
	// The frame on a page of the customer's site names itself, so the
	// stream can say while it is open (widget_page.go).
	if f := c.Request().Header.Get(frameHeader); frameIDRe.MatchString(f) {
		q.Set("frame", f)
	}
	return "/widget/events?" + q.Encode()
}

// renderWidget renders a view with the frame's chrome (status banner,
// greeting, colours) refreshed alongside, so a view is never older than
// what it shows around it.
func (a *App) renderWidget(c echo.Context, status int, s *models.DeskSettings, view templ.Component) error {
	return a.render(c, status, templ.Join(view, views.WidgetChrome(s, themeURL(s))))
}
