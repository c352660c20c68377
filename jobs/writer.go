package jobs

import (
	"context"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"github.com/parleydesk/parley/models"
)

// InsertTxFunc inserts jobs inside tx, a transaction opened by
// models.Transaction, so they exist if and only if tx commits (River's
// InsertManyTx).
type InsertTxFunc func(ctx context.Context, tx *gorm.DB, params []river.InsertManyParams) error

// Writer is Parley's one unit of work, shared by request handlers and
// workers: it runs a change in one transaction together with what must
// follow it. The change is made through models (whose operations record
// their realtime events); before the commit the writer takes the events that
// transaction wrote (as its inserts returned them, models.Transact) and
// inserts the jobs FollowUps maps them to. The change, its events and its
// jobs commit or roll back together: a rolled-back reply never notifies
// anyone and a committed one always does.
type Writer struct {
	db       *gorm.DB
	insertTx InsertTxFunc
	opts     FollowUpOptions
	// committed hears the events of each write after its commit (OnCommit).
	committed func([]models.Event)
}

// OnCommit has f called after each write that committed events, with those
// events as the transaction read them before its commit (ids, transaction
// id, payload): the instance's realtime broker hands them to its own live
// streams at once (live.Broker.HandOff) instead of waiting for its
// doorbell and the committed horizon. f runs on the writer's goroutine and
// must not block; it is never called for a write that rolled back. Call it
// before the writer is used.
func (w *Writer) OnCommit(f func(events []models.Event)) { w.committed = f }

// NewWriter returns the writer over db. insertTx may be nil only where no
// job runs (tests of models alone, internal/factory): the change and its
// events are then committed without their follow-up jobs, which nothing
// would work anyway.
func NewWriter(db *gorm.DB, insertTx InsertTxFunc, o FollowUpOptions) *Writer {
	return &Writer{db: db, insertTx: insertTx, opts: o}
}

// Write runs fn as one unit of work. fn makes its change through models
// operations given tx, the only models.Tx there is (models.Transact, which
// nothing else calls): an operation that records an event cannot run
// outside a writer.
func (w *Writer) Write(ctx context.Context, fn func(tx models.Tx) error) error {
	if w.committed == nil {
		return models.Transact(ctx, w.db, w.insertFollowUps, fn)
	}
	var evs []models.Event
	err := models.Transact(ctx, w.db, func(ctx context.Context, tx *gorm.DB, e []models.Event) error {
		evs = e
		return w.insertFollowUps(ctx, tx, e)
	}, fn)
	if err == nil && len(evs) > 0 {
		w.committed(evs)
	}
	return err
}

// insertFollowUps inserts the jobs that evs, the events written in tx,
// call for.
func (w *Writer) insertFollowUps(ctx context.Context, tx *gorm.DB, evs []models.Event) error {
	if w.insertTx == nil {
		return nil
	}
	params := FollowUps(evs, w.opts)
	if len(params) == 0 {
		return nil
	}
	return w.insertTx(ctx, tx, params)
}
