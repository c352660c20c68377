package app

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// setAvailability sets the agent's own availability (online or away) from
// the desk header: away agents are not auto-assigned; coming online takes
// what waits in their teams' queues. Their teammates' rosters hear of it
// through the stream.
func (a *App) setAvailability(c echo.Context) error {
	u := currentUser(c)
	if !models.IsSupportAgent(u) {
		return errForbidden
	}
	if err := a.write(ctxOf(c), func(tx models.Tx) error {
		return models.SetAvailability(ctxOf(c), tx, u, c.FormValue("availability"))
	}); err != nil {
		return err
	}
	if views.Req(ctxOf(c)).Fragment {
		return a.render(c, http.StatusOK, views.AvailabilityControl(u.Availability, false))
	}
	return a.redirect(c, back(c, "/"))
}
