package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/parleydesk/parley/models"
)

// SLACheckInterval is how often the leader looks for waits past their
// service-level target: a breach is announced at most this late.
const SLACheckInterval = 30 * time.Second

// SLACheckArgs asks for the service-level breaches due by now to be
// recorded (models.RecordBreaches); each one's event brings its notify job
// (FollowUps), so the assignee and the team hear of it once.
type SLACheckArgs struct{}

// Kind is stored with each job row; it must never change.
func (SLACheckArgs) Kind() string { return "sla_check" }

// slaBatch is how many breaches one transaction records.
const slaBatch = 200

// SLACheckWorker runs SLACheckArgs.
type SLACheckWorker struct {
	river.WorkerDefaults[SLACheckArgs]
	deps Deps
}

// Work records the breaches due now, in batches, each batch with its
// follow-up jobs in its own transaction.
func (w *SLACheckWorker) Work(ctx context.Context, job *river.Job[SLACheckArgs]) error {
	now := time.Now()
	total := 0
	for {
		var n int
		err := w.deps.Writer.Write(ctx, func(tx models.Tx) error {
			bs, err := models.RecordBreaches(ctx, tx, now, slaBatch)
			n = len(bs)
			return err
		})
		if err != nil {
			return fmt.Errorf("service-level check: %w", err)
		}
		total += n
		if n < slaBatch {
			break
		}
	}
	if total > 0 {
		w.deps.ring()
		w.deps.Log.InfoContext(ctx, "service-level breaches recorded", "count", total)
	}
	return nil
}
