package migrations_test

import (
	"database/sql"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/dbtest"
	"github.com/parleydesk/parley/migrations"
)

// Up's shortcut (nothing to do) must never hide a migration that is due.
func TestUpToDateSeesEveryGap(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		change string
		want   bool
	}{
		"migrated":                 {want: true},
		"a Parley version missing": {change: "DELETE FROM goose_db_version WHERE version_id = (SELECT max(version_id) FROM goose_db_version)"},
		"a Parley version rolled back": {change: `INSERT INTO goose_db_version (version_id, is_applied)
			SELECT max(version_id), false FROM goose_db_version`},
		"a River version missing": {change: "DELETE FROM river_migration WHERE version = (SELECT max(version) FROM river_migration)"},
		"no goose table":          {change: "DROP TABLE goose_db_version"},
		"no River table":          {change: "DROP TABLE river_migration"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			db, err := sql.Open("pgx", dbtest.FreshURL(t))
			require.NoError(t, err)
			t.Cleanup(func() { db.Close() })
			if tc.change != "" {
				_, err = db.ExecContext(t.Context(), tc.change)
				require.NoError(t, err)
			}
			conn, err := db.Conn(t.Context())
			require.NoError(t, err)
			defer conn.Close()
			assert.Equal(t, tc.want, migrations.UpToDate(t.Context(), conn))
		})
	}
}

// A database that lacks its newest migration gets it from Up: the shortcut
// must not skip it.
func TestUpAppliesWhatIsMissing(t *testing.T) {
	t.Parallel()
	db, err := sql.Open("pgx", dbtest.FreshURL(t))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	ctx := t.Context()
	latest := func() (v int64) {
		require.NoError(t, db.QueryRowContext(ctx, "SELECT max(version_id) FROM goose_db_version WHERE is_applied").Scan(&v))
		return v
	}
	newest := latest()
	require.NoError(t, migrations.DownOne(ctx, db))
	require.Less(t, latest(), newest)
	pending, err := migrations.Pending(ctx, db)
	require.NoError(t, err)
	require.True(t, pending)

	require.NoError(t, migrations.Up(ctx, db))
	pending, err = migrations.Pending(ctx, db)
	require.NoError(t, err)
	assert.False(t, pending)
	conn, err := db.Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	assert.True(t, migrations.UpToDate(ctx, conn), "up to date again")
}
