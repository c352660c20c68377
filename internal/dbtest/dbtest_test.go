package dbtest

import (
	"database/sql"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/migrations"
)

func open(t testing.TB, url string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", url)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

func TestDatabasesAreIsolated(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a, b := open(t, URL(t)), open(t, URL(t))

	_, err := a.ExecContext(ctx, "INSERT INTO users (name, email) VALUES ('Ada', 'ada@example.com')")
	require.NoError(t, err)

	var n int
	require.NoError(t, a.QueryRowContext(ctx, "SELECT count(*) FROM users").Scan(&n))
	assert.Equal(t, 1, n)
	require.NoError(t, b.QueryRowContext(ctx, "SELECT count(*) FROM users").Scan(&n))
	assert.Equal(t, 0, n, "a row written in one test database is absent from another")
}

func TestSchemaIsMigrated(t *testing.T) {
	t.Parallel()
	db := open(t, URL(t))
	for _, table := range []string{"users", "sessions", "river_job", "goose_db_version"} {
		var found sql.NullString
		require.NoError(t, db.QueryRowContext(t.Context(), "SELECT to_regclass($1)::text", table).Scan(&found))
		assert.True(t, found.Valid, "table %s exists", table)
	}
}

func TestMigrationsTwiceChangeNothing(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := open(t, URL(t))
	versions := func() (goose, river int) {
		require.NoError(t, db.QueryRowContext(ctx, "SELECT max(version_id) FROM goose_db_version").Scan(&goose))
		require.NoError(t, db.QueryRowContext(ctx, "SELECT count(*) FROM river_migration").Scan(&river))
		return
	}
	goose, river := versions()
	require.NoError(t, migrations.Up(ctx, db))
	goose2, river2 := versions()
	assert.Equal(t, goose, goose2, "goose version unchanged")
	assert.Equal(t, river, river2, "river migrations unchanged")
	pending, err := migrations.Pending(ctx, db)
	require.NoError(t, err)
	assert.False(t, pending)
}

func TestSharedServer(t *testing.T) {
	t.Parallel()
	base, err := BaseURL()
	require.NoError(t, err)
	db := open(t, base)
	var fsync string
	require.NoError(t, db.QueryRowContext(t.Context(), "SHOW fsync").Scan(&fsync))
	if os.Getenv(EnvURL) == "" {
		assert.Equal(t, "off", fsync, "the embedded test server trades durability for speed")
	}

	// A warm template makes a database in a fraction of a second.
	URL(t)
	var took []time.Duration
	for range 3 {
		began := time.Now()
		URL(t)
		took = append(took, time.Since(began).Round(time.Millisecond))
	}
	t.Logf("dbtest.URL on a warm template: %v", took)
}

func TestParseURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		raw  string
		want config
		err  bool
	}{
		{raw: "postgres://u:p@db.example:6543/app?sslmode=require", want: config{Host: "db.example", Port: "6543", User: "u", Password: "p", Database: "app", Options: "sslmode=require"}},
		{raw: "postgresql://u@localhost", want: config{Host: "localhost", Port: "5432", User: "u", Database: "postgres"}},
		{raw: "postgres://u@[::1]:5433/", want: config{Host: "[::1]", Port: "5433", User: "u", Database: "postgres"}},
		{raw: "host=localhost user=u", err: true},
		{raw: "postgres://localhost/app", err: true},
	} {
		got, err := parseURL(tc.raw)
		if tc.err {
			assert.Error(t, err, tc.raw)
			continue
		}
		require.NoError(t, err, tc.raw)
		assert.Equal(t, tc.want, got, tc.raw)
	}
}

// BenchmarkURL measures a test database cloned from a warm template.
func BenchmarkURL(b *testing.B) {
	URL(b) // build or find the template first
	for b.Loop() {
		URL(b)
	}
}
