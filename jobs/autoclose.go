package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/parleydesk/parley/models"
)

// AutoCloseArgs asks for idle customer conversations to be closed, as the
// desk's auto-close setting says (off by default). It runs every minute.
type AutoCloseArgs struct{}

// Kind is stored with each job row; it must never change.
func (AutoCloseArgs) Kind() string { return "auto_close" }

// autoCloseBatch is how many conversations one transaction closes.
const autoCloseBatch = 100

// AutoCloseWorker closes what AutoCloseArgs names.
type AutoCloseWorker struct {
	river.WorkerDefaults[AutoCloseArgs]
	deps Deps
}

// Work closes idle conversations in batches, each batch with its follow-up
// jobs in its own transaction.
func (w *AutoCloseWorker) Work(ctx context.Context, job *river.Job[AutoCloseArgs]) error {
	s, err := models.GetSettings(ctx, w.deps.DB)
	if err != nil {
		return err
	}
	after := s.AutoCloseAfter()
	if after == 0 {
		return nil
	}
	// models.AutoCloseIdle takes the clock as an argument (its tests set it).
	now := time.Now()
	total := 0
	for {
		var n int
		err := w.deps.Writer.Write(ctx, func(tx models.Tx) error {
			var err error
			n, err = models.AutoCloseIdle(ctx, tx, now, after, autoCloseBatch)
			return err
		})
		if err != nil {
			return fmt.Errorf("auto-close: %w", err)
		}
		total += n
		if n < autoCloseBatch {
			break
		}
	}
	if total > 0 {
		w.deps.ring()
		w.deps.Log.InfoContext(ctx, "auto-closed idle conversations", "count", total, "idle_for", after)
	} else {
		w.deps.Log.DebugContext(ctx, "auto-close: nothing idle", "idle_for", after, "as_of", now)
	}
	return nil
}
