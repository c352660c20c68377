package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/parleydesk/parley/models"
)

// DeleteFilesArgs asks for the bytes of removed files to be deleted from
// storage. It is inserted in the transaction that removed them (a deleted
// message, an expired or discarded upload, a customer's erasure:
// models.FilesRemovedEvent through FollowUps), so a committed removal
// always deletes its bytes and a rolled-back one never does. Running it
// again is harmless.
type DeleteFilesArgs struct {
	FileIDs []int64 `json:"file_ids"`
}

// Kind is stored with each job row; it must never change.
func (DeleteFilesArgs) Kind() string { return "delete_files" }

// DeleteFilesWorker deletes what DeleteFilesArgs names.
type DeleteFilesWorker struct {
	river.WorkerDefaults[DeleteFilesArgs]
	deps Deps
}

// Work deletes each removed file's bytes, then records them gone; a store
// that fails is retried with River's backoff.
func (w *DeleteFilesWorker) Work(ctx context.Context, job *river.Job[DeleteFilesArgs]) error {
	if w.deps.Files == nil || len(job.Args.FileIDs) == 0 {
		return nil
	}
	fs, err := models.FilesToPurge(ctx, w.deps.DB, job.Args.FileIDs, len(job.Args.FileIDs))
	if err != nil {
		return err
	}
	return purge(ctx, w.deps, fs)
}

func purge(ctx context.Context, d Deps, fs []models.File) error {
	for _, f := range fs {
		if err := d.Files.Delete(ctx, f.StorageKey); err != nil {
			return fmt.Errorf("delete file %d: %w", f.ID, err)
		}
		if err := models.MarkPurged(ctx, d.DB, f.ID); err != nil {
			return fmt.Errorf("mark file %d purged: %w", f.ID, err)
		}
	}
	return nil
}

// ExpireFilesInterval is how often abandoned uploads and files past the
// desk's retention are removed.
const ExpireFilesInterval = 10 * time.Minute

// ExpireFilesArgs removes uploads nobody sent (models.PendingFileTTL) and
// files older than the desk's retention setting, and deletes the bytes of
// any removed file a delete_files job left behind.
type ExpireFilesArgs struct{}

// Kind is stored with each job row; it must never change.
func (ExpireFilesArgs) Kind() string { return "expire_files" }

// ExpireFilesWorker does what ExpireFilesArgs says, in batches.
type ExpireFilesWorker struct {
	river.WorkerDefaults[ExpireFilesArgs]
	deps Deps
}

// expireBatch bounds each transaction of ExpireFilesWorker.
const expireBatch = 500

// Work removes expired files through the writer (each batch inserts its
// delete_files job), then purges leftovers.
func (w *ExpireFilesWorker) Work(ctx context.Context, _ *river.Job[ExpireFilesArgs]) error {
	for {
		var n int
		err := w.deps.Writer.Write(ctx, func(tx models.Tx) (err error) {
			n, err = models.ExpireFiles(ctx, tx, time.Now(), expireBatch)
			return err
		})
		if err != nil {
			return err
		}
		if n < expireBatch {
			break
		}
	}
	if w.deps.Files == nil {
		return nil
	}
	// Removed files whose job failed for good (or predates a restart).
	fs, err := models.FilesToPurge(ctx, w.deps.DB, nil, expireBatch)
	if err != nil {
		return err
	}
	return purge(ctx, w.deps, fs)
}
