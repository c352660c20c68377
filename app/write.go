package app

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
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

// InsertJobsTx inserts jobs inside tx, a transaction opened by
// models.Transaction: they exist if and only if tx commits.
func (a *App) InsertJobsTx(ctx context.Context, tx *gorm.DB, params []river.InsertManyParams) error {
	if len(params) == 0 {
		return nil
	}
	err := models.WithPgxTx(tx, func(ptx pgx.Tx) error {
		_, err := a.inserter.InsertManyTx(ctx, ptx, params)
		return err
	})
	if err != nil {
		return fmt.Errorf("insert %d jobs (%s…): %w", len(params), params[0].Args.Kind(), err)
	}
	return nil
}
