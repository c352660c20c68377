package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"github.com/parleydesk/parley/jobs"
	"github.com/parleydesk/parley/models"
)

// write runs a change in one transaction together with what must follow it:
// fn makes the change through models (which records its realtime events),
// then the background jobs those events call for (jobs.FollowUps) are
// inserted before the commit. The change, its events and its jobs commit or
// roll back together: a rolled-back reply never notifies anyone and a
// committed one always does.
//
// Models operations open their own transactions; inside fn they join this
// one instead of nesting savepoints.
func (a *App) write(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return a.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := fn(tx.Session(&gorm.Session{DisableNestedTransaction: true})); err != nil {
			return err
		}
		return a.insertFollowUps(ctx, tx)
	})
}

// insertFollowUps inserts the jobs that the events written so far in tx call
// for.
func (a *App) insertFollowUps(ctx context.Context, tx *gorm.DB) error {
	evs, err := models.EventsOfThisTx(ctx, tx)
	if err != nil {
		return err
	}
	return a.InsertJobsTx(ctx, tx, jobs.FollowUps(evs, a.followUps))
}

// InsertJobsTx inserts jobs inside tx, a GORM transaction: they exist if and
// only if tx commits.
func (a *App) InsertJobsTx(ctx context.Context, tx *gorm.DB, params []river.InsertManyParams) error {
	if len(params) == 0 {
		return nil
	}
	sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
	if !ok {
		return errors.New("insert jobs: not inside a transaction")
	}
	if _, err := a.inserter.InsertManyTx(ctx, sqlTx, params); err != nil {
		return fmt.Errorf("insert %d jobs (%s…): %w", len(params), params[0].Args.Kind(), err)
	}
	return nil
}
