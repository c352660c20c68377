package dbtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Reusing a database instead of cloning a new one per test: a clone and a
// drop cost PostgreSQL about 0.1 s of CPU, and every connection into a new
// database starts with cold catalog caches. A reused database is emptied
// back to the template's contents: every table's rows deleted (the tables of
// a test are small, so DELETE is cheaper than TRUNCATE's new files), the rows
// the migrations seeded copied back, and every sequence set where the
// template had it, so ids come out as they would in a fresh clone.

// snapshot is what a freshly cloned database holds beyond its schema.
type snapshot struct {
	wipe      string            // one statement list that deletes every table's rows
	seeds     []seed            // tables with rows in the template
	sequences string            // one SELECT that puts every sequence back
	schema    schemaSignature   // to notice a test that changed the schema
	columns   map[string]string // table → its column list, for COPY
}

type seed struct {
	table, columns string
	rows           []byte // COPY text format
}

// schemaSignature changes when a table, index, view or sequence is created
// or dropped: reset refuses a database whose schema a test changed.
type schemaSignature struct {
	Count, MaxOID int64
}

const signatureQuery = `SELECT count(*), coalesce(max(oid::int8), 0) FROM pg_class WHERE relpersistence <> 't'`

func readSignature(ctx context.Context, conn *pgx.Conn) (sig schemaSignature, err error) {
	err = conn.QueryRow(ctx, signatureQuery).Scan(&sig.Count, &sig.MaxOID)
	return sig, err
}

// takeSnapshot reads a fresh clone's contents.
func takeSnapshot(ctx context.Context, conn *pgx.Conn) (*snapshot, error) {
	snap := &snapshot{columns: map[string]string{}}
	var err error
	if snap.schema, err = readSignature(ctx, conn); err != nil {
		return nil, err
	}
	// Ordinary tables of every schema but the system's; partitions are
	// reached through their own rows in pg_class (relkind 'r' too).
	rows, err := conn.Query(ctx, `
		SELECT format('%I.%I', n.nspname, c.relname),
		       (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) FROM pg_attribute a
		         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '')
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
		ORDER BY 1`)
	if err != nil {
		return nil, err
	}
	var tables []string
	for rows.Next() {
		var table, cols string
		if err := rows.Scan(&table, &cols); err != nil {
			return nil, err
		}
		tables = append(tables, table)
		snap.columns[table] = cols
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(tables) == 0 {
		return nil, errors.New("the template has no tables")
	}
	var wipe strings.Builder
	for _, table := range tables {
		fmt.Fprintf(&wipe, "DELETE FROM %s;", table)
		var buf bytes.Buffer
		if _, err := conn.PgConn().CopyTo(ctx, &buf, fmt.Sprintf("COPY %s (%s) TO STDOUT", table, snap.columns[table])); err != nil {
			return nil, fmt.Errorf("copy %s: %w", table, err)
		}
		if buf.Len() > 0 {
			snap.seeds = append(snap.seeds, seed{table: table, columns: snap.columns[table], rows: buf.Bytes()})
		}
	}
	snap.wipe = wipe.String()

	// Every sequence back where the template left it: setval(…, false) for
	// one never used, so its next value is its start.
	var setvals []string
	rows, err = conn.Query(ctx, `SELECT format('%I.%I', schemaname, sequencename), coalesce(last_value, start_value), last_value IS NOT NULL FROM pg_sequences`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var name string
		var value int64
		var called bool
		if err := rows.Scan(&name, &value, &called); err != nil {
			return nil, err
		}
		setvals = append(setvals, fmt.Sprintf("setval('%s', %d, %t)", strings.ReplaceAll(name, "'", "''"), value, called))
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(setvals) > 0 {
		snap.sequences = "SELECT " + strings.Join(setvals, ", ")
	}
	return snap, nil
}

// reset empties a database that a passed test used back to the template's
// contents. An error means the database cannot be reused (a test changed
// its schema, or left something reset cannot undo): the caller drops it.
func (s *server) reset(ctx context.Context, name string) error {
	conn, err := s.resetConn(ctx, name)
	if err != nil {
		return err
	}
	// Sessions the test left busy (a transaction open, a query running)
	// end first: their locks would stall the deletes. Idle sessions stay:
	// a test harness may hand its pool to the next test with the database.
	if _, err := conn.Exec(ctx, `SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND state IS DISTINCT FROM 'idle'`); err != nil {
		return err
	}
	sig, err := readSignature(ctx, conn)
	if err != nil {
		return err
	}
	if sig != s.snap.schema {
		return errors.New("the test changed the schema")
	}
	// Replica mode skips foreign-key checks and triggers, so tables empty
	// in any order and seeds come back exactly as they were.
	if _, err := conn.Exec(ctx, "BEGIN; SET LOCAL session_replication_role = replica;"+s.snap.wipe); err != nil {
		return s.abort(ctx, conn, err)
	}
	for _, sd := range s.snap.seeds {
		if _, err := conn.PgConn().CopyFrom(ctx, bytes.NewReader(sd.rows), fmt.Sprintf("COPY %s (%s) FROM STDIN", sd.table, sd.columns)); err != nil {
			return s.abort(ctx, conn, fmt.Errorf("restore %s: %w", sd.table, err))
		}
	}
	if s.snap.sequences != "" {
		if _, err := conn.Exec(ctx, s.snap.sequences); err != nil {
			return s.abort(ctx, conn, err)
		}
	}
	_, err = conn.Exec(ctx, "COMMIT")
	return err
}

func (s *server) abort(ctx context.Context, conn *pgx.Conn, err error) error {
	_, _ = conn.Exec(ctx, "ROLLBACK")
	return err
}

// resetConn is the superuser connection into a database that reset uses,
// opened once per database.
func (s *server) resetConn(ctx context.Context, name string) (*pgx.Conn, error) {
	s.mu.Lock()
	conn := s.resets[name]
	s.mu.Unlock()
	if conn != nil && !conn.IsClosed() {
		return conn, nil
	}
	conn, err := pgx.Connect(ctx, s.conf.url(name))
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.resets[name] = conn
	s.mu.Unlock()
	return conn, nil
}

// take returns a reset database, or "" when none is free.
func (s *server) take() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := len(s.free); n > 0 {
		name := s.free[n-1]
		s.free = s.free[:n-1]
		return name
	}
	return ""
}

func (s *server) give(name string) {
	s.mu.Lock()
	s.free = append(s.free, name)
	s.mu.Unlock()
}

// keep marks a failed test's database so that no later run drops it.
func (s *server) keep(ctx context.Context, name string) {
	_, _ = s.admin.ExecContext(ctx, fmt.Sprintf("COMMENT ON DATABASE %s IS 'kept: its test failed'", pgx.Identifier{name}.Sanitize()))
}

// claim takes this process's owner lock, then drops the databases of test
// processes that have ended without dropping theirs (a process reuses its
// databases until it exits, so it leaves them behind), except those kept
// for a failed test.
func (s *server) claim(ctx context.Context) error {
	conn, err := s.admin.Conn(ctx)
	if err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(hashtext('parley dbtest owner ' || $1))", s.owner); err != nil {
		conn.Close()
		return err
	}
	s.ownerLock = conn
	tpl, err := templateName()
	if err != nil {
		return err
	}
	rows, err := s.admin.QueryContext(ctx, `SELECT d.datname FROM pg_database d
		WHERE d.datname LIKE $1 || '\_%\_%' AND NOT d.datistemplate AND shobj_description(d.oid, 'pg_database') IS NULL`, tpl)
	if err != nil {
		return err
	}
	var left []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		left = append(left, name)
	}
	rows.Close()
	alive := map[string]bool{}
	for _, name := range left {
		parts := strings.Split(strings.TrimPrefix(name, tpl+"_"), "_")
		if len(parts) != 2 {
			continue
		}
		owner := parts[0]
		live, seen := alive[owner]
		if !seen {
			// An owner whose lock can be taken has ended.
			var free bool
			if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock(hashtext('parley dbtest owner ' || $1))", owner).Scan(&free); err != nil {
				return err
			}
			if free {
				_, _ = conn.ExecContext(ctx, "SELECT pg_advisory_unlock(hashtext('parley dbtest owner ' || $1))", owner)
			}
			live, alive[owner] = !free, !free
		}
		if !live {
			_, _ = s.admin.ExecContext(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", pgx.Identifier{name}.Sanitize()))
		}
	}
	return nil
}

