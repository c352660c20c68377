package models

import (
	"context"
	"errors"

	"gorm.io/gorm"
)

// Tx is a transaction opened by Transact: the only way to reach the event
// log. Every domain operation that records an event takes a Tx, so calling
// one outside the unit of work that inserts the events' follow-up jobs
// (jobs.Writer) does not compile. The zero Tx records nothing: its
// operations return errNoTx.
type Tx struct {
	db *gorm.DB
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

// Transact opens a transaction on db, runs fn in it, reads the events the
// transaction wrote (EventsOfThisTx), gives them to after and commits;
// an error from fn or after rolls it all back. It is the one constructor
// of Tx, and only jobs.Writer calls it (TestOnlyTheWriterTransacts):
// after is where the writer inserts the jobs that must follow the events,
// so it may not be nil.
func Transact(ctx context.Context, db *gorm.DB, after AfterFunc, fn func(Tx) error) error {
	if after == nil {
		return errors.New("models: Transact without an after function")
	}
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := fn(Tx{db: tx.Session(&gorm.Session{DisableNestedTransaction: true})}); err != nil {
			return err
		}
		evs, err := EventsOfThisTx(ctx, tx)
		if err != nil {
			return err
		}
		return after(ctx, tx, evs)
	})
}
