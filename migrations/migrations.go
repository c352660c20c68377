// Package migrations holds Parley's versioned SQL schema and the one function
// that brings a database up to date: Parley's own goose migrations first, then
// River's job-queue tables.
package migrations

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"sync"

	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivermigrate"
)

//go:embed *.sql
var files embed.FS

// lockKey is the advisory lock that serialises migrations across every
// instance starting against one database ("parley-migrate" as a number).
const lockKey int64 = 0x7061726c65796d67

// Up applies every pending migration, Parley's and River's, while holding a
// session-level advisory lock, so instances that start together take turns
// instead of racing. Running it again on a migrated database changes nothing.
func Up(ctx context.Context, db *sql.DB) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate: connect: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", lockKey); err != nil {
		return fmt.Errorf("migrate: take lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", lockKey) //nolint:errcheck // the lock also ends with the connection

	if upToDate(ctx, conn) {
		return nil
	}
	p, err := provider(db)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: parley schema: %w", err)
	}
	m, err := rivermigrate.New(riverdatabasesql.New(db), nil)
	if err != nil {
		return fmt.Errorf("migrate: river: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrate: river schema: %w", err)
	}
	return nil
}

// upToDate reports whether every migration, Parley's and River's, is
// applied, with two queries on conn: the usual case at every start, where
// goose and River would each check with several queries on connections of
// their own. Any doubt (a table missing, a version rolled back, an error)
// answers false, and Up takes the full path.
func upToDate(ctx context.Context, conn *sql.Conn) bool {
	want, err := versions()
	if err != nil || len(want.parley) == 0 {
		return false
	}
	var exist bool
	if conn.QueryRowContext(ctx, `SELECT to_regclass('goose_db_version') IS NOT NULL
		AND to_regclass('river_migration') IS NOT NULL`).Scan(&exist) != nil || !exist {
		return false
	}
	var applied, latest, rolledBack, river int64
	err = conn.QueryRowContext(ctx, `SELECT
		(SELECT count(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0 AND is_applied),
		(SELECT coalesce(max(version_id), 0) FROM goose_db_version),
		(SELECT count(*) FROM goose_db_version WHERE NOT is_applied),
		(SELECT count(*) FROM river_migration WHERE line = 'main')`).Scan(&applied, &latest, &rolledBack, &river)
	return err == nil && rolledBack == 0 && applied == int64(len(want.parley)) &&
		latest == want.parley[len(want.parley)-1] && river == int64(want.river)
}

// embedded is what this build brings: Parley's versions, ascending, and
// how many River migrations there are.
type embedded struct {
	parley []int64
	river  int
}

// versions lists the embedded migrations once.
var versions = sync.OnceValues(func() (embedded, error) {
	var e embedded
	names, err := fs.Glob(files, "*.sql")
	if err != nil {
		return e, err
	}
	for _, n := range names { // fs.Glob sorts by name: 00001_… first
		v, err := strconv.ParseInt(n[:strings.IndexByte(n, '_')], 10, 64)
		if err != nil {
			return e, fmt.Errorf("migration %s: no version in its name", n)
		}
		e.parley = append(e.parley, v)
	}
	m, err := rivermigrate.New(riverdatabasesql.New(nil), nil)
	if err != nil {
		return e, err
	}
	e.river = len(m.AllVersions())
	return e, nil
})

// Pending reports whether the database lacks any of Parley's or River's
// migrations; /readyz answers "not ready" while it does.
func Pending(ctx context.Context, db *sql.DB) (bool, error) {
	p, err := provider(db)
	if err != nil {
		return false, err
	}
	pending, err := p.HasPending(ctx)
	if err != nil || pending {
		return pending, err
	}
	m, err := rivermigrate.New(riverdatabasesql.New(db), nil)
	if err != nil {
		return false, err
	}
	existing, err := m.ExistingVersions(ctx)
	if err != nil {
		return false, err
	}
	return len(existing) < len(m.AllVersions()), nil
}

func provider(db *sql.DB) (*goose.Provider, error) {
	p, err := goose.NewProvider(goose.DialectPostgres, db, files)
	if err != nil {
		return nil, fmt.Errorf("migrate: load migrations: %w", err)
	}
	return p, nil
}

// Fingerprint identifies the schema these migrations produce: a hash of every
// embedded SQL file and of River's migration list. Test harnesses key their
// migrated template databases on it, so a changed migration builds a new one.
func Fingerprint() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", path, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", err
	}
	m, err := rivermigrate.New(riverdatabasesql.New(nil), nil)
	if err != nil {
		return "", err
	}
	for _, v := range m.AllVersions() {
		fmt.Fprintf(h, "river\x00%d\x00%s\x00", v.Version, v.SQLUp)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
