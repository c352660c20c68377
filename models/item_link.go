package models

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// lockLinkable locks a conversation about to be linked; one that already
// has an item is a validation problem.
func lockLinkable(tx *gorm.DB, v *ValidationError, convID int64) (*Conversation, error) {
	var conv Conversation
	if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Omit(clause.Associations).Take(&conv, convID).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("lock conversation: %w", err)
	}
	if conv.ItemID != nil {
		v.Add("conversation", "item_conversation_linked", nil)
	}
	return &conv, nil
}

// addActivity records one change of item by u in its history.
func addActivity(tx *gorm.DB, item *Item, u *User, field, oldValue, newValue string) error {
	err := tx.Exec("INSERT INTO item_activities (item_id, actor_id, actor_name, field, old_value, new_value) VALUES (?, ?, ?, ?, ?, ?)",
		item.ID, u.ID, u.Name, field, oldValue, newValue).Error
	if err != nil {
		return fmt.Errorf("item activity: %w", err)
	}
	return nil
}

// link attaches conv (locked, without an item) to item, with a status line
// in the conversation: a customer sees that their request is now a ticket.
func link(t Tx, u *User, item *Item, conv *Conversation) error {
	tx := t.db
	if err := tx.Exec("UPDATE conversations SET item_id = ?, updated_at = now() WHERE id = ?", item.ID, conv.ID).Error; err != nil {
		return fmt.Errorf("link conversation: %w", err)
	}
	conv.ItemID = &item.ID
	if err := syncItemInvolvement(tx, item.ID); err != nil {
		return err
	}
	event := SysItemLinked
	if item.Kind == ItemTicket && conv.Kind == KindCustomer {
		event = SysTicketLinked
	}
	if _, err := insertSystemLine(t, conv, event, JSONMap{"by": u.Name, "ref": item.Ref()}); err != nil {
		return err
	}
	if err := addActivity(tx, item, u, "linked", "", conversationLabel(tx, conv)); err != nil {
		return err
	}
	if err := touchItem(tx, item); err != nil {
		return err
	}
	return itemEvents(t, item, []int64{conv.ID}, ItemEvent{Linked: true})
}

// syncItemInvolvement makes the rows of item's linked conversations say who
// is involved in it (assignee, creator, followers): their My conversations
// hold those conversations (conversation_users.via_item). It runs after every
// change of who that is, or of which conversations are linked.
func syncItemInvolvement(tx *gorm.DB, itemID int64) error {
	err := tx.Exec(`
		WITH inv AS (
			SELECT assignee_id AS user_id FROM items WHERE id = @item AND assignee_id IS NOT NULL
			UNION SELECT created_by FROM items WHERE id = @item AND created_by IS NOT NULL
			UNION SELECT user_id FROM item_followers WHERE item_id = @item
		), convs AS (
			SELECT id FROM conversations WHERE item_id = @item
		), cleared AS (
			UPDATE conversation_users SET via_item = false
			WHERE conversation_id IN (SELECT id FROM convs) AND via_item
			  AND user_id NOT IN (SELECT user_id FROM inv)
		)
		INSERT INTO conversation_users (conversation_id, user_id, via_item)
		SELECT convs.id, inv.user_id, true FROM convs, inv
		ON CONFLICT (conversation_id, user_id) DO UPDATE SET via_item = true
		WHERE NOT conversation_users.via_item`, map[string]any{"item": itemID}).Error
	if err != nil {
		return fmt.Errorf("sync item involvement: %w", err)
	}
	return nil
}

// conversationLabel names a conversation in an item's history: its
// customer, or "internal" for a teammates' chat.
func conversationLabel(tx *gorm.DB, conv *Conversation) string {
	if conv.CustomerID == nil {
		return ""
	}
	var c Customer
	if err := tx.Take(&c, *conv.CustomerID).Error; err != nil {
		return ""
	}
	return c.DisplayName()
}

// touchItem moves the item's updated_at (lists sort by it).
func touchItem(tx *gorm.DB, item *Item) error {
	return tx.Raw("UPDATE items SET updated_at = now() WHERE id = ? RETURNING updated_at", item.ID).Scan(&item.UpdatedAt).Error
}

// itemEvents announces a change of item: once for pages showing the item,
// and once per conversation whose panel shows it.
func itemEvents(t Tx, item *Item, convIDs []int64, data ItemEvent) error {
	if err := appendEvent(t, Event{ItemID: &item.ID, Data: data}); err != nil {
		return err
	}
	for _, id := range convIDs {
		if err := appendEvent(t, Event{ItemID: &item.ID, ConversationID: &id, Data: data}); err != nil {
			return err
		}
	}
	return nil
}

// linkedConversations returns the conversations linked to item.
func linkedConversations(tx *gorm.DB, itemID int64) ([]Conversation, error) {
	var cs []Conversation
	err := tx.Omit(clause.Associations).Where("item_id = ?", itemID).Order("id").Find(&cs).Error
	if err != nil {
		return nil, fmt.Errorf("linked conversations: %w", err)
	}
	return cs, nil
}

// LinkConversation links conv to item (both visible to u). A conversation
// has at most one item: one already linked is a validation error.
func LinkConversation(ctx context.Context, t Tx, u *User, item *Item, conv *Conversation) error {
	if !CanSeeItems(u, item.Kind) {
		return ErrNotFound
	}
	err := t.run(ctx, func(tx *gorm.DB) error {
		v := &ValidationError{}
		locked, err := lockLinkable(tx, v, conv.ID)
		if err != nil {
			return err
		}
		if err := v.Err(); err != nil {
			return err
		}
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Omit(clause.Associations).Take(&Item{}, item.ID).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return Invalid("item", "item_unknown", nil)
			}
			return err
		}
		if err := link(t, u, item, locked); err != nil {
			return err
		}
		conv.ItemID = &item.ID
		return nil
	})
	return wrapUnlessDomain(err, "link conversation %d to item %d", conv.ID, item.ID)
}

// UnlinkConversation detaches conv from its item.
func UnlinkConversation(ctx context.Context, t Tx, u *User, conv *Conversation) error {
	err := t.run(ctx, func(tx *gorm.DB) error {
		var locked Conversation
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Omit(clause.Associations).Take(&locked, conv.ID).Error; err != nil {
			return err
		}
		if locked.ItemID == nil {
			return Invalid("conversation", "item_conversation_not_linked", nil)
		}
		var item Item
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Omit(clause.Associations).Take(&item, *locked.ItemID).Error; err != nil {
			return err
		}
		if !CanSeeItems(u, item.Kind) {
			return ErrNotFound
		}
		if err := tx.Exec("UPDATE conversations SET item_id = NULL, updated_at = now() WHERE id = ?", conv.ID).Error; err != nil {
			return err
		}
		conv.ItemID = nil
		if err := tx.Exec("UPDATE conversation_users SET via_item = false WHERE conversation_id = ? AND via_item", conv.ID).Error; err != nil {
			return fmt.Errorf("unlink conversation: %w", err)
		}
		if _, err := insertSystemLine(t, &locked, SysItemUnlinked, JSONMap{"by": u.Name, "ref": item.Ref()}); err != nil {
			return err
		}
		if err := addActivity(tx, &item, u, "unlinked", conversationLabel(tx, &locked), ""); err != nil {
			return err
		}
		if err := touchItem(tx, &item); err != nil {
			return err
		}
		return itemEvents(t, &item, []int64{conv.ID}, ItemEvent{Unlinked: true})
	})
	return wrapUnlessDomain(err, "unlink conversation %d", conv.ID)
}
