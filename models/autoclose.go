package models

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// MaxAutoCloseMinutes bounds the auto-close delay: one year.
const MaxAutoCloseMinutes = 525600

// AutoCloseInput is the admin's auto-close form: an amount of minutes or
// hours; an empty amount turns auto-close off.
type AutoCloseInput struct {
	Amount string
	Unit   string // "minutes" or "hours"
}

// AutoCloseAfter is the auto-close delay of s, or 0 when it is off.
func (s *DeskSettings) AutoCloseAfter() time.Duration {
	if s.AutoCloseAfterMinutes == nil {
		return 0
	}
	return time.Duration(*s.AutoCloseAfterMinutes) * time.Minute
}

// SetAutoClose validates and stores the auto-close delay.
func SetAutoClose(ctx context.Context, db *gorm.DB, in AutoCloseInput) error {
	var minutes *int
	if amount := strings.TrimSpace(in.Amount); amount != "" {
		n, err := strconv.Atoi(amount)
		per := 1
		switch in.Unit {
		case "minutes":
		case "hours":
			per = 60
		default:
			return Invalid("auto_close_unit", "auto_close_unit_invalid", nil)
		}
		if err != nil || n < 1 || n > MaxAutoCloseMinutes/per {
			return Invalid("auto_close_amount", "auto_close_range", map[string]any{"Max": MaxAutoCloseMinutes / per})
		}
		n *= per
		minutes = &n
	}
	err := db.WithContext(ctx).Exec("UPDATE desk_settings SET auto_close_after_minutes = ?, updated_at = now() WHERE id = 1", minutes).Error
	if err != nil {
		return fmt.Errorf("set auto-close: %w", err)
	}
	return nil
}

// AutoCloseIdle closes up to limit open customer conversations that wait on
// the customer (the last public message is the team's) and in which nothing
// happened (no message, note, status or assignment change) for after, as of
// now, each with an auto_closed status line the customer sees too, and the
// events open desks and widgets need. It returns how many it closed; call it
// again while that is limit.
//
// A conversation whose last public message is the customer's is never
// closed, however long it waits: that is an unanswered question, not a
// finished chat. Notes and status lines do not count as answers. The rule
// reads conversations.waiting_since, which insertMessage sets on a
// customer's message and clears on an agent's (notes and status lines leave
// it), so the scan stays on one partial index (conversations_idle_idx) and
// is re-checked under the row lock like the rest of the condition.
//
// Rows are taken with FOR NO KEY UPDATE SKIP LOCKED and re-checked under
// the lock, so concurrent runs (several instances, a retried job) never
// close one twice, and a conversation someone is writing in right now (a
// post locks it FOR UPDATE) is left for the next run. NO KEY: rows merely
// referencing the conversation (a notification, an event being inserted
// hold FOR KEY SHARE) do not make it skip.
// A customer's next message reopens it, as for any closed conversation.
func AutoCloseIdle(ctx context.Context, t Tx, now time.Time, after time.Duration, limit int) (int, error) {
	if after <= 0 || limit <= 0 {
		return 0, nil
	}
	var n int
	err := t.run(ctx, func(tx *gorm.DB) error {
		var ids []int64
		err := tx.Raw(`
			SELECT id FROM conversations
			WHERE kind = 'customer' AND status = 'open' AND waiting_since IS NULL AND updated_at < ?
			ORDER BY updated_at
			LIMIT ?
			FOR NO KEY UPDATE SKIP LOCKED`, now.Add(-after), limit).Scan(&ids).Error
		if err != nil {
			return err
		}
		minutes := int(after / time.Minute)
		for _, id := range ids {
			if err := tx.Exec("UPDATE conversations SET status = 'closed', closed_at = now(), updated_at = now() WHERE id = ?", id).Error; err != nil {
				return err
			}
			conv := &Conversation{ID: id, Status: StatusClosed}
			if _, err := insertSystemLine(t, conv, SysAutoClosed, JSONMap{"minutes": minutes}); err != nil {
				return err
			}
			if err := appendEvent(t, Event{ConversationID: &conv.ID, Data: ConversationEvent{Status: StatusClosed}}); err != nil {
				return err
			}
		}
		n = len(ids)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("auto-close idle conversations: %w", err)
	}
	return n, nil
}

// SetTypingPreview turns on or off the preview of the customer's draft that
// agents see while the customer types. The widget reads it when its frame
// loads and sends no draft while it is off; the server drops any draft it
// receives while off.
func SetTypingPreview(ctx context.Context, db *gorm.DB, on bool) error {
	err := db.WithContext(ctx).Exec("UPDATE desk_settings SET typing_preview = ?, updated_at = now() WHERE id = 1", on).Error
	if err != nil {
		return fmt.Errorf("set typing preview: %w", err)
	}
	return nil
}
