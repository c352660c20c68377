package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/parleydesk/parley/models"
)

// ReapMediaInterval is how often the leader looks for abandoned
// remote-support sessions: a missed call is recorded at most this long
// after models.DefaultRingTimeout.
const ReapMediaInterval = 15 * time.Second

// ReapMediaArgs asks for the media and co-browsing sessions abandoned by
// now to be ended (models.ReapAbandoned): requests nobody answered ("missed
// call"), sessions nobody has been connected to for a while. Each end is
// the manual one's status line and event; co-browsing's chunks are purged
// by the follow-up job its event brings.
type ReapMediaArgs struct{}

// Kind is stored with each job row; it must never change.
func (ReapMediaArgs) Kind() string { return "reap_media" }

// ReapMediaWorker runs ReapMediaArgs.
type ReapMediaWorker struct {
	river.WorkerDefaults[ReapMediaArgs]
	deps Deps
	// Opts overrides the timeouts (tests); zero fields take the defaults.
	Opts models.ReapOpts
}

// reapBatch is how many sessions of each kind one transaction ends.
const reapBatch = 100

// Work ends the abandoned sessions, in batches, each with its events.
func (w *ReapMediaWorker) Work(ctx context.Context, job *river.Job[ReapMediaArgs]) error {
	o := w.Opts
	if o.Ring == 0 {
		o.Ring = models.DefaultRingTimeout
	}
	if o.Idle == 0 {
		o.Idle = models.DefaultIdleTimeout
	}
	o.Limit = reapBatch
	now := time.Now()
	var total models.Reaped
	for {
		var r models.Reaped
		err := w.deps.Writer.Write(ctx, func(tx models.Tx) error {
			var err error
			r, err = models.ReapAbandoned(ctx, tx, now, o)
			return err
		})
		if err != nil {
			return fmt.Errorf("reap media: %w", err)
		}
		total.Missed += r.Missed
		total.Abandoned += r.Abandoned
		total.Cobrowse += r.Cobrowse
		if r.Missed+r.Abandoned < reapBatch && r.Cobrowse < reapBatch {
			break
		}
	}
	if total.Total() > 0 {
		w.deps.ring()
		w.deps.Log.InfoContext(ctx, "abandoned remote-support sessions ended", "missed", total.Missed, "abandoned", total.Abandoned, "cobrowse", total.Cobrowse)
	}
	return nil
}
