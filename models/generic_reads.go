package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"
)

// GenericReads keeps a few of the pool's connections set to generic plans
// for the reads live delivery makes on every batch (the conversations and
// messages of a batch, the desk streams' rows). GenericPlans gives them
// generic plans in a transaction of their own: BEGIN, SET LOCAL and COMMIT,
// three round trips around every read, twice per message on the way from a
// commit to an agent's screen. A connection that keeps the setting for its
// session needs none of them.
//
// The connections come from the instance's one pool and stay checked out
// while kept (at most keepGenericConns); one leaves with RESET, so no other
// caller ever gets a connection set to generic plans. Behind PgBouncer in
// transaction pooling a session setting does not stay with the client, so
// NewGenericReads is not used there (and the unnamed statements used there
// are planned for each call anyway). The zero of *GenericReads (nil) runs fn
// on db as GenericPlans does.
type GenericReads struct {
	db  *gorm.DB
	sql *sql.DB

	mu     sync.Mutex
	free   []*genericConn
	closed bool
}

// keepGenericConns is how many set connections are kept between reads: the
// broker's hand-offs, its polls, and the desk streams' rows each read one at
// a time.
const keepGenericConns = 3

var errGenericClosed = errors.New("generic reads: closed")

// genericConn is a checked-out connection set to generic plans, as GORM's
// connection pool for the reads made on it.
type genericConn struct {
	*sql.Conn
	used time.Time
}

// NewGenericReads returns the reader over db's pool.
func NewGenericReads(db *gorm.DB) (*GenericReads, error) {
	s, err := db.DB()
	if err != nil {
		return nil, err
	}
	return &GenericReads{db: db, sql: s}, nil
}

// Do runs fn with a handle whose reads run on generic plans, on a kept
// connection: GenericPlans inside fn runs its reads there as they are. fn
// only reads, so if its connection turns out closed (the server restarted
// while it was kept) fn runs once more, on a new one. On the nil reader, fn
// gets db (and GenericPlans opens its transaction).
func (g *GenericReads) Do(ctx context.Context, db *gorm.DB, fn func(db *gorm.DB) error) error {
	if g == nil {
		return fn(db)
	}
	for try := 0; ; try++ {
		c, err := g.take(ctx)
		if errors.Is(err, errGenericClosed) {
			return fn(db) // the instance is stopping: GenericPlans' own transaction
		}
		if err != nil {
			return err
		}
		closed, err := g.run(ctx, c, fn)
		if err == nil || !closed || try > 0 || ctx.Err() != nil {
			return err
		}
	}
}

// run runs fn on c and gives c back; closed reports that c's connection
// was closed under it.
func (g *GenericReads) run(ctx context.Context, c *genericConn, fn func(db *gorm.DB) error) (closed bool, err error) {
	defer func() { closed = g.give(c) }()
	on := g.db.Session(&gorm.Session{NewDB: true, Context: ctx})
	on.Statement.ConnPool = c
	return false, fn(on)
}

// take returns a kept connection, or sets a new one.
func (g *GenericReads) take(ctx context.Context) (*genericConn, error) {
	for {
		g.mu.Lock()
		if g.closed {
			g.mu.Unlock()
			return nil, errGenericClosed
		}
		var c *genericConn
		if n := len(g.free); n > 0 {
			c, g.free = g.free[n-1], g.free[:n-1]
		}
		g.mu.Unlock()
		if c == nil {
			break
		}
		// One idle for a while may have been closed by the server (a
		// restart): pinged first, as the pool pings its own.
		if time.Since(c.used) < time.Second || c.PingContext(ctx) == nil {
			return c, nil
		}
		c.drop()
	}
	conn, err := g.sql.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, "SET plan_cache_mode = force_generic_plan"); err != nil {
		(&genericConn{Conn: conn}).drop()
		return nil, fmt.Errorf("generic reads: %w", err)
	}
	return &genericConn{Conn: conn}, nil
}

// give keeps c for the next read, or lets it go if it broke (then it
// reports whether its connection was closed) or enough are kept.
func (g *GenericReads) give(c *genericConn) (closed bool) {
	if open, idle := c.state(); !idle {
		c.drop()
		return !open
	}
	c.used = time.Now()
	g.mu.Lock()
	keep := !g.closed && len(g.free) < keepGenericConns
	if keep {
		g.free = append(g.free, c)
	}
	g.mu.Unlock()
	if !keep {
		c.release()
	}
	return false
}

// Close gives the kept connections back to the pool (before it closes: a
// pgx pool waits for the connections checked out of it).
func (g *GenericReads) Close() {
	if g == nil {
		return
	}
	g.mu.Lock()
	free := g.free
	g.free, g.closed = nil, true
	g.mu.Unlock()
	for _, c := range free {
		c.release()
	}
}

// state reports whether c's connection is still open, and open and idle
// (a read that failed or was cancelled may have closed it, or left it
// mid-way).
func (c *genericConn) state() (open, idle bool) {
	_ = c.Raw(func(dc any) error {
		if pc, is := dc.(interface{ Conn() *pgx.Conn }); is {
			p := pc.Conn().PgConn()
			open = !p.IsClosed()
			idle = open && !p.IsBusy() && p.TxStatus() == 'I'
		}
		return nil
	})
	return open, idle
}

// release gives c back to the pool as other callers expect connections: on
// the default plan choice. If that fails, it is closed instead.
func (c *genericConn) release() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.ExecContext(ctx, "RESET plan_cache_mode"); err != nil {
		c.drop()
		return
	}
	_ = c.Close()
}

// drop closes c's connection rather than giving it back to the pool.
func (c *genericConn) drop() {
	_ = c.Raw(func(any) error { return driver.ErrBadConn })
	_ = c.Close()
}
