package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
)

// Transaction runs fn in a transaction on a connection it holds for the
// transaction's life (an error or a panic rolls it back, as GORM's
// Transaction). Holding the connection is what lets the work inside reach
// it with pgx, which database/sql does not allow through a *sql.Tx: reads
// inside are pipelined in one round trip like any other (pipelined), and
// River's pgx driver inserts the transaction's jobs (WithPgxTx) with pgx's
// own encoding instead of database/sql's. Transact opens its transaction
// here; so must anything else that inserts jobs. Given a db that is
// already a transaction, fn joins it, as db.Transaction would.
func Transaction(ctx context.Context, db *gorm.DB, fn func(tx *gorm.DB) error) error {
	if _, ok := db.Statement.ConnPool.(*sql.DB); !ok {
		return db.WithContext(ctx).Transaction(fn)
	}
	return db.WithContext(ctx).Connection(func(c *gorm.DB) error {
		conn, ok := c.Statement.ConnPool.(*sql.Conn)
		if !ok {
			return fmt.Errorf("models: a held connection is a %T", c.Statement.ConnPool)
		}
		return c.Transaction(func(tx *gorm.DB) error {
			sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
			if !ok {
				return fn(tx)
			}
			heldTxs.Store(sqlTx, conn)
			defer heldTxs.Delete(sqlTx)
			return fn(tx)
		})
	})
}

// heldTxs maps each open transaction of Transaction to the connection it
// runs on, for as long as fn runs.
var heldTxs sync.Map // *sql.Tx → *sql.Conn

// heldConn is the connection tx, a *sql.Tx opened by Transaction, runs on.
func heldConn(tx *sql.Tx) *sql.Conn {
	if c, ok := heldTxs.Load(tx); ok {
		return c.(*sql.Conn)
	}
	return nil
}

// WithPgxTx runs fn with tx's transaction as a pgx.Tx: the same session,
// reached through pgx while database/sql lends its connection (sql.Conn.Raw),
// for libraries that take a pgx.Tx (River's pgx driver). tx must be a
// transaction opened by Transaction. fn may run statements and batches; the
// transaction is still its owner's to commit or roll back, so the pgx.Tx
// refuses Begin, Commit and Rollback.
func WithPgxTx(tx *gorm.DB, fn func(pgx.Tx) error) error {
	sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
	if !ok {
		return errors.New("models: not inside a transaction")
	}
	conn := heldConn(sqlTx)
	if conn == nil {
		return errors.New("models: the transaction was not opened by models.Transaction")
	}
	return conn.Raw(func(dc any) error {
		pc, ok := dc.(interface{ Conn() *pgx.Conn })
		if !ok {
			return fmt.Errorf("models: a transaction on a %T connection", dc)
		}
		return fn(lentTx{pc.Conn()})
	})
}

// lentTx is a transaction that database/sql opened, reached through pgx.
type lentTx struct{ c *pgx.Conn }

var _ pgx.Tx = lentTx{}

var errLentTx = errors.New("models: a lent transaction is committed, rolled back and nested by its owner only")

func (lentTx) Begin(context.Context) (pgx.Tx, error) { return nil, errLentTx }
func (lentTx) Commit(context.Context) error          { return errLentTx }
func (lentTx) Rollback(context.Context) error        { return errLentTx }
func (lentTx) LargeObjects() pgx.LargeObjects        { return pgx.LargeObjects{} }
func (t lentTx) Conn() *pgx.Conn                     { return t.c }

func (t lentTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return t.c.Exec(ctx, sql, args...)
}

func (t lentTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return t.c.Query(ctx, sql, args...)
}

func (t lentTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return t.c.QueryRow(ctx, sql, args...)
}

func (t lentTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return t.c.SendBatch(ctx, b)
}

func (t lentTx) CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error) {
	return t.c.CopyFrom(ctx, table, cols, src)
}

func (t lentTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	return t.c.Prepare(ctx, name, sql)
}
