package app

import (
	"context"
	"sync"

	"gorm.io/gorm"

	"github.com/parleydesk/parley/models"
)

// maxRowsRound bounds how many streams' requests one statement serves.
const maxRowsRound = 256

// rowsLoader reads the desk streams' live rows (models.LiveRows) together.
// Every agent's desk stream gets every customer message, so the streams of
// one instance render the same batches at about the same moment, each
// needing the same conversations' rows for its own viewer. A request that
// finds no read running starts one at once; those that come while it runs
// wait for it and go together in the next, one statement
// (models.LiveRowsMany). A request never joins a read already started: the
// rows it gets were read after it asked, so after its batch committed.
type rowsLoader struct {
	db *gorm.DB
	// reads keeps connections on generic plans for the reads (nil: each
	// read opens its own transaction for them).
	reads *models.GenericReads
	// read is models.LiveRowsMany on db (a test's stand-in when set).
	read func(context.Context, []models.RowsRequest) ([]map[int64]*models.InboxRow, error)

	mu      sync.Mutex
	queue   []*rowsCall
	running bool
}

type rowsCall struct {
	req  models.RowsRequest
	rows map[int64]*models.InboxRow
	err  error
	done chan struct{}
}

// load returns u's rows of the conversations ids that u may see.
func (l *rowsLoader) load(ctx context.Context, u *models.User, ids []int64) (map[int64]*models.InboxRow, error) {
	call := &rowsCall{req: models.RowsRequest{Viewer: u, IDs: ids}, done: make(chan struct{})}
	l.mu.Lock()
	l.queue = append(l.queue, call)
	start := !l.running
	l.running = true
	l.mu.Unlock()
	if start {
		// The read outlives any one stream that asked: the others wait on it.
		go l.run(context.WithoutCancel(ctx))
	}
	select {
	case <-call.done:
		return call.rows, call.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// run reads rounds of queued requests until none is left.
func (l *rowsLoader) run(ctx context.Context) {
	for {
		l.mu.Lock()
		n := min(len(l.queue), maxRowsRound)
		if n == 0 {
			l.running = false
			l.mu.Unlock()
			return
		}
		round := l.queue[:n:n]
		l.queue = l.queue[n:]
		l.mu.Unlock()

		reqs := make([]models.RowsRequest, len(round))
		for i, c := range round {
			reqs[i] = c.req
		}
		read := l.read
		if read == nil {
			read = func(ctx context.Context, reqs []models.RowsRequest) (rows []map[int64]*models.InboxRow, err error) {
				err = l.reads.Do(ctx, l.db, func(db *gorm.DB) error {
					rows, err = models.LiveRowsMany(ctx, db, reqs)
					return err
				})
				return rows, err
			}
		}
		rows, err := read(ctx, reqs)
		for i, c := range round {
			if err != nil {
				c.err = err
			} else {
				c.rows = rows[i]
			}
			close(c.done)
		}
	}
}
