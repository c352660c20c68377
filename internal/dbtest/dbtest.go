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
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

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

// URL returns a connection string (postgres://…) for a database that
// holds exactly what the migrated template holds: the whole schema, the rows
// the migrations seed and nothing another test wrote. Databases are reused
// within a test process: when a test passes, its database is emptied back to
// the template's contents (see reset) and handed to the next test, which
// saves a clone, a drop and the new database's cold caches per test. A
// failed test's database is kept for inspection (its URL is logged) until
// the next run. Without a server URL can start, the test fails with the
// reason.
//
// A test that changes the schema or the database's own settings uses
// FreshURL instead.
func URL(t testing.TB) string {
	t.Helper()
	return get(t, true)
}

// FreshURL is URL for a test that changes what reset does not restore (the
// schema, the database's settings): its database is a new clone of the
// template, dropped after the test and never handed to another.
func FreshURL(t testing.TB) string {
	t.Helper()
	return get(t, false)
}

func get(t testing.TB, reuse bool) string {
	t.Helper()
	srv, err := shared()
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	name := ""
	if reuse {
		name = srv.take()
	}
	if name == "" {
		if name, err = srv.clone(context.Background()); err != nil {
			t.Fatalf("dbtest: %v", err)
		}
	}
	u := srv.conf.as(testRole, testPassword).url(name)
	t.Cleanup(func() {
		if t.Failed() {
			srv.closePool(name)
			srv.keep(context.Background(), name)
			t.Logf("dbtest: the failed test's database is kept: %s", u)
			return
		}
		srv.mu.Lock()
		discard := srv.discard[name]
		srv.mu.Unlock()
		if discard {
			srv.closePool(name)
		}
		if reuse && srv.reset(context.Background(), name) == nil {
			srv.give(name)
			return
		}
		if err := srv.drop(context.Background(), name); err != nil {
			t.Errorf("dbtest: %v", err)
		}
	})
	return u
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
	conf  config  // where the server is and who tests connect as
	url   string  // the superuser URL, for BaseURL
	admin *sql.DB // a superuser pool on its maintenance database
	// owner names this process's databases; the process holds an advisory
	// lock on it for as long as it lives, so the next process can tell
	// databases left by a process that ended (dropped) from another's.
	owner     string
	ownerLock *sql.Conn
	snap      *snapshot // the template's contents, which reset restores

	mu     sync.Mutex
	free   []string                 // reset databases, ready for the next test
	resets map[string]*pgx.Conn     // a superuser connection into each reused database
	pools  map[string]*pgxpool.Pool // tests' pools kept with their database (Pool)
	// discard names the databases whose pool closes when their test ends.
	discard map[string]bool
}

