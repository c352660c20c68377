package models

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// SetItemFollowing makes u follow item (its conversations then show in
// their My conversations) or stop following it.
func SetItemFollowing(ctx context.Context, t Tx, u *User, item *Item, follow bool) error {
	if !CanSeeItems(u, item.Kind) {
		return ErrNotFound
	}
	err := t.run(ctx, func(tx *gorm.DB) error {
		var res *gorm.DB
		if follow {
			res = tx.Exec("INSERT INTO item_followers (item_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING", item.ID, u.ID)
		} else {
			res = tx.Exec("DELETE FROM item_followers WHERE item_id = ? AND user_id = ?", item.ID, u.ID)
		}
		if res.Error != nil {
			return fmt.Errorf("set item following: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return nil
		}
		if err := syncItemInvolvement(tx, item.ID); err != nil {
			return err
		}
		if err := appendEvent(t, Event{ItemID: &item.ID, UserID: &u.ID, Data: ItemEvent{Following: &follow}}); err != nil {
			return err
		}
		// The linked conversations move in or out of u's My conversations.
		convs, err := linkedConversations(tx, item.ID)
		if err != nil {
			return err
		}
		for i := range convs {
			if err := appendEvent(t, Event{ConversationID: &convs[i].ID, UserID: &u.ID, Data: ConversationEvent{ItemFollowing: &follow}}); err != nil {
				return err
			}
		}
		return nil
	})
	return wrapUnlessDomain(err, "follow item %d", item.ID)
}
