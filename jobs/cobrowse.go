package jobs

import (
	"context"
	"fmt"

	"github.com/riverqueue/river"

	"github.com/parleydesk/parley/models"
)

// CobrowsePurgeArgs asks for the recorded chunks of a co-browsing session
// that ended (or was declined) to be deleted: the customer's page is kept
// only while the agent follows it. Running it twice is harmless.
type CobrowsePurgeArgs struct {
	SessionID int64 `json:"session_id"`
}

// Kind is stored with each job row; it must never change.
func (CobrowsePurgeArgs) Kind() string { return "cobrowse_purge" }

// CobrowsePurgeWorker runs CobrowsePurgeArgs.
type CobrowsePurgeWorker struct {
	river.WorkerDefaults[CobrowsePurgeArgs]
	deps Deps
}

// Work deletes the session's chunks (models.PurgeCobrowseChunks).
func (w *CobrowsePurgeWorker) Work(ctx context.Context, job *river.Job[CobrowsePurgeArgs]) error {
	if _, err := models.PurgeCobrowseChunks(ctx, w.deps.DB, job.Args.SessionID); err != nil {
		return fmt.Errorf("purge cobrowse session %d: %w", job.Args.SessionID, err)
	}
	return nil
}

// cobrowseFollowUps purges a session's chunks once it has ended.
func cobrowseFollowUps(e models.Event) []river.InsertManyParams {
	d, ok := e.Data.(models.CobrowseEvent)
	if !ok || (d.State != models.CobrowseEnded && d.State != models.CobrowseDeclined) {
		return nil
	}
	return []river.InsertManyParams{{Args: CobrowsePurgeArgs{SessionID: d.Session}}}
}