// shared starts or finds the server once per process.
var shared = sync.OnceValues(func() (*server, error) {
	if u := os.Getenv(EnvURL); u != "" {
		conf, err := parseURL(u)
		if err != nil {
			return nil, err
		}
		return connect(conf, u)
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	// pgembed serialises concurrent detached starts of one cluster with a
	// lock beside it, and reuses a server that already runs for it, so the
	// first test process of a run starts it and the others find it.
	s, err := pgembed.Start(ctx, pgembed.Options{
		Dir:            sharedDir(),
		Port:           -1, // tests connect over TCP, as a non-superuser
		Fsync:          false,
		MaxConnections: 500, // many test processes, each with pools
		Detached:       true,
		Logger:         logger(),
	})
	if errors.Is(err, pgembed.ErrNoBinaries) {
		return nil, fmt.Errorf("%w (for tests, %s can name an existing server instead)", err, EnvURL)
	}
	if err != nil {
		return nil, fmt.Errorf("start the test PostgreSQL: %w", err)
	}
	return connect(config{Host: s.Host(), Port: strconv.Itoa(s.Port()), User: pgembed.User,
		Database: "postgres", Options: "sslmode=disable"}, s.URL("postgres"))
})

// connect opens the admin pool and makes sure the test role and the
// template for the current migrations exist.
func connect(conf config, superURL string) (*server, error) {
	admin, err := sql.Open("pgx", conf.url(conf.Database))
	if err != nil {
		return nil, err
	}
	// Tests of a process clone and drop in parallel; a few warm
	// connections save a backend start per operation.
	admin.SetMaxIdleConns(4)
	var id [4]byte
	_, _ = rand.Read(id[:])
	srv := &server{conf: conf, url: superURL, admin: admin, owner: hex.EncodeToString(id[:]), resets: map[string]*pgx.Conn{}, pools: map[string]*pgxpool.Pool{}, discard: map[string]bool{}}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := srv.ensureTemplate(ctx); err != nil {
		admin.Close()
		return nil, err
	}
	if err := srv.claim(ctx); err != nil {
		admin.Close()
		return nil, err
	}
	// The template's contents, read from a first clone (a template with a
	// session in it cannot be cloned); that clone is the first to hand out.
	first, err := srv.clone(ctx)
	if err != nil {
		admin.Close()
		return nil, err
	}
	conn, err := srv.resetConn(ctx, first)
	if err == nil {
		srv.snap, err = takeSnapshot(ctx, conn)
	}
	if err != nil {
		admin.Close()
		return nil, fmt.Errorf("read the template's contents: %w", err)
	}
	srv.give(first)
	return srv, nil
}

// The role tests connect as: like a production deployment, it owns its
// database but is no superuser.
const (
	testRole     = "parley_test"
	testPassword = "parley_test"
)

// templateName is the migrated template for the current migrations: its
// name carries their fingerprint, so changed migrations build a new one
// and test processes of different checkouts can share the server.
func templateName() (string, error) {
	fp, err := fingerprint()
	if err != nil {
		return "", err
	}
	if len(fp) > 32 {
		fp = fp[:32]
	}
	return "parley_tpl_" + fp, nil
}

// ensureTemplate creates the role and the template once per server: other
// test processes may be at it at the same moment, so it works under a
// session advisory lock, and a template counts as built only when marked
// datistemplate (a half-built one, from a crash, is dropped and rebuilt).
func (s *server) ensureTemplate(ctx context.Context) error {
	tpl, err := templateName()
	if err != nil {
		return err
	}
	conn, err := s.admin.Conn(ctx)
	if err != nil {
		return fmt.Errorf("connect to the test server: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(hashtext('parley dbtest'))"); err != nil {
		return fmt.Errorf("lock the test server: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(hashtext('parley dbtest'))") //nolint:errcheck // also released with the connection

	var role bool
	if err := conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = $1)", testRole).Scan(&role); err != nil {
		return err
	}
	if !role {
		q := fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD '%s' NOSUPERUSER NOCREATEDB NOCREATEROLE", testRole, testPassword)
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("create the test role: %w", err)
		}
	}
	var ready bool
	if err := conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1 AND datistemplate)", tpl).Scan(&ready); err != nil {
		return err
	}
	if ready {
		return nil
	}
	for _, q := range []string{
		fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", tpl),
		fmt.Sprintf("CREATE DATABASE %s OWNER %s", tpl, testRole),
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("build the template: %w", err)
		}
	}
	db, err := sql.Open("pgx", s.conf.as(testRole, testPassword).url(tpl))
	if err != nil {
		return err
	}
	err = migrations.Up(ctx, db)
	db.Close()
	if err != nil {
		return fmt.Errorf("migrate the template %s: %w", tpl, err)
	}
	if _, err := conn.ExecContext(ctx, "UPDATE pg_database SET datistemplate = true WHERE datname = $1", tpl); err != nil {
		return fmt.Errorf("mark the template: %w", err)
	}
	return nil
}

// clone makes a database from the template. FILE_COPY copies the
// template's files, where PostgreSQL's default (WAL_LOG) writes every page
// of them to the WAL: measured, a third of the server's CPU per clone.
func (s *server) clone(ctx context.Context) (string, error) {
	tpl, err := templateName()
	if err != nil {
		return "", err
	}
	var id [3]byte
	_, _ = rand.Read(id[:])
	name := tpl + "_" + s.owner + "_" + hex.EncodeToString(id[:])
	q := fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s OWNER %s STRATEGY FILE_COPY", name, tpl, testRole)
	if _, err := s.admin.ExecContext(ctx, q); err != nil {
		return "", fmt.Errorf("clone the template: %w", err)
	}
	return name, nil
}

// drop removes a test database; connections a test left open end with it.
func (s *server) drop(ctx context.Context, name string) error {
	s.closePool(name)
	s.mu.Lock()
	conn := s.resets[name]
	delete(s.resets, name)
	s.mu.Unlock()
	if conn != nil {
		conn.Close(ctx)
	}
	if _, err := s.admin.ExecContext(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name)); err != nil {
		return fmt.Errorf("drop the test database %s: %w", name, err)
	}
	return nil
}

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

// config is where the server is and whom to connect as.
type config struct {
	Host, Port, User, Password, Database string
	Options                              string // the URL's query
}

// as is the same server with another user.
func (c config) as(user, password string) config {
	c.User, c.Password = user, password
	return c
}

// url is a postgres:// URL for one of the server's databases.
func (c config) url(database string) string {
	u := url.URL{Scheme: "postgres", Host: net.JoinHostPort(strings.Trim(c.Host, "[]"), c.Port), Path: "/" + database, RawQuery: c.Options}
	if c.Password != "" {
		u.User = url.UserPassword(c.User, c.Password)
	} else {
		u.User = url.User(c.User)
	}
	return u.String()
}

// parseURL reads TEST_DATABASE_URL.
func parseURL(raw string) (config, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return config{}, fmt.Errorf("%s must be a postgres:// URL, got %q", EnvURL, raw)
	}
	conf := config{
		Host:     u.Hostname(),
		Port:     u.Port(),
		User:     u.User.Username(),
		Database: "postgres",
		Options:  u.RawQuery,
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
		return config{}, errors.New(EnvURL + " must name a user")
	}
	if h := net.ParseIP(conf.Host); h != nil && h.To4() == nil {
		conf.Host = "[" + conf.Host + "]"
	}
	return conf, nil
}

var fingerprint = sync.OnceValues(migrations.Fingerprint)
