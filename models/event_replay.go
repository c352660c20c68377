package models

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"gorm.io/gorm"
)

// ErrResumeTooFar is returned for a resume point a stream must not replay
// from: events it would need were pruned, it lies in the future, or the
// replay would be older or longer than ReplayLimits allow. The client
// reloads its page instead, which costs one page render rather than a scan.
var ErrResumeTooFar = errors.New("resume point out of bounds")

// ReplayLimits bound what a reconnecting stream may replay. A client that
// was away longer, or missed more, reloads its page.
type ReplayLimits struct {
	MaxAge    time.Duration // the oldest event a replay may include
	MaxEvents int           // the most events a replay may include
}

// DefaultReplayLimits cover a dropped connection, a proxy restart or a
// laptop lid closed for a few minutes (5,000 events is about a minute of a
// very busy desk); anything longer is a reload, one page render.
var DefaultReplayLimits = ReplayLimits{MaxAge: 10 * time.Minute, MaxEvents: 5000}

// ReplayScope says whose events a replay reads.
type ReplayScope struct {
	// CustomerID 0 is a staff stream: every event (its render decides what
	// the viewer may see). Otherwise only the events of that customer's
	// conversations and the desk-wide ones (online switch, settings): what a
	// visitor's stream could have received live, read through indexes on
	// those rows alone, so a visitor's resume point never makes the server
	// read other customers' events.
	CustomerID int64
}

// CheckResumePoint refuses a resume point that lies before the pruned part
// of the log or after the newest transaction id the database has handed
// out (nobody can have been sent a position from the future).
func CheckResumePoint(ctx context.Context, db *gorm.DB, since uint64) error {
	var row struct {
		Pruned int64
		Next   string
	}
	err := db.WithContext(ctx).Raw(`
		SELECT (SELECT before_xid FROM events_pruned WHERE id = 1) AS pruned,
		       pg_snapshot_xmax(pg_current_snapshot())::text AS next`).Scan(&row).Error
	if err != nil {
		return fmt.Errorf("check resume point: %w", err)
	}
	next, err := strconv.ParseUint(row.Next, 10, 64)
	if err != nil {
		return fmt.Errorf("check resume point: %w", err)
	}
	if since < uint64(row.Pruned) || since > next {
		return ErrResumeTooFar
	}
	return nil
}

// ReplayEvents returns the events of scope written by transactions with ids
// in [from, to), in id order, or ErrResumeTooFar when they exceed limits. It
// reads at most limits.MaxEvents+1 rows of the scope, whatever the range.
func ReplayEvents(ctx context.Context, db *gorm.DB, from, to uint64, scope ReplayScope, limits ReplayLimits) ([]Event, error) {
	if from >= to {
		return nil, nil
	}
	db = db.WithContext(ctx)
	f, t, n := strconv.FormatUint(from, 10), strconv.FormatUint(to, 10), limits.MaxEvents+1
	const cols = eventColumns
	var evs []Event
	if scope.CustomerID == 0 {
		// A resume point from long ago is found stale from the first event
		// after it (one probe of the xid index) before anything is read.
		var first []time.Time
		err := db.Raw(`SELECT created_at FROM events WHERE xid >= ?::text::xid8 AND xid < ?::text::xid8
			ORDER BY xid LIMIT 1`, f, t).Scan(&first).Error
		if err != nil {
			return nil, fmt.Errorf("replay events: %w", err)
		}
		if len(first) > 0 && first[0].Before(time.Now().Add(-limits.MaxAge)) {
			return nil, ErrResumeTooFar
		}
		evs, err = scanEvents(db.Raw(`SELECT `+cols+` FROM events
			WHERE xid >= ?::text::xid8 AND xid < ?::text::xid8
			ORDER BY xid LIMIT ?`, f, t, n))
		if err != nil {
			return nil, fmt.Errorf("replay events: %w", err)
		}
	} else {
		// The customer's conversations first (conversations_customer_idx),
		// then each one's range of events_conversation_xid_idx; the desk-wide
		// events through their partial index. No ORDER BY: sorting the scope
		// would invite the planner to walk the whole log by xid instead.
		var convIDs []int64
		if err := db.Raw("SELECT id FROM conversations WHERE customer_id = ?", scope.CustomerID).Scan(&convIDs).Error; err != nil {
			return nil, fmt.Errorf("replay events: %w", err)
		}
		if len(convIDs) > 0 {
			var err error
			evs, err = scanEvents(db.Raw(`SELECT `+cols+` FROM events
				WHERE conversation_id IN ? AND xid >= ?::text::xid8 AND xid < ?::text::xid8
				LIMIT ?`, convIDs, f, t, n))
			if err != nil {
				return nil, fmt.Errorf("replay events: %w", err)
			}
		}
		wide, err := scanEvents(db.Raw(`SELECT `+cols+` FROM events
			WHERE kind IN ('desk_status', 'settings') AND xid >= ?::text::xid8 AND xid < ?::text::xid8
			LIMIT ?`, f, t, n))
		if err != nil {
			return nil, fmt.Errorf("replay events: %w", err)
		}
		evs = append(evs, wide...)
	}
	if len(evs) > limits.MaxEvents {
		return nil, ErrResumeTooFar
	}
	oldest := time.Now().Add(-limits.MaxAge)
	for _, e := range evs {
		if e.CreatedAt.Before(oldest) {
			return nil, ErrResumeTooFar
		}
	}
	slices.SortFunc(evs, func(a, b Event) int { return cmp.Compare(a.ID, b.ID) })
	return evs, nil
}
