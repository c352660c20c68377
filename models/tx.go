package models

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"gorm.io/gorm"
)

// Tx is a transaction opened by Transact: the only way to reach the event
// log. Every domain operation that records an event takes a Tx, so calling
// one outside the unit of work that inserts the events' follow-up jobs
// (jobs.Writer) does not compile. The zero Tx records nothing: its
// operations return errNoTx.
type Tx struct {
	db *gorm.DB
	// events collects what the transaction's event inserts returned, so
	// the commit needs no read of them back (txEvents).
	events *txEvents
	// held is what the transaction holds locked and read already, for the
	// operations after the first that need it again.
	held *txHeld
}

// txHeld is what a transaction read under a lock it keeps until it ends,
// so a later operation in it need not read it again.
type txHeld struct {
	// settings are the desk settings, held FOR SHARE (settingsForWrite).
	settings *DeskSettings
}

// txEvents are the events a transaction wrote, as its inserts returned
// them (RETURNING eventColumns): one round trip less per write than reading
// them back before the commit. An insert that does not return its events
// (the job-side notification inserts, which write one per recipient) marks
// the list unreported, and the events are then read back (EventsOfThisTx).
// In test binaries every transaction also reads them back and fails if the
// list differs: an event insert that reports nothing is caught by any test
// that reaches it. A reported event is one the commit keeps: a Tx opens no
// savepoints (nested db.Transaction calls join it), so nothing inside it
// rolls back alone.
type txEvents struct {
	list       []Event
	unreported bool
}

// reported records evs, returned by one of t's inserts.
func (t Tx) reported(evs ...Event) {
	if t.events != nil {
		t.events.list = append(t.events.list, evs...)
	}
}

// unreported records that one of t's inserts wrote events it did not return.
func (t Tx) unreported() {
	if t.events != nil {
		t.events.unreported = true
	}
}

// written returns the events tx wrote, in order.
func (r *txEvents) written(ctx context.Context, tx *gorm.DB) ([]Event, error) {
	if r.unreported {
		return EventsOfThisTx(ctx, tx)
	}
	evs := r.list
	slices.SortFunc(evs, func(a, b Event) int { return cmp.Compare(a.ID, b.ID) })
	if testing.Testing() {
		stored, err := eventsOfThisTx(ctx, tx, eventsCheck)
		if err != nil {
			return nil, err
		}
		if len(stored) != len(evs) || (len(evs) > 0 && !reflect.DeepEqual(stored, evs)) {
			return nil, fmt.Errorf("models: the transaction's inserts reported events %+v, it wrote %+v", evs, stored)
		}
	}
	return evs, nil
}

// errNoTx is what an operation given the zero Tx returns.
var errNoTx = errors.New("models: no transaction (a Tx comes from Transact, through jobs.Writer)")

// DB is the transaction's handle, for the reads and plain writes made
// inside it (operations that record no event take a *gorm.DB). Nested
// db.Transaction calls join it instead of opening savepoints. It is nil for
// the zero Tx.
func (t Tx) DB() *gorm.DB { return t.db }

// run runs an operation's body inside t with ctx.
func (t Tx) run(ctx context.Context, fn func(tx *gorm.DB) error) error {
	if t.db == nil {
		return errNoTx
	}
	return fn(t.db.WithContext(ctx))
}

// AfterFunc runs inside a Transact transaction once its change is made,
// before the commit, with the events the transaction wrote (in order); an
// error rolls everything back.
type AfterFunc func(ctx context.Context, tx *gorm.DB, events []Event) error

// Transact opens a transaction on db, runs fn in it, takes the events the
// transaction wrote (as its inserts returned them: txEvents), gives them to
// after and commits;
// an error from fn or after rolls it all back. It is the one constructor
// of Tx, and only jobs.Writer calls it (TestOnlyTheWriterTransacts):
// after is where the writer inserts the jobs that must follow the events,
// so it may not be nil.
func Transact(ctx context.Context, db *gorm.DB, after AfterFunc, fn func(Tx) error) error {
	if after == nil {
		return errors.New("models: Transact without an after function")
	}
	return Transaction(ctx, db, func(tx *gorm.DB) error {
		written := &txEvents{}
		if err := fn(Tx{db: tx.Session(&gorm.Session{DisableNestedTransaction: true}), events: written, held: &txHeld{}}); err != nil {
			return err
		}
		evs, err := written.written(ctx, tx)
		if err != nil {
			return err
		}
		return after(ctx, tx, evs)
	})
}
