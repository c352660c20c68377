package dbtest

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strings"
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

// A reused database holds what a fresh clone holds: no row a test wrote,
// every seed row the migrations wrote, every sequence where the template
// left it (so the next insert gets the id it would get in a fresh clone).
func TestResetRestoresTheTemplate(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv, err := shared()
	require.NoError(t, err)
	name, err := srv.clone(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, srv.drop(context.Background(), name)) })
	db := open(t, srv.conf.as(testRole, testPassword).url(name))
	n := 0
	nextUserID := func() (id int64) {
		n++
		require.NoError(t, db.QueryRowContext(ctx, "INSERT INTO users (name, email) VALUES ('Ada', $1) RETURNING id", fmt.Sprintf("ada%d@example.com", n)).Scan(&id))
		return id
	}
	before, err := takeSnapshot(ctx, srv.resets[mustConn(t, srv, name)])
	require.NoError(t, err)
	require.NotEmpty(t, before.seeds, "the migrations seed some rows")
	firstID := nextUserID()

	// A test's writes: rows added, seed rows deleted, sequences advanced.
	nextUserID()
	super := srv.resets[name]
	_, err = super.Exec(ctx, "SET session_replication_role = replica")
	require.NoError(t, err)
	for _, sd := range before.seeds {
		_, err = super.Exec(ctx, "DELETE FROM "+sd.table)
		require.NoError(t, err, sd.table)
	}
	_, err = super.Exec(ctx, "RESET session_replication_role")
	require.NoError(t, err)
	require.NoError(t, db.Close())

	require.NoError(t, srv.reset(ctx, name))
	after, err := takeSnapshot(ctx, srv.resets[name])
	require.NoError(t, err)
	assert.Equal(t, before.seeds, after.seeds)
	assert.Equal(t, before.sequences, after.sequences)

	db = open(t, srv.conf.as(testRole, testPassword).url(name))
	var users int
	require.NoError(t, db.QueryRowContext(ctx, "SELECT count(*) FROM users").Scan(&users))
	assert.Zero(t, users)
	assert.Equal(t, firstID, nextUserID(), "ids start where a fresh clone's start")
}

// A database whose schema a test changed is not reused.
func TestResetRefusesAChangedSchema(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv, err := shared()
	require.NoError(t, err)
	name, err := srv.clone(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, srv.drop(context.Background(), name)) })
	db := open(t, srv.conf.as(testRole, testPassword).url(name))
	_, err = db.ExecContext(ctx, "CREATE TABLE scratch (id int)")
	require.NoError(t, err)
	require.NoError(t, db.Close())
	assert.ErrorContains(t, srv.reset(ctx, name), "schema")
}

// A test's database goes back to the process's free list when it passes.
func TestPassedTestsDatabaseIsReused(t *testing.T) {
	var first string
	t.Run("first", func(t *testing.T) { first = URL(t) })
	srv, err := shared()
	require.NoError(t, err)
	srv.mu.Lock()
	free := append([]string(nil), srv.free...)
	srv.mu.Unlock()
	assert.Contains(t, free, dbName(t, first))
}

func mustConn(t *testing.T, srv *server, name string) string {
	t.Helper()
	_, err := srv.resetConn(t.Context(), name)
	require.NoError(t, err)
	return name
}

func dbName(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	return strings.TrimPrefix(u.Path, "/")
}
