package models_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// eventRowsExamined runs fn in a transaction and returns how many rows of
// the events table it read (PostgreSQL's per-transaction counters:
// sequential reads plus rows fetched through indexes, filtered or not).
func eventRowsExamined(t *testing.T, db *gorm.DB, fn func(tx *gorm.DB)) int64 {
	t.Helper()
	// The backend's pending counters may still hold earlier transactions'
	// reads (they are flushed at most once a second, never mid-transaction):
	// take the difference across fn.
	var before, after int64
	read := func(tx *gorm.DB, n *int64) error {
		return tx.Raw(`SELECT COALESCE(seq_tup_read, 0) + COALESCE(idx_tup_fetch, 0)
			FROM pg_stat_xact_user_tables WHERE relname = 'events'`).Scan(n).Error
	}
	require.NoError(t, db.Transaction(func(tx *gorm.DB) error {
		if err := read(tx, &before); err != nil {
			return err
		}
		fn(tx)
		return read(tx, &after)
	}))
	return after - before
}

func horizon(t *testing.T, db *gorm.DB) uint64 {
	t.Helper()
	h, err := models.CommittedHorizon(context.Background(), db)
	require.NoError(t, err)
	return h.XID
}

// A visitor's resume point replays its own customer's events and the
// desk-wide ones only, reading no other customer's events however many
// there are; staff replays and stale resume points are bounded.
func TestReplayEventsScopedToCustomerAndBounded(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	from := horizon(t, db)

	// Other customers' busy conversations: thousands of events.
	const others = 5000
	var otherConvs []int64
	for range 3 {
		_, v, err := models.CreateVisitor(ctx, db)
		require.NoError(t, err)
		conv, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
			return models.StartCustomerConversation(ctx, tx, v.Customer, "someone else's", models.SessionInfo{})
		})
		require.NoError(t, err)
		otherConvs = append(otherConvs, conv.ID)
	}
	require.NoError(t, db.Exec(`INSERT INTO events (kind, conversation_id)
		SELECT 'conversation', (ARRAY[?, ?, ?]::bigint[])[1 + g % 3] FROM generate_series(1, ?) g`,
		otherConvs[0], otherConvs[1], otherConvs[2], others).Error)

	// Our visitor: one conversation with two messages, and the desk going offline.
	_, me, err := models.CreateVisitor(ctx, db)
	require.NoError(t, err)
	mine, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartCustomerConversation(ctx, tx, me.Customer, "my question", models.SessionInfo{})
	})
	require.NoError(t, err)
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{Customer: me.Customer}, mine, models.MessageText, "more")
	})
	require.NoError(t, err)
	require.NoError(t, factory.Write(db, func(tx models.Tx) error {
		return models.AppendEvent(tx, models.Event{Data: models.DeskStatusEvent{}})
	}))
	require.NoError(t, db.Exec("ANALYZE events").Error)
	to := horizon(t, db)

	var own []int64
	require.NoError(t, db.Raw("SELECT id FROM events WHERE conversation_id = ? OR kind = 'desk_status' ORDER BY id", mine.ID).Scan(&own).Error)
	require.GreaterOrEqual(t, len(own), 3)

	limits := models.ReplayLimits{MaxAge: time.Hour, MaxEvents: 1000}
	var got []models.Event
	examined := eventRowsExamined(t, db, func(tx *gorm.DB) {
		got, err = models.ReplayEvents(ctx, tx, 1, to, models.ReplayScope{CustomerID: me.CustomerID}, limits)
		require.NoError(t, err)
	})
	var ids []int64
	for _, e := range got {
		ids = append(ids, e.ID)
	}
	require.Equal(t, own, ids, "exactly the customer's own and the desk-wide events, in order")
	// The planner's probes of the xid range's endpoints fetch a few rows
	// per query; anything near the others' thousands would be a scan.
	const planning = 16
	require.LessOrEqual(t, examined, int64(len(own)+planning), "no other customer's event is read")

	// The measure does see a scan of the log: the unscoped read examines it all.
	require.Greater(t, eventRowsExamined(t, db, func(tx *gorm.DB) {
		_, err := models.EventsBetween(ctx, tx, from, to)
		require.NoError(t, err)
	}), int64(others))

	// Staff streams replay everything, but never more than MaxEvents: a
	// resume point that far back is a reload.
	_, err = models.ReplayEvents(ctx, db, 1, to, models.ReplayScope{}, limits)
	require.ErrorIs(t, err, models.ErrResumeTooFar)
	got, err = models.ReplayEvents(ctx, db, 1, to, models.ReplayScope{}, models.ReplayLimits{MaxAge: time.Hour, MaxEvents: 2 * others})
	require.NoError(t, err)
	require.Greater(t, len(got), others)

	// Older than MaxAge: a reload rather than hours of replay, decided from
	// the first event after the resume point (a staff stream) or among the
	// customer's own (a visitor's).
	require.NoError(t, db.Exec("UPDATE events SET created_at = now() - interval '2 hours' WHERE xid < (SELECT xid FROM events WHERE id = ?)", own[0]).Error)
	examined = eventRowsExamined(t, db, func(tx *gorm.DB) {
		_, err = models.ReplayEvents(ctx, tx, 1, to, models.ReplayScope{}, limits)
	})
	require.ErrorIs(t, err, models.ErrResumeTooFar)
	require.LessOrEqual(t, examined, int64(planning), "a stale staff resume point reads next to nothing")
	_, err = models.ReplayEvents(ctx, db, 1, to, models.ReplayScope{CustomerID: me.CustomerID}, limits)
	require.NoError(t, err, "the visitor's own events are all recent")
	require.NoError(t, db.Exec("UPDATE events SET created_at = now() - interval '2 hours' WHERE id = ?", own[0]).Error)
	_, err = models.ReplayEvents(ctx, db, 1, to, models.ReplayScope{CustomerID: me.CustomerID}, limits)
	require.ErrorIs(t, err, models.ErrResumeTooFar)
}

// A resume point from the future, or from before the pruned part of the
// log, is refused.
func TestCheckResumePoint(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	now := horizon(t, db)
	require.NoError(t, models.CheckResumePoint(ctx, db, now))
	require.ErrorIs(t, models.CheckResumePoint(ctx, db, now+1_000_000), models.ErrResumeTooFar)
	require.NoError(t, db.Exec("UPDATE events_pruned SET before_xid = ?", now).Error)
	require.ErrorIs(t, models.CheckResumePoint(ctx, db, now-1), models.ErrResumeTooFar)
	require.NoError(t, models.CheckResumePoint(ctx, db, now))
}
