package app

import (
	"context"

	"github.com/a-h/templ"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// renderNotifications keeps the viewer's bell live: for their own
// notification events (and their reads, which read notifications too) the
// new unread count; for each new notification an alert (desk.js chimes and
// shows a desktop notification) and, on the notifications page, the entry at
// the top of the list. Nobody else's notifications are ever looked at: a
// broadcast (a new customer conversation) is rendered as the viewer's own
// entry of it.
func (v *deskViewer) renderNotifications(ctx context.Context, evs []models.Event, add func(templ.Component) error) error {
	u := v.user
	var ids []int64
	replaces := map[int64]int64{}
	changed := false
	for _, e := range evs {
		if n, ok := e.Data.(models.NotificationEvent); ok && n.Broadcast && e.UserID == nil {
			// One event for every support agent: the viewer's own entry,
			// if they are one (NotificationsByID checks the rest).
			if models.IsSupportAgent(u) {
				changed = true
				ids = append(ids, models.BroadcastEntryID(n.ID, u.ID))
			}
			continue
		}
		if e.UserID == nil || *e.UserID != u.ID {
			continue
		}
		switch e.Kind {
		case models.EventNotification:
			changed = true
			if n, ok := e.Data.(models.NotificationEvent); ok && n.ID != 0 {
				ids = append(ids, n.ID)
				replaces[n.ID] = n.Replaces
			}
		case models.EventRead:
			changed = true
		}
	}
	if !changed {
		return nil
	}
	n, err := models.CountUnreadNotifications(ctx, v.a.db, u)
	if err != nil {
		return err
	}
	if err := add(views.NotificationCount(n, true)); err != nil {
		return err
	}
	list, err := models.NotificationsByID(ctx, v.a.db, u, ids)
	if err != nil {
		return err
	}
	// Oldest first: prepended one after another, the newest ends on top.
	for i := len(list) - 1; i >= 0; i-- {
		nt := &list[i]
		if !nt.Unread() {
			continue // read meanwhile (in a replay, say): no alert
		}
		if err := add(views.NotificationArrived(nt, replaces[nt.ID], v.view == "notifications", u.NotifySound)); err != nil {
			return err
		}
	}
	return nil
}
