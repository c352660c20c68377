package app

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// withDesk prepares what every full staff page shows of the desk: unread
// counts, the online switch, and the resume position of the page's live
// stream. The position is taken before the handler reads anything, so the
// stream replays whatever changes after. Fragments and streams need none of
// it; a form post may still render a full page (a 422), so it gets it too.
func (a *App) withDesk(c echo.Context) error {
	req := c.Request()
	if req.Method == http.MethodHead || views.Req(req.Context()).Fragment || req.Header.Get("Accept") == "text/event-stream" {
		return nil
	}
	// The cursor is taken before the handler reads anything; the navigation
	// counts are loaded only if a full page is rendered (see loadDeskNav), so
	// form posts that redirect don't pay for them.
	c.SetRequest(req.WithContext(views.WithDesk(req.Context(), &views.Desk{Cursor: a.rt.Cursor()})))
	return nil
}

// loadDeskNav fills in the navigation counts of a full staff page about to
// be rendered.
func (a *App) loadDeskNav(c echo.Context) error {
	d := views.DeskOf(ctxOf(c))
	u := currentUser(c)
	if d == nil || d.NavLoaded || u == nil || views.Req(ctxOf(c)).Fragment {
		return nil
	}
	nav, err := models.DeskNav(ctxOf(c), a.db, u)
	if err != nil {
		return err
	}
	d.Nav, d.NavLoaded = nav, true
	return nil
}

// liveView tells the page's stream which list and conversation to keep live.
func liveView(c echo.Context, params models.StreamParams) {
	if d := views.DeskOf(ctxOf(c)); d != nil {
		d.Stream = params
	}
}

// back returns to the page the request came from (same site only), or to
// fallback.
func back(c echo.Context, fallback string) string {
	if ref, err := url.Parse(c.Request().Referer()); err == nil && ref.Host == c.Request().Host && ref.Path != "" {
		return safeNext(ref.RequestURI())
	}
	return fallback
}

// deskUnread answers the counts request of a desk page (sent once it has
// loaded): the navigation's unread badges and the tab title's count, as
// out-of-band fragments. The live stream keeps them current afterwards.
func (a *App) deskUnread(c echo.Context) error {
	u := currentUser(c)
	s, err := models.CountUnread(ctxOf(c), a.db, u)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return a.render(c, http.StatusOK, views.UnreadCounts(u, s))
}

// setDeskStatus flips the desk's online switch; every open desk and widget
// hears of it through the stream. Only admins and support agents may
// (models.CanSwitchDesk), and only once asked: the switch's htmx request
// carries confirmed=1 after its dialog; a plain form post gets a page that
// asks first.
func (a *App) setDeskStatus(c echo.Context) error {
	if !models.CanSwitchDesk(currentUser(c)) {
		return errForbidden
	}
	online := c.FormValue("online") == "true"
	next := back(c, "/")
	if n := c.FormValue("next"); n != "" {
		next = safeNext(n)
	}
	if c.FormValue("confirmed") != "1" {
		return a.render(c, http.StatusOK, views.DeskStatusConfirm(online, next))
	}
	err := a.write(ctxOf(c), func(tx models.Tx) error {
		return models.SetOnline(ctxOf(c), tx, currentUser(c).ID, online)
	})
	if errors.Is(err, models.ErrNotAllowed) {
		return errForbidden
	}
	if err != nil {
		return err
	}
	msg := "desk.switched_offline"
	if online {
		msg = "desk.switched_online"
	}
	a.toast(c, "success", tr(c, msg))
	if views.Req(ctxOf(c)).Fragment {
		return a.render(c, http.StatusOK, views.OnlineSwitch(online, false))
	}
	return a.redirect(c, next)
}

// setNotifySound mutes or unmutes the user's new-conversation chime.
func (a *App) setNotifySound(c echo.Context) error {
	u := currentUser(c)
	on := c.FormValue("on") == "true"
	if err := models.SetNotifySound(ctxOf(c), a.db, u.ID, on); err != nil {
		return err
	}
	msg := "desk.sound_saved_off"
	if on {
		msg = "desk.sound_saved_on"
	}
	a.toast(c, "success", tr(c, msg))
	if views.Req(ctxOf(c)).Fragment {
		return a.render(c, http.StatusOK, views.SoundToggle(on, false))
	}
	return a.redirect(c, back(c, "/account"))
}
