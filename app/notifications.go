package app

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

const (
	notificationsPageSize  = 30
	notificationsPanelSize = 8
)

// loadNotifications reads one page of the user's notifications (before: an
// id to page from) and the bell's count.
func (a *App) loadNotifications(c echo.Context, before int64, size int) (views.Notifications, error) {
	u := currentUser(c)
	list, err := models.ListNotifications(ctxOf(c), a.db, u, before, size+1)
	if err != nil {
		return views.Notifications{}, err
	}
	d := views.Notifications{List: list}
	if len(list) > size {
		d.List = list[:size]
		d.Older = d.List[size-1].ID
	}
	if d.Unread, err = models.CountUnreadNotifications(ctxOf(c), a.db, u); err != nil {
		return d, err
	}
	return d, nil
}

// listNotifications is the notifications page (the bell without JavaScript,
// and "See all"); its stream prepends new ones.
func (a *App) listNotifications(c echo.Context) error {
	q, err := models.ParseNotificationsQuery(c.QueryParams())
	if err != nil {
		return err
	}
	before := q.Before
	d, err := a.loadNotifications(c, before, notificationsPageSize)
	if err != nil {
		return err
	}
	if before == 0 {
		liveView(c, models.StreamParams{View: models.ViewNotifications})
	}
	return a.render(c, http.StatusOK, views.NotificationsPage(d))
}

// notificationsPanel is the bell's popover (loaded by notify.js).
func (a *App) notificationsPanel(c echo.Context) error {
	d, err := a.loadNotifications(c, 0, notificationsPanelSize)
	if err != nil {
		return err
	}
	return a.render(c, http.StatusOK, views.NotificationPanel(d))
}

// readNotification marks one notification read; htmx gets the entry back.
func (a *App) readNotification(c echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	u := currentUser(c)
	if err := a.write(ctxOf(c), func(tx models.Tx) error {
		return models.MarkNotificationRead(ctxOf(c), tx, u, id)
	}); err != nil {
		return err
	}
	if !views.Req(ctxOf(c)).Fragment {
		return a.redirect(c, back(c, "/notifications"))
	}
	list, err := models.NotificationsByID(ctxOf(c), a.db, u, []int64{id})
	if err != nil {
		return err
	}
	if len(list) == 0 {
		return c.NoContent(http.StatusOK) // no longer visible to them: the entry goes
	}
	return a.render(c, http.StatusOK, views.NotificationEntry(&list[0], false))
}

// readAllNotifications marks every notification of the user read.
func (a *App) readAllNotifications(c echo.Context) error {
	if err := a.write(ctxOf(c), func(tx models.Tx) error {
		_, err := models.MarkAllNotificationsRead(ctxOf(c), tx, currentUser(c))
		return err
	}); err != nil {
		return err
	}
	a.toast(c, "success", tr(c, "notify.marked_all_read"))
	return a.redirect(c, back(c, "/notifications"))
}
