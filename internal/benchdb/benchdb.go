// Package benchdb opens the database a benchmark command (cmd/parley-bench,
// parley-listbench, parley-searchbench) measures against: DATABASE_URL when
// set, otherwise a private PostgreSQL from pgembed in the data directory
// (kept for the next run) or in a temporary one (removed on Close); either
// way migrated.
package benchdb

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/parleydesk/parley/internal/pgembed"
	"github.com/parleydesk/parley/migrations"
)

// DB is an open, migrated benchmark database.
type DB struct {
	DSN  string   // its URL, for the servers the benchmark starts
	Gorm *gorm.DB // for seeding and checks
	SQL  *sql.DB

	pgDir   string // the private server's data directory ("" with DATABASE_URL)
	closers []func()
}

// Options say where the private server lives and how many connections it
// takes; the zero value is a temporary server with pgembed's default.
type Options struct {
	Name           string // names the temporary directory: "parley-bench"
	DataDir        string // keep the server here between runs ("" = temporary)
	MaxConnections int
	// Settings are server settings for the private server ("name=value"),
	// ignored with DATABASE_URL.
	Settings []string
}

// Open starts or finds the database and brings it up to date.
func Open(ctx context.Context, o Options) (_ *DB, err error) {
	d := &DB{DSN: os.Getenv("DATABASE_URL")}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	if d.DSN == "" {
		dir := o.DataDir
		if dir == "" {
			tmp, err := os.MkdirTemp("", o.Name+"-*")
			if err != nil {
				return nil, err
			}
			d.closers = append(d.closers, func() { os.RemoveAll(tmp) })
			// As root the server runs as postgres, which must enter it.
			if err := os.Chmod(tmp, 0o755); err != nil {
				return nil, err
			}
			dir = tmp
		}
		pg, err := pgembed.Start(ctx, pgembed.Options{Dir: filepath.Join(dir, "postgres"), Fsync: true, MaxConnections: o.MaxConnections, Settings: o.Settings})
		if err != nil {
			return nil, err
		}
		d.closers = append(d.closers, func() { pg.Stop(context.Background()) })
		d.pgDir = pg.Dir()
		if err := pg.EnsureDatabase(ctx, "parley"); err != nil {
			return nil, err
		}
		d.DSN = pg.URL("parley")
	}
	if d.SQL, err = sql.Open("pgx", d.DSN); err != nil {
		return nil, err
	}
	d.closers = append(d.closers, func() { d.SQL.Close() })
	if err := migrations.Up(ctx, d.SQL); err != nil {
		return nil, err
	}
	d.Gorm, err = gorm.Open(postgres.New(postgres.Config{Conn: d.SQL}), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// Close closes the connections, stops a private server and removes a
// temporary directory, in that order.
func (d *DB) Close() {
	for i := len(d.closers) - 1; i >= 0; i-- {
		d.closers[i]()
	}
	d.closers = nil
}
