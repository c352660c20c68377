// Package dbtest gives each test its own real PostgreSQL database, cloned
// from a template that Parley's migrations built once.
//
// Tests run against the same embedded PostgreSQL that Parley uses in
// production (package pgembed), never against mocks, and never skip when no
// database is configured: the server is started on demand. `go test ./...`
// runs each package in its own process, so the server is shared by every
// process of a run and outlives them (a detached server, fsync off), and
// the next run reuses it; `go run ./cmd/parley-testdb stop` ends it.
//
// Set TEST_DATABASE_URL (a postgres:// URL of a superuser, or a role that
// may create roles and databases) to use an existing server instead.
package dbtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver pgtestdb connects with
	"github.com/peterldowns/pgtestdb"

	"github.com/parleydesk/parley/internal/pgembed"
	"github.com/parleydesk/parley/migrations"
)

// EnvURL names the variable that points the tests at an existing server.
const EnvURL = "TEST_DATABASE_URL"

// EnvDir names the variable that moves the shared test cluster, which by
// default lives in <os.TempDir()>/parley-test-pg-<uid>.
const EnvDir = "PARLEY_TEST_PGDIR"

// startTimeout bounds starting the shared server, including an initdb and a
// wait for other test processes starting it at the same moment.
const startTimeout = 2 * time.Minute

// URL returns a connection string (postgres://…) for a fresh database
// cloned from the migrated template, so each test sees the whole schema and
// nothing another test wrote. The database is dropped when the test ends if
// it passed, and kept for inspection (its URL is logged) if it failed.
// Without a server URL can start, the test fails with the reason.
func URL(t testing.TB) string {
	t.Helper()
	srv, err := shared()
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	return pgtestdb.Custom(t, srv.conf, migrator{}).URL()
}

// BaseURL returns the superuser URL of the shared test server (its
// "postgres" database), starting the server if needed: a way into the
// server that holds every test database, for people and tools.
func BaseURL() (string, error) {
	srv, err := shared()
	if err != nil {
		return "", err
	}
	return srv.url, nil
}

// StopShared stops the shared test server if it runs. A test run calls it
// (through cmd/parley-testdb) when it is over; with TEST_DATABASE_URL set
// there is nothing of ours to stop.
func StopShared(ctx context.Context) error {
	if os.Getenv(EnvURL) != "" {
		return nil
	}
	return pgembed.StopDetached(ctx, pgembed.Options{Dir: sharedDir(), Logger: logger()})
}

// server is how tests reach the shared server.
type server struct {
	conf pgtestdb.Config // what pgtestdb needs to make databases
	url  string          // the superuser URL, for BaseURL
}

// shared starts or finds the server once per process.
var shared = sync.OnceValues(func() (server, error) {
	if u := os.Getenv(EnvURL); u != "" {
		conf, err := parseURL(u)
		return server{conf: conf, url: u}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	// pgembed serialises concurrent detached starts of one cluster with a
	// lock beside it, and reuses a server that already runs for it, so the
	// first test process of a run starts it and the others find it.
	s, err := pgembed.Start(ctx, pgembed.Options{
		Dir:            sharedDir(),
		Port:           -1, // pgtestdb connects over TCP
		Fsync:          false,
		MaxConnections: 500, // many test processes, each with pools
		Detached:       true,
		Logger:         logger(),
	})
	if errors.Is(err, pgembed.ErrNoBinaries) {
		return server{}, fmt.Errorf("%w (for tests, %s can name an existing server instead)", err, EnvURL)
	}
	if err != nil {
		return server{}, fmt.Errorf("start the test PostgreSQL: %w", err)
	}
	return server{
		url: s.URL("postgres"),
		conf: pgtestdb.Config{
			DriverName: "pgx",
			Host:       s.Host(),
			Port:       strconv.Itoa(s.Port()),
			User:       pgembed.User,
			Database:   "postgres",
			Options:    "sslmode=disable",
			// A test that leaves a pool open must not fail in cleanup for
			// it; the connections end with the database.
			ForceTerminateConnections: true,
		},
	}, nil
})

func sharedDir() string {
	if d := os.Getenv(EnvDir); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("parley-test-pg-%d", os.Getuid()))
}

// logger reports only what needs a person's attention: test output stays
// quiet while the shared server is found or started.
func logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// parseURL turns TEST_DATABASE_URL into pgtestdb's pieces; pgtestdb
// rebuilds URLs from them for each test database.
func parseURL(raw string) (pgtestdb.Config, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return pgtestdb.Config{}, fmt.Errorf("%s must be a postgres:// URL, got %q", EnvURL, raw)
	}
	conf := pgtestdb.Config{
		DriverName:                "pgx",
		Host:                      u.Hostname(),
		Port:                      u.Port(),
		User:                      u.User.Username(),
		Database:                  "postgres",
		Options:                   u.RawQuery,
		ForceTerminateConnections: true,
	}
	conf.Password, _ = u.User.Password()
	if db := filepath.Base(u.Path); u.Path != "" && db != "/" {
		conf.Database = db
	}
	if conf.Host == "" {
		conf.Host = "localhost"
	}
	if conf.Port == "" {
		conf.Port = "5432"
	}
	if conf.User == "" {
		return pgtestdb.Config{}, errors.New(EnvURL + " must name a user")
	}
	if h := net.ParseIP(conf.Host); h != nil && h.To4() == nil {
		conf.Host = "[" + conf.Host + "]"
	}
	return conf, nil
}

// migrator builds the template with Parley's real migrations; its hash
// changes with them, which makes pgtestdb build a new template.
type migrator struct{}

var fingerprint = sync.OnceValues(migrations.Fingerprint)

func (migrator) Hash() (string, error) { return fingerprint() }

func (migrator) Migrate(ctx context.Context, db *sql.DB, _ pgtestdb.Config) error {
	return migrations.Up(ctx, db)
}
