package app

import (
	"errors"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// home sends each visitor where they belong: setup on a fresh install, the
// sign-in page when signed out, the customers inbox for support agents and
// My conversations for everyone else.
func (a *App) home(c echo.Context) error {
	needs, err := models.NeedsSetup(ctxOf(c), a.db)
	if err != nil {
		return err
	}
	switch {
	case needs:
		return a.redirect(c, "/setup")
	case currentUser(c) == nil:
		return a.redirect(c, "/login")
	case models.CanSeeCustomerData(currentUser(c)):
		return a.redirect(c, "/inbox")
	}
	return a.redirect(c, "/mine")
}

// safeNext accepts only a path on this site as a post-login destination,
// so the sign-in page cannot send anyone to another site. It judges the
// address as a browser will read it: browsers drop tabs and newlines from a
// URL and take a backslash for a slash ("/\t/evil.example" and
// "/\\evil.example" both mean "//evil.example", another host), and
// anything percent-encoded is judged decoded as well. Anything doubtful is
// "/".
func safeNext(next string) string {
	if next == "" || len(next) > 2048 || !utf8.ValidString(next) {
		return "/"
	}
	for _, r := range next {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return "/"
		}
	}
	// Decode until nothing changes (a few rounds at most: each one shortens
	// the string), judging every form.
	for s, i := next, 0; i < 4; i++ {
		if !localPath(s) {
			return "/"
		}
		d, err := url.PathUnescape(s)
		if err != nil || d == s {
			return next // a browser decodes no further either
		}
		if strings.ContainsAny(d, "\t\r\n\\") {
			return "/"
		}
		s = d
	}
	return "/"
}

// localPath reports whether s is a path on this site: it starts with one
// slash and names no scheme or host.
func localPath(s string) bool {
	if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "" && u.Host == "" && u.User == nil && u.Opaque == ""
}

func (a *App) showLogin(c echo.Context) error {
	if currentUser(c) != nil {
		return a.redirect(c, safeNext(c.QueryParam("next")))
	}
	needs, err := models.NeedsSetup(ctxOf(c), a.db)
	if err != nil {
		return err
	}
	if needs {
		return a.redirect(c, "/setup")
	}
	notice := ""
	switch c.QueryParam("m") {
	case "expired":
		notice = tr(c, "login.expired")
	case "signed_out":
		notice = tr(c, "login.signed_out")
	case "required":
		notice = tr(c, "login.required")
	}
	return a.render(c, http.StatusOK, views.LoginPage(views.NewForm(nil, nil), safeNext(c.QueryParam("next")), notice, ""))
}

func (a *App) login(c echo.Context) error {
	email, password, next := c.FormValue("email"), c.FormValue("password"), safeNext(c.FormValue("next"))
	form := views.NewForm(map[string]string{"email": email}, nil)
	res, err := models.SignIn(ctxOf(c), a.db, models.LoginAttempt{Email: email, Password: password, IP: c.RealIP(), Device: deviceToken(c)}, a.loginLimits)
	var rl *models.RateLimitedError
	switch {
	case errors.As(err, &rl):
		minutes := int(math.Ceil(rl.RetryAfter.Minutes()))
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(rl.RetryAfter.Seconds()))))
		msg := "login.rate_limited"
		if rl.Scope == models.LimitAccount {
			msg = "login.rate_limited_account"
		}
		return a.render(c, http.StatusTooManyRequests, views.LoginPage(form, next, "", tr(c, msg, map[string]any{"Count": minutes})))
	case errors.Is(err, models.ErrInvalidCredentials):
		return a.render(c, http.StatusUnprocessableEntity, views.LoginPage(form, next, "", tr(c, "login.invalid")))
	case err != nil:
		return err
	}
	if err := a.startSession(c, res.User); err != nil {
		return err
	}
	a.setDeviceCookie(c, res.Device)
	return a.redirect(c, next)
}

// startSession signs u in on this browser.
func (a *App) startSession(c echo.Context, u *models.User) error {
	token, _, err := models.CreateSession(ctxOf(c), a.db, u.ID, models.SessionOpts{
		TTL: a.cfg.SessionTTL, UserAgent: userAgent(c), IP: c.RealIP(),
	})
	if err != nil {
		return err
	}
	a.setSessionCookie(c, token)
	reqLog(c).Info("signed in", "user_id", u.ID)
	return nil
}

func (a *App) logout(c echo.Context) error {
	if ck, err := c.Request().Cookie(sessionCookie); err == nil {
		if err := a.write(ctxOf(c), func(tx models.Tx) error {
			return models.DeleteSession(ctxOf(c), tx, ck.Value)
		}); err != nil {
			return err
		}
	}
	a.clearCookie(c, sessionCookie)
	return a.redirect(c, "/login?m=signed_out")
}
