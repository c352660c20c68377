package models

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// Ending abandoned remote-support sessions (jobs.ReapMediaWorker runs this
// periodically). Two kinds of abandonment:
//
//   - a request (a call ringing, a screen-sharing or co-browsing request)
//     nobody answered within ReapOpts.Ring: ended with reason no_answer,
//     a "missed call" line for a call;
//   - a running session no browser has shown a sign of life in for
//     ReapOpts.Idle: ended with reason abandoned. The sign of life of a
//     media session is rtc_sessions.alive_at: set when it is answered,
//     started, joined, at every signal, and by the heartbeat each browser
//     sends (MediaAlive, every ~30 s) while at least one of its peer
//     connections is connected; so it grows old only when every
//     participant's connection is down (or every page is gone). For
//     co-browsing it is cobrowse_sessions.alive_at, set by each chunk the
//     recorder posts (it posts a keep-alive event every 30 s on a quiet
//     page).
//
// The end is the manual one's: the same state, status line (by_system
// instead of an actor) and event, so every open desk and widget follows,
// and co-browsing's chunks are purged by the follow-up job. Exactly once:
// candidates are locked with SKIP LOCKED and re-checked under the lock, so
// two reapers running at once (two instances, a slow run overlapping the
// next) end each session once between them.

// Reasons of the reaper's ends (added to rtcReasons).
const (
	ReasonNoAnswer  = "no_answer"
	ReasonAbandoned = "abandoned"
)

// ReapOpts are the reaper's limits.
type ReapOpts struct {
	// Ring is how long a request may ring unanswered.
	Ring time.Duration
	// Idle is how long a running session may go without a sign of life.
	Idle time.Duration
	// Limit caps how many sessions one call ends (of each kind).
	Limit int
}

// Reaper defaults (jobs.ReapMediaWorker).
const (
	DefaultRingTimeout = 60 * time.Second
	DefaultIdleTimeout = 2 * time.Minute
)

// Reaped counts what one ReapAbandoned call ended.
type Reaped struct {
	Missed, Abandoned, Cobrowse int
}

// Total is the number of sessions ended.
func (r Reaped) Total() int { return r.Missed + r.Abandoned + r.Cobrowse }

// ReapAbandoned ends, in t, the media and co-browsing sessions abandoned as
// of now (see above).
func ReapAbandoned(ctx context.Context, t Tx, now time.Time, o ReapOpts) (Reaped, error) {
	if o.Limit <= 0 {
		o.Limit = 100
	}
	var r Reaped
	err := t.run(ctx, func(tx *gorm.DB) error {
		var rows []RTCSession
		err := tx.Raw(`SELECT * FROM rtc_sessions
			WHERE (state = 'requested' AND created_at < @ring) OR (state IN ('accepted', 'started') AND alive_at < @idle)
			ORDER BY id LIMIT @limit FOR UPDATE SKIP LOCKED`,
			map[string]any{"ring": now.Add(-o.Ring), "idle": now.Add(-o.Idle), "limit": o.Limit}).Scan(&rows).Error
		if err != nil {
			return err
		}
		for i := range rows {
			s := &rows[i]
			reason := ReasonAbandoned
			if s.State == RTCRequested {
				reason = ReasonNoAnswer
			}
			var conv Conversation
			if err := tx.Select("id", "kind", "public_id").Take(&conv, s.ConversationID).Error; err != nil {
				return err
			}
			// The lock is held: the state checked above still holds.
			if err := endLockedMedia(t, tx, &conv, s, MediaActor{}, reason); err != nil {
				return err
			}
			if reason == ReasonNoAnswer {
				r.Missed++
			} else {
				r.Abandoned++
			}
		}

		var cs []CobrowseSession
		err = tx.Raw(`SELECT * FROM cobrowse_sessions
			WHERE (state = 'requested' AND created_at < @ring) OR (state = 'active' AND alive_at < @idle)
			ORDER BY id LIMIT @limit FOR UPDATE SKIP LOCKED`,
			map[string]any{"ring": now.Add(-o.Ring), "idle": now.Add(-o.Idle), "limit": o.Limit}).Scan(&cs).Error
		if err != nil {
			return err
		}
		for i := range cs {
			s := &cs[i]
			reason := ReasonAbandoned
			if s.State == CobrowseRequested {
				reason = ReasonNoAnswer
			}
			conv := Conversation{ID: s.ConversationID}
			if err := endLockedCobrowse(t, tx, &conv, s, "system", JSONMap{"session": s.PublicID, "reason": reason, "by_system": true}); err != nil {
				return err
			}
			r.Cobrowse++
		}
		return nil
	})
	if err != nil {
		return Reaped{}, wrapUnlessDomain(err, "end abandoned remote-support sessions")
	}
	return r, nil
}
