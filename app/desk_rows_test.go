package app

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/models"
)

// Requests that come while a read runs go together in the next one, each
// gets its own viewer's rows, and none joins a read already started (its
// rows must be read after it asked).
func TestRowsLoaderCombinesWaitingRequests(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var rounds [][]models.RowsRequest
	started := make(chan struct{}, 10)
	release := make(chan struct{})
	l := &rowsLoader{read: func(_ context.Context, reqs []models.RowsRequest) ([]map[int64]*models.InboxRow, error) {
		mu.Lock()
		rounds = append(rounds, reqs)
		first := len(rounds) == 1
		mu.Unlock()
		started <- struct{}{}
		if first {
			<-release
		}
		out := make([]map[int64]*models.InboxRow, len(reqs))
		for i, r := range reqs {
			out[i] = map[int64]*models.InboxRow{}
			for _, id := range r.IDs {
				// The viewer's id in the row, to tell whose it is.
				out[i][id] = &models.InboxRow{Conversation: models.Conversation{ID: id, CreatedBy: &r.Viewer.ID}}
			}
		}
		return out, nil
	}}
	ctx := context.Background()
	get := func(viewer int64, ids ...int64) <-chan map[int64]*models.InboxRow {
		ch := make(chan map[int64]*models.InboxRow, 1)
		go func() {
			rows, err := l.load(ctx, &models.User{ID: viewer}, ids)
			assert.NoError(t, err)
			ch <- rows
		}()
		return ch
	}
	first := get(1, 10, 11)
	<-started // the first read runs, alone
	waiting := []<-chan map[int64]*models.InboxRow{get(2, 10), get(3, 11, 12), get(4)}
	require.Eventually(t, func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return len(l.queue) == 3
	}, 5*time.Second, time.Millisecond)
	close(release)

	rows := <-first
	assert.Len(t, rows, 2)
	assert.Equal(t, int64(1), *rows[10].CreatedBy)
	for i, ch := range waiting {
		rows := <-ch
		viewer := int64(i + 2)
		for id, r := range rows {
			assert.Equal(t, viewer, *r.CreatedBy, "viewer %d's row %d", viewer, id)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, rounds, 2, "the three waiting requests went together")
	assert.Len(t, rounds[0], 1)
	assert.Len(t, rounds[1], 3)

	// A failed read fails every request of its round, and the next works.
	l.read = func(context.Context, []models.RowsRequest) ([]map[int64]*models.InboxRow, error) {
		return nil, errors.New("database down")
	}
	_, err := l.load(ctx, &models.User{ID: 1}, []int64{1})
	require.Error(t, err)
}

// A stream that goes away stops waiting; the read goes on for the others.
func TestRowsLoaderCallerLeaves(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	l := &rowsLoader{read: func(_ context.Context, reqs []models.RowsRequest) ([]map[int64]*models.InboxRow, error) {
		<-release
		return make([]map[int64]*models.InboxRow, len(reqs)), nil
	}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := l.load(ctx, &models.User{ID: 1}, []int64{1})
		done <- err
	}()
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	close(release)
	require.Eventually(t, func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return !l.running
	}, 5*time.Second, time.Millisecond)
}
