package models_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/parleydesk/parley/models"
)

// The committed horizon waits for a running write transaction, since its
// events may still appear below it, but not for one that declared it writes
// no events (search indexing, pruning): a long index run must not hold back
// every delivery that waits for the horizon.
func TestHorizonSkipsTransactionsWithoutEvents(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()

	// hold runs begin in a goroutine: it takes a transaction id and waits
	// until released; it returns that id and the release.
	hold := func(begin func(fn func(tx *gorm.DB) error) error) (uint64, func()) {
		started, release, done := make(chan uint64), make(chan struct{}), make(chan error, 1)
		go func() {
			done <- begin(func(tx *gorm.DB) error {
				var xid string
				if err := tx.Raw("SELECT pg_current_xact_id()::text").Scan(&xid).Error; err != nil {
					close(started)
					return err
				}
				n, err := strconv.ParseUint(xid, 10, 64)
				if err != nil {
					close(started)
					return err
				}
				started <- n
				<-release
				return nil
			})
		}()
		x, ok := <-started
		if !ok {
			require.NoError(t, <-done)
		}
		var once sync.Once
		end := func() {
			once.Do(func() { close(release); require.NoError(t, <-done) })
		}
		t.Cleanup(end) // a failed check must not leave it open
		return x, end
	}

	// A write that starts and commits after the held one: the horizon can
	// then pass the held transaction only by leaving it out.
	later := func() {
		require.NoError(t, db.Exec("SELECT pg_current_xact_id()").Error)
	}

	x, release := hold(func(fn func(tx *gorm.DB) error) error { return models.WithoutEvents(ctx, db, fn) })
	later()
	require.Greater(t, horizon(t, db), x, "a transaction without events held the horizon back")
	release()

	x, release = hold(func(fn func(tx *gorm.DB) error) error { return db.WithContext(ctx).Transaction(fn) })
	later()
	require.LessOrEqual(t, horizon(t, db), x, "the horizon passed a running transaction that may write events")
	release()
	require.Greater(t, horizon(t, db), x)

	// Nor for a NOTIFY (a doorbell, a typing signal) as QueueNotify sends
	// it: it takes a transaction id as it commits, and commits one by one
	// with the other NOTIFYs.
	x, release = hold(func(fn func(tx *gorm.DB) error) error {
		return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			stmts := models.NotifyStatements
			require.Equal(t, "BEGIN", stmts[0])
			require.Equal(t, "COMMIT", stmts[len(stmts)-1])
			for _, q := range stmts[1 : len(stmts)-1] {
				if strings.Contains(q, "$1") {
					q = strings.NewReplacer("$1", "?", "$2", "?").Replace(q)
					if err := tx.Exec(q, "parley_horizon_test", "payload").Error; err != nil {
						return err
					}
				} else if err := tx.Exec(q).Error; err != nil {
					return err
				}
			}
			return fn(tx)
		})
	})
	later()
	require.Greater(t, horizon(t, db), x, "a NOTIFY held the horizon back")
	release()

	// The name reverts when the transaction ends: the connection's next
	// transactions count again.
	var name string
	require.NoError(t, models.WithoutEvents(ctx, db, func(tx *gorm.DB) error { return nil }))
	require.NoError(t, db.Raw("SHOW application_name").Scan(&name).Error)
	require.NotEqual(t, "parley (no events)", name)
}
