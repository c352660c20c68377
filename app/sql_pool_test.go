package app

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// Statements that run side by side give their connections back to be
// taken again, not closed: database/sql keeps only 2 idle connections
// unless told otherwise, and under load wrapped a pool connection anew for
// every other statement.
func TestConcurrentStatementsKeepTheirConnections(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	pool, err := openPool(context.Background(), e.url, 8, nil)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	db := sqlOverPool(pool, 8)
	t.Cleanup(func() { db.Close() })
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				var n int
				require.NoError(t, db.QueryRow("SELECT 1").Scan(&n))
			}
		})
	}
	wg.Wait()
	require.Zero(t, db.Stats().MaxIdleClosed, "connections closed for want of idle room")
}
