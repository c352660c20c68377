package app

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

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