// Pool returns the pool that outlives the tests on url's database (a URL
// from URL), opening it with open the first time: a connection costs
// PostgreSQL tens of milliseconds to start and about as much again to warm
// its caches, so the next test on the database gets this one's connections
// with it. The pool is closed when its database is dropped or kept for a
// failed test, or by DiscardPool.
func Pool(t testing.TB, url string, open func(url string) (*pgxpool.Pool, error)) *pgxpool.Pool {
	t.Helper()
	srv, err := shared()
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	name, err := databaseName(url)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	srv.mu.Lock()
	p := srv.pools[name]
	srv.mu.Unlock()
	if p != nil && p.Stat().AcquiredConns() > 0 {
		// The last test left connections checked out (a goroutine that
		// outlived its instance): they would count against this test's
		// pool size, so it gets a fresh pool instead.
		srv.closePoolAsync(name)
		p = nil
	}
	if p != nil {
		// reset ended the sessions the last test left busy: those
		// connections are dead, and leave the pool here.
		ctx := context.Background()
		for _, conn := range p.AcquireAllIdle(ctx) {
			if conn.Ping(ctx) != nil {
				_ = conn.Hijack().Close(ctx)
				continue
			}
			conn.Release()
		}
		return p
	}
	if p, err = open(url); err != nil {
		t.Fatalf("dbtest: open a pool: %v", err)
	}
	srv.mu.Lock()
	srv.pools[name] = p
	srv.mu.Unlock()
	return p
}

// DiscardPool has the pool Pool keeps for url's database closed when the
// test ends, instead of handed on: for a test that breaks its connections.
func DiscardPool(url string) {
	srv, err := shared()
	if err != nil {
		return
	}
	if name, err := databaseName(url); err == nil {
		srv.mu.Lock()
		srv.discard[name] = true
		srv.mu.Unlock()
	}
}

// closePoolAsync forgets name's pool and closes it in the background
// (Close waits for connections still checked out).
func (s *server) closePoolAsync(name string) {
	s.mu.Lock()
	p := s.pools[name]
	delete(s.pools, name)
	s.mu.Unlock()
	if p != nil {
		go p.Close()
	}
}

func (s *server) closePool(name string) {
	s.mu.Lock()
	p := s.pools[name]
	delete(s.pools, name)
	delete(s.discard, name)
	s.mu.Unlock()
	if p != nil {
		p.Close()
	}
}

func databaseName(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	return strings.TrimPrefix(u.Path, "/"), nil
}
