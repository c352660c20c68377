package models

import (
	"context"
	"errors"
	"fmt"

	"github.com/lib/pq"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// MaxConversationItems is how many tickets and tasks one conversation may
// be linked to: its side panel shows them all.
const MaxConversationItems = 20

// lockLinkable locks a conversation about to be linked to itemID (0 for an
// item not made yet): a link that exists already, or one past
// MaxConversationItems, is a validation problem. The conversation's row lock
// serialises links to it, so the count holds under concurrent links.
func lockLinkable(tx *gorm.DB, v *ValidationError, convID, itemID int64) (*Conversation, error) {
	var conv Conversation
	if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Omit(clause.Associations).Take(&conv, convID).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("lock conversation: %w", err)
	}
	var st struct {
		Links  int
		Linked bool
	}
	if err := tx.Raw(`SELECT count(*) AS links, COALESCE(bool_or(item_id = ?), false) AS linked
		FROM conversation_items WHERE conversation_id = ?`, itemID, convID).Scan(&st).Error; err != nil {
		return nil, fmt.Errorf("conversation links: %w", err)
	}
	switch {
	case st.Linked:
		v.Add("conversation", "item_conversation_linked", nil)
	case st.Links >= MaxConversationItems:
		v.Add("conversation", "item_conversation_too_many", map[string]any{"Max": MaxConversationItems})
	}
	return &conv, nil
}

// ConversationItemIDs returns the ids of the items conv is linked to, in
// the order they were linked (no access check: callers filter).
func ConversationItemIDs(ctx context.Context, db *gorm.DB, convID int64) ([]int64, error) {
	var ids []int64
	if err := db.WithContext(ctx).Raw("SELECT item_id FROM conversation_items WHERE conversation_id = ? ORDER BY linked_at, item_id",
		convID).Scan(&ids).Error; err != nil {
		return nil, fmt.Errorf("conversation items: %w", err)
	}
	return ids, nil
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

// link attaches conv (locked, not linked to item yet) to item, with a
// status line in the conversation: a customer sees that their request is
// now a ticket.
func link(t Tx, u *User, item *Item, conv *Conversation) error {
	tx := t.db
	if err := tx.Exec("INSERT INTO conversation_items (conversation_id, item_id, linked_by) VALUES (?, ?, ?)", conv.ID, item.ID, u.ID).Error; err != nil {
		return fmt.Errorf("link conversation: %w", err)
	}
	if err := tx.Exec("UPDATE conversations SET updated_at = now() WHERE id = ?", conv.ID).Error; err != nil {
		return fmt.Errorf("link conversation: %w", err)
	}
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

// syncItemInvolvement makes the rows of item's linked conversations (and of
// the conversations in also, just unlinked from it) say who is involved in
// one of their items (assignee, creator, followers): their My conversations
// hold those conversations (conversation_users.via_item). A conversation
// linked to several items keeps a user involved in any of them. It runs
// after every change of who that is, or of which conversations are linked.
func syncItemInvolvement(tx *gorm.DB, itemID int64, also ...int64) error {
	err := tx.Exec(`
		WITH convs AS (
			SELECT conversation_id AS id FROM conversation_items WHERE item_id = @item
			UNION SELECT unnest(CAST(@also AS bigint[]))
		), links AS (
			SELECT l.conversation_id, l.item_id FROM conversation_items l WHERE l.conversation_id IN (SELECT id FROM convs)
		), inv AS (
			SELECT l.conversation_id, i.assignee_id AS user_id FROM links l JOIN items i ON i.id = l.item_id WHERE i.assignee_id IS NOT NULL
			UNION SELECT l.conversation_id, i.created_by FROM links l JOIN items i ON i.id = l.item_id WHERE i.created_by IS NOT NULL
			UNION SELECT l.conversation_id, f.user_id FROM links l JOIN item_followers f ON f.item_id = l.item_id
		), cleared AS (
			UPDATE conversation_users cu SET via_item = false
			WHERE cu.conversation_id IN (SELECT id FROM convs) AND cu.via_item
			  AND NOT EXISTS (SELECT 1 FROM inv WHERE inv.conversation_id = cu.conversation_id AND inv.user_id = cu.user_id)
		)
		INSERT INTO conversation_users (conversation_id, user_id, via_item)
		SELECT conversation_id, user_id, true FROM inv
		ON CONFLICT (conversation_id, user_id) DO UPDATE SET via_item = true
		WHERE NOT conversation_users.via_item`, map[string]any{"item": itemID, "also": pq.Int64Array(also)}).Error
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
	err := tx.Omit(clause.Associations).Where("id IN (SELECT conversation_id FROM conversation_items WHERE item_id = ?)", itemID).
		Order("id").Find(&cs).Error
	if err != nil {
		return nil, fmt.Errorf("linked conversations: %w", err)
	}
	return cs, nil
}

// LinkConversation links conv to item (both visible to u). A conversation
// may have several items (up to MaxConversationItems), each once: linking
// the same pair again is a validation error.
func LinkConversation(ctx context.Context, t Tx, u *User, item *Item, conv *Conversation) error {
	if !CanSeeItems(u, item.Kind) {
		return ErrNotFound
	}
	err := t.run(ctx, func(tx *gorm.DB) error {
		v := &ValidationError{}
		locked, err := lockLinkable(tx, v, conv.ID, item.ID)
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
		return link(t, u, item, locked)
	})
	return wrapUnlessDomain(err, "link conversation %d to item %d", conv.ID, item.ID)
}

// UnlinkConversation detaches conv from item; its other items stay.
func UnlinkConversation(ctx context.Context, t Tx, u *User, conv *Conversation, item *Item) error {
	if !CanSeeItems(u, item.Kind) {
		return ErrNotFound
	}
	err := t.run(ctx, func(tx *gorm.DB) error {
		var locked Conversation
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Omit(clause.Associations).Take(&locked, conv.ID).Error; err != nil {
			return err
		}
		var it Item
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Omit(clause.Associations).Take(&it, item.ID).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return Invalid("item", "item_unknown", nil)
			}
			return err
		}
		if !CanSeeItems(u, it.Kind) {
			return ErrNotFound
		}
		res := tx.Exec("DELETE FROM conversation_items WHERE conversation_id = ? AND item_id = ?", conv.ID, it.ID)
		if res.Error != nil {
			return fmt.Errorf("unlink conversation: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return Invalid("conversation", "item_conversation_not_linked", nil)
		}
		if err := tx.Exec("UPDATE conversations SET updated_at = now() WHERE id = ?", conv.ID).Error; err != nil {
			return fmt.Errorf("unlink conversation: %w", err)
		}
		if err := syncItemInvolvement(tx, it.ID, conv.ID); err != nil {
			return err
		}
		if _, err := insertSystemLine(t, &locked, SysItemUnlinked, JSONMap{"by": u.Name, "ref": it.Ref()}); err != nil {
			return err
		}
		if err := addActivity(tx, &it, u, "unlinked", conversationLabel(tx, &locked), ""); err != nil {
			return err
		}
		if err := touchItem(tx, &it); err != nil {
			return err
		}
		return itemEvents(t, &it, []int64{conv.ID}, ItemEvent{Unlinked: true})
	})
	return wrapUnlessDomain(err, "unlink conversation %d from item %d", conv.ID, item.ID)
}
