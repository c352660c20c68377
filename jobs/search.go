package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/parleydesk/parley/models"
)

// SearchIndexInterval is how often the search index catches up with the
// event log: how long a new message may take to become searchable.
const SearchIndexInterval = 3 * time.Second

// SearchIndexArgs asks for the search index to catch up with the event log
// (models.IndexSearch). It runs periodically rather than as a follow-up of
// each write: one run indexes everything written since the last, so a busy
// desk costs one job per period, not one per message, and the writes
// themselves insert nothing more.
type SearchIndexArgs struct{}

// Kind is stored with each job row; it must never change.
func (SearchIndexArgs) Kind() string { return "search_index" }

// InsertOpts: a failed run is not retried; the next period's run does its
// work (runs take turns on the cursor, so overlapping runs are harmless).
func (SearchIndexArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 1} }

// SearchIndexWorker runs models.IndexSearch.
type SearchIndexWorker struct {
	river.WorkerDefaults[SearchIndexArgs]
	deps Deps
}

// Work catches the index up.
func (w *SearchIndexWorker) Work(ctx context.Context, _ *river.Job[SearchIndexArgs]) error {
	st, err := models.IndexSearch(ctx, w.deps.DB)
	if err != nil {
		return err
	}
	if st.Full || st.Written+st.Removed > 1000 {
		w.deps.Log.InfoContext(ctx, "search index caught up", "full", st.Full, "written", st.Written, "removed", st.Removed)
	}
	return nil
}
