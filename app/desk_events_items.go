package app

import (
	"context"
	"errors"

	"github.com/a-h/templ"

	"github.com/parleydesk/parley/app/live"
	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// renderItems keeps item panels and pages live: the open conversation's
// items section when one of its items changed (or was linked or unlinked:
// the whole section, so every linked item shows), and
// the open item page when that item changed. System lines about items
// reach threads as ordinary message events.
func (v *deskViewer) renderItems(ctx context.Context, b *live.Batch, evs []models.Event, add func(templ.Component) error) error {
	var conv *models.Conversation
	page := false
	for _, e := range evs {
		if e.Kind != models.EventItem || e.ItemID == nil {
			continue
		}
		switch {
		case e.ConversationID != nil && v.conv != "":
			if c := b.Conversations[*e.ConversationID]; c != nil && c.PublicID == v.conv {
				conv = c
			}
		case e.ConversationID == nil && v.item != 0 && *e.ItemID == v.item:
			// Someone else's follow changes nothing on this viewer's page.
			if e.UserID == nil || *e.UserID == v.user.ID {
				page = true
			}
		}
	}
	if models.CanSeeConversation(v.user, conv, true) {
		items, err := models.ConversationItems(ctx, v.a.db, v.user, conv, nil)
		if err != nil {
			return err
		}
		if err := add(views.ConvItemSection(conv, items, true)); err != nil {
			return err
		}
	}
	if page {
		iv, err := models.OpenItemByID(ctx, v.a.db, v.user, v.item)
		if errors.Is(err, models.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		for _, c := range []templ.Component{
			views.ItemHeading(iv.Item, true),
			views.ItemFollow(iv.Item, iv.Following, true),
			views.ItemDetails(&models.ItemPanel{Item: iv.Item, Following: iv.Following, Teams: iv.Teams}, views.NewForm(nil, nil), true),
			views.ItemConversations(iv.Item, iv.Conversations, true),
			views.ItemActivityList(iv.Item, iv.Activities, true),
		} {
			if err := add(c); err != nil {
				return err
			}
		}
	}
	return nil
}
