package models

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"
)

// Event kinds written to the event log. Each is the durable record of a
// change that open desks and widgets must hear about.
const (
	EventMessage      = "message"      // a message, note or status line was added (MessageID)
	EventConversation = "conversation" // a conversation was created or changed state/assignee
	EventRead         = "read"         // UserID read a conversation: their unread counts changed
	EventDeskStatus   = "desk_status"  // the desk went online or offline
	EventSettings     = "settings"     // widget settings changed
)

// Event is one row of the event log. It is written in the same transaction as
// the change it announces, so a committed change is never lost to live
// clients and a rolled-back one is never announced.
type Event struct {
	ID             int64
	XID            uint64 `gorm:"column:xid;->"` // assigned by PostgreSQL: the writing transaction's id
	Kind           string
	ConversationID *int64
	MessageID      *int64
	UserID         *int64
	Data           JSONMap `gorm:"type:jsonb"`
	CreatedAt      time.Time
}

// AppendEvent records e inside tx.
func AppendEvent(tx *gorm.DB, e Event) error {
	if e.Data == nil {
		e.Data = JSONMap{}
	}
	err := tx.Exec("INSERT INTO events (kind, conversation_id, message_id, user_id, data) VALUES (?, ?, ?, ?, ?)",
		e.Kind, e.ConversationID, e.MessageID, e.UserID, e.Data).Error
	if err != nil {
		return fmt.Errorf("append %s event: %w", e.Kind, err)
	}
	return nil
}

// CommittedHorizon returns the oldest transaction id still running: every
// event with a smaller xid is committed (or rolled back) for good, and every
// event committed later will have an xid at least this large.
func CommittedHorizon(ctx context.Context, db *gorm.DB) (uint64, error) {
	var s string
	if err := db.WithContext(ctx).Raw("SELECT pg_snapshot_xmin(pg_current_snapshot())::text").Scan(&s).Error; err != nil {
		return 0, fmt.Errorf("read committed horizon: %w", err)
	}
	return strconv.ParseUint(s, 10, 64)
}

// EventsBetween returns the events written by transactions with ids in
// [from, to), in id order. With to = CommittedHorizon, the result is final:
// no event can later appear in that range.
func EventsBetween(ctx context.Context, db *gorm.DB, from, to uint64, limit int) ([]Event, error) {
	var evs []Event
	err := db.WithContext(ctx).Raw(`
		SELECT id, xid::text::bigint AS xid, kind, conversation_id, message_id, user_id, data, created_at
		FROM events
		WHERE xid >= ?::text::xid8 AND xid < ?::text::xid8
		ORDER BY id
		LIMIT ?`, strconv.FormatUint(from, 10), strconv.FormatUint(to, 10), limit).Scan(&evs).Error
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	return evs, nil
}

// OldestEventXID returns the smallest xid still in the log (0 if empty). A
// client resuming from before it has missed events and must reload.
func OldestEventXID(ctx context.Context, db *gorm.DB) (uint64, error) {
	var s *string
	if err := db.WithContext(ctx).Raw("SELECT min(xid)::text FROM events").Scan(&s).Error; err != nil {
		return 0, err
	}
	if s == nil {
		return 0, nil
	}
	return strconv.ParseUint(*s, 10, 64)
}

// PruneEvents deletes events older than keep; resuming clients further behind
// reload their page instead.
func PruneEvents(ctx context.Context, db *gorm.DB, keep time.Duration) (int64, error) {
	res := db.WithContext(ctx).Exec("DELETE FROM events WHERE created_at < now() - make_interval(secs => ?)", keep.Seconds())
	return res.RowsAffected, res.Error
}
