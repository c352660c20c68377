package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"github.com/parleydesk/parley/models"
)

// write runs a change as one unit of work (jobs.Writer, shared with the
// workers): fn makes the change through models, which records its realtime
// events, and the background jobs those events call for are inserted before
// the commit. Every handler that changes something goes through it.
func (a *App) write(ctx context.Context, fn func(tx models.Tx) error) error {
	return a.writer.Write(ctx, fn)
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
