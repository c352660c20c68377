package app

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

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
