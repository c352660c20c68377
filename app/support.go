package app

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// The customer's side of support sessions (sessions.go is the desk's): the
// public support page where the key is typed, and the join link /s/<key>.
// Both open the chat full-page in any browser, like an emailed chat link
// (chat_link.go). Every key tried, valid or not, spends the client IP's
// support-key allowance (WidgetLimits.IPSupportKeys).

// showSupport is the support page: a key to type.
func (a *App) showSupport(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	return a.render(c, http.StatusOK, views.SupportPage("", ""))
}

// joinWithKey redeems the key typed on the support page.
func (a *App) joinWithKey(c echo.Context) error {
	key := c.FormValue("key")
	if len(key) > 32 {
		key = key[:32]
	}
	if ok, retry := a.widgetLimits.ipSupportKeys.allow(c.RealIP()); !ok {
		return a.supportTooMany(c, retry, func(p string) templ.Component { return views.SupportPage(key, p) })
	}
	return a.redeem(c, key, models.ChannelKey, func(status int, problem string) error {
		return a.render(c, status, views.SupportPage(key, problem))
	})
}

// showJoinLink is where a join link lands: a page with one button (GET
// never uses the key: link previews fetch URLs), or why the key is refused.
func (a *App) showJoinLink(c echo.Context) error {
	key := c.Param("key")
	if ok, retry := a.widgetLimits.ipSupportKeys.allow(c.RealIP()); !ok {
		return a.supportTooMany(c, retry, func(p string) templ.Component { return views.SupportJoinPage("", p) })
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	c.Response().Header().Set("Referrer-Policy", "no-referrer")
	if err := models.CheckSupportKey(ctxOf(c), a.db, key, time.Now()); err != nil {
		status, problem, ok := keyProblem(c, err)
		if !ok {
			return err
		}
		return a.render(c, status, views.SupportJoinPage("", problem))
	}
	norm, _ := models.NormalizeSupportKey(key)
	return a.render(c, http.StatusOK, views.SupportJoinPage(norm, ""))
}

// joinWithLink redeems a join link's key.
func (a *App) joinWithLink(c echo.Context) error {
	if ok, retry := a.widgetLimits.ipSupportKeys.allow(c.RealIP()); !ok {
		return a.supportTooMany(c, retry, func(p string) templ.Component { return views.SupportJoinPage("", p) })
	}
	return a.redeem(c, c.Param("key"), models.ChannelLink, func(status int, problem string) error {
		return a.render(c, status, views.SupportJoinPage("", problem))
	})
}

// redeem uses key for this browser and opens the chat, or answers with
// refuse and the reason.
func (a *App) redeem(c echo.Context, key, via string, refuse func(status int, problem string) error) error {
	ua := userAgent(c)
	browser, os := models.ParseUserAgent(ua)
	info := models.SessionInfo{UserAgent: ua, Browser: browser, OS: os, Language: views.Lang(ctxOf(c))}
	var token string
	var conv *models.Conversation
	err := a.write(ctxOf(c), func(tx models.Tx) (err error) {
		token, conv, err = models.RedeemSupportKey(ctxOf(c), tx, key, via, info, time.Now())
		return err
	})
	if err != nil {
		status, problem, ok := keyProblem(c, err)
		if !ok {
			return err
		}
		reqLog(c).Info("support key refused", "ip", c.RealIP(), "reason", err.Error())
		c.Response().Header().Set("Cache-Control", "no-store")
		return refuse(status, problem)
	}
	return openChatPage(c, token, conv)
}

// keyProblem maps a refused key to its status and translated message.
func keyProblem(c echo.Context, err error) (int, string, bool) {
	switch {
	case errors.Is(err, models.ErrKeyWrong):
		return http.StatusNotFound, tr(c, "sessions.key_wrong"), true
	case errors.Is(err, models.ErrKeyExpired):
		return http.StatusGone, tr(c, "sessions.key_expired"), true
	case errors.Is(err, models.ErrKeyUsed):
		return http.StatusGone, tr(c, "sessions.key_used"), true
	}
	return 0, "", false
}

// supportTooMany answers 429 with Retry-After and page saying so.
func (a *App) supportTooMany(c echo.Context, retry time.Duration, page func(problem string) templ.Component) error {
	secs := max(1, int(math.Ceil(retry.Seconds())))
	h := c.Response().Header()
	h.Set("Retry-After", strconv.Itoa(secs))
	h.Set("Cache-Control", "no-store")
	reqLog(c).Info("support keys rate limited", "ip", c.RealIP(), "retry_after", secs)
	return a.render(c, http.StatusTooManyRequests, page(tr(c, "sessions.too_many", map[string]any{"Count": secs})))
}
