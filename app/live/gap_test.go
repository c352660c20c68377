package live

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/models"
)

// A busy stream renders at most once per renderGap, every batch that
// arrived meanwhile in one render, in order and none lost; a quiet one
// renders each batch as it comes (the first here).
func TestBusyStreamRendersOncePerGap(t *testing.T) {
	t.Parallel()
	e := newInstance(t, "")
	hubCtx, stopHub := context.WithCancel(context.Background())
	t.Cleanup(stopHub)
	hub := NewHub(slog.New(slog.DiscardHandler), e.rt)
	hub.Start(hubCtx)

	var mu sync.Mutex
	var renders []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := hub.Serve(w, r, Stream{Render: func(ctx context.Context, b *Batch, evs []models.Event) ([][2]string, error) {
			mu.Lock()
			renders = append(renders, time.Now())
			mu.Unlock()
			var bodies []string
			for _, ev := range evs {
				bodies = append(bodies, b.Messages[*ev.MessageID].Body)
			}
			return [][2]string{{"update", strings.Join(bodies, " ")}}, nil
		}})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ch := readSSE(t, ctx, srv.URL)
	require.Eventually(t, func() bool { return hub.Count() == 1 }, 5*time.Second, 5*time.Millisecond)

	// 60 batches, one every tenth of a millisecond: one message each, on the horizon's path
	// (each window right after the one before).
	const n = 60
	base := e.rt.Cursor()
	var want []string
	for i := range n {
		id, xid := int64(i+1), base+uint64(i)
		body := "m" + strconv.Itoa(i)
		want = append(want, body)
		e.rt.mu.Lock()
		e.rt.dispatch(&Batch{From: xid, To: xid + 1,
			Events:   []models.Event{{ID: id, XID: xid, Kind: models.EventMessage, MessageID: &id}},
			Messages: map[int64]*models.Message{id: {ID: id, Body: body}}})
		e.rt.mu.Unlock()
		time.Sleep(100 * time.Microsecond)
	}
	var got []string
	for len(got) < n {
		got = append(got, strings.Fields(next(t, ch, "update").data)...)
	}
	require.Equal(t, want, got, "every message once, in order")

	mu.Lock()
	defer mu.Unlock()
	require.Less(t, len(renders), n, "batches that came within the gap were rendered together")
	for i := 1; i < len(renders); i++ {
		// (AfterFunc never fires early; a little slack for the clock.)
		require.GreaterOrEqual(t, renders[i].Sub(renders[i-1]), renderGap-time.Millisecond, "render %d came too soon after the one before", i)
	}
	t.Logf("%d batches in %d renders over %v", n, len(renders), renders[len(renders)-1].Sub(renders[0]))
}
