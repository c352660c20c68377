package models_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/parleydesk/parley/models"
)

// batchCounter counts the pgx batches sent on a pool.
type batchCounter struct{ n int }

func (b *batchCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	return ctx
}
func (b *batchCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (b *batchCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	b.n++
	return ctx
}
func (b *batchCounter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (b *batchCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

// A transaction opened by models.Transaction holds its connection: reads
// inside it are pipelined on that session (a temporary table, which only
// the session sees, answers them in one batch), and WithPgxTx lends the
// same session to pgx, whose writes commit and roll back with the rest.
func TestTransactionLendsItsConnection(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	batches := &batchCounter{}
	db := gormOnPool(t, func(cfg *pgxpool.Config) { cfg.ConnConfig.Tracer = batches })

	err := models.Transaction(ctx, db, func(tx *gorm.DB) error {
		require.NoError(t, tx.Exec("CREATE TEMP TABLE lent (id bigint, subject text) ON COMMIT DROP").Error)
		require.NoError(t, tx.Exec("INSERT INTO lent VALUES (1, 'gorm')").Error)
		before := batches.n
		got, err := models.ReadPipelined[models.Conversation](ctx, tx,
			[]any{"SELECT id, subject FROM lent"},
			[]any{"SELECT count(*) AS id FROM lent"})
		require.NoError(t, err)
		assert.Equal(t, 1, batches.n-before, "both reads in one batch")
		require.Len(t, got[0], 1)
		assert.Equal(t, "gorm", got[0][0].Subject)

		require.NoError(t, models.WithPgxTx(tx, func(ptx pgx.Tx) error {
			_, err := ptx.Exec(ctx, "INSERT INTO lent VALUES (2, 'pgx')")
			assert.ErrorContains(t, ptx.Commit(ctx), "owner")
			assert.ErrorContains(t, ptx.Rollback(ctx), "owner")
			_, berr := ptx.Begin(ctx)
			assert.ErrorContains(t, berr, "owner")
			return err
		}))
		var n int64
		require.NoError(t, tx.Raw("SELECT count(*) FROM lent").Scan(&n).Error)
		assert.EqualValues(t, 2, n, "GORM sees what pgx wrote: one session")

		// A nested Transaction joins the held one.
		return models.Transaction(ctx, tx, func(inner *gorm.DB) error {
			return models.WithPgxTx(inner, func(ptx pgx.Tx) error {
				return ptx.QueryRow(ctx, "SELECT count(*) FROM lent").Scan(&n)
			})
		})
	})
	require.NoError(t, err)

	// What pgx wrote in a transaction that rolls back is gone with it.
	rollback := errors.New("roll back")
	err = models.Transaction(ctx, db, func(tx *gorm.DB) error {
		require.NoError(t, models.WithPgxTx(tx, func(ptx pgx.Tx) error {
			_, err := ptx.Exec(ctx, "INSERT INTO teams (name) VALUES ('Lent')")
			return err
		}))
		return rollback
	})
	require.ErrorIs(t, err, rollback)
	var teams int64
	require.NoError(t, db.Raw("SELECT count(*) FROM teams WHERE name = 'Lent'").Scan(&teams).Error)
	assert.Zero(t, teams)

	// Nothing else lends a connection: not outside a transaction, not a
	// transaction that GORM opened on its own.
	assert.ErrorContains(t, models.WithPgxTx(db, func(pgx.Tx) error { return nil }), "not inside a transaction")
	err = db.Transaction(func(tx *gorm.DB) error {
		return models.WithPgxTx(tx, func(pgx.Tx) error { return nil })
	})
	assert.ErrorContains(t, err, "not opened by models.Transaction")
}
