package models_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/parleydesk/parley/models"
)

// GenericReads runs reads on connections set to generic plans for their
// session, without GenericPlans' transaction around them; no connection the
// pool gives anyone else keeps the setting; and a connection the server
// closed is replaced, not handed out broken.
func TestGenericReads(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	g, err := models.NewGenericReads(db)
	require.NoError(t, err)
	t.Cleanup(g.Close)

	show := func(db *gorm.DB) string {
		var mode string
		require.NoError(t, db.Raw("SHOW plan_cache_mode").Scan(&mode).Error)
		return mode
	}
	// GenericPlans under r: its reads' plan setting, and whether they share
	// one transaction (an id taken by the first is still the second's).
	under := func(r *models.GenericReads) (mode string, shared bool) {
		require.NoError(t, r.Do(ctx, db, func(db *gorm.DB) error {
			return models.GenericPlans(ctx, db, func(tx *gorm.DB) error {
				mode = show(tx)
				require.NoError(t, tx.Exec("SELECT pg_current_xact_id()").Error)
				return tx.Raw("SELECT pg_current_xact_id_if_assigned() IS NOT NULL").Scan(&shared).Error
			})
		}))
		return mode, shared
	}
	// On a kept connection: generic plans, no transaction around the reads.
	mode, shared := under(g)
	require.Equal(t, "force_generic_plan", mode)
	require.False(t, shared, "no transaction around the reads")
	// The nil reader: GenericPlans' transaction, as before.
	mode, shared = under(nil)
	require.Equal(t, "force_generic_plan", mode)
	require.True(t, shared, "one transaction around the reads")

	// More readers at once than are kept: those let go are reset.
	var wg sync.WaitGroup
	hold := make(chan struct{})
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			assert := g.Do(ctx, db, func(db *gorm.DB) error {
				<-hold
				return db.Exec("SELECT 1").Error
			})
			require.NoError(t, assert)
		}()
	}
	time.Sleep(100 * time.Millisecond)
	close(hold)
	wg.Wait()
	s, err := db.DB()
	require.NoError(t, err)
	var conns []interface{ Close() error }
	for range 8 {
		c, err := s.Conn(ctx)
		require.NoError(t, err)
		conns = append(conns, c)
		var mode string
		require.NoError(t, c.QueryRowContext(ctx, "SHOW plan_cache_mode").Scan(&mode))
		require.Equal(t, "auto", mode, "a connection of the pool keeps no generic setting")
	}
	for _, c := range conns {
		require.NoError(t, c.Close())
	}

	// The server closes the kept connections (a restart). A read pings a
	// connection kept idle for over a second; one used just before is
	// found closed by the read itself, which then runs again.
	calls := 0
	read := func(db *gorm.DB) error {
		calls++
		var mode string
		if err := db.Raw("SELECT current_setting('plan_cache_mode') /* kept read */").Scan(&mode).Error; err != nil {
			return err
		}
		if mode != "force_generic_plan" {
			return fmt.Errorf("plan_cache_mode %q", mode)
		}
		return nil
	}
	kill := func(query string) {
		var pids []int32
		require.NoError(t, db.Raw("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query = ?", query).Scan(&pids).Error)
		require.NotEmpty(t, pids)
		for _, pid := range pids {
			require.NoError(t, db.Exec("SELECT pg_terminate_backend(?, 5000)", pid).Error) // waits for it to end
		}
	}
	kill("SELECT 1")
	models.AgeGenericConns(g, 2*time.Second)
	require.NoError(t, g.Do(ctx, db, read))
	require.Equal(t, 1, calls, "the ping found them closed")
	kill("SELECT current_setting('plan_cache_mode') /* kept read */")
	calls = 0
	require.NoError(t, g.Do(ctx, db, read))
	require.Equal(t, 2, calls, "the read found its connection closed and ran again")

	// Closed, the reader gives its connections back reset, and reads fall
	// back to GenericPlans' transaction.
	g.Close()
	require.NoError(t, g.Do(ctx, db, func(db *gorm.DB) error {
		return models.GenericPlans(ctx, db, func(tx *gorm.DB) error {
			require.Equal(t, "force_generic_plan", show(tx))
			return nil
		})
	}))
	require.Equal(t, "auto", show(db))
}
