package live

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// sseEvent is one event read from a stream.
type sseEvent struct {
	name, id, data string
}

// parseSSE reads events from an event stream until it ends.
func parseSSE(r io.Reader, emit func(sseEvent)) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	var ev sseEvent
	var data []string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if ev.name != "" || len(data) > 0 {
				ev.data = strings.Join(data, "\n")
				emit(ev)
			}
			ev, data = sseEvent{}, nil
		case strings.HasPrefix(line, "event: "):
			ev.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "id: "):
			ev.id = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "data: "):
			data = append(data, strings.TrimPrefix(line, "data: "))
		}
	}
}

// readSSE opens a stream and sends its events on a channel until ctx ends.
func readSSE(t *testing.T, ctx context.Context, url string, headers ...string) <-chan sseEvent {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "text/event-stream", res.Header.Get("Content-Type"))
	ch := make(chan sseEvent, 100)
	go func() {
		defer res.Body.Close()
		defer close(ch)
		parseSSE(res.Body, func(ev sseEvent) { ch <- ev })
	}()
	return ch
}

// next waits (boundedly) for the next event named name.
func next(t *testing.T, ch <-chan sseEvent, name string) sseEvent {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-ch:
			require.True(t, ok, "stream ended before a %q event", name)
			if ev.name == name {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %q event", name)
		}
	}
}

// The stream machinery with a renderer that lists message bodies: resume
// with Last-Event-ID replays exactly what was missed, once; shutdown ends
// every stream.
func TestStreamResumesExactlyAndEndsOnShutdown(t *testing.T) {
	t.Parallel()
	e := setup(t)
	hubCtx, stopHub := context.WithCancel(context.Background())
	t.Cleanup(stopHub)
	hub := NewHub(slog.New(slog.DiscardHandler), e.rt)
	hub.Start(hubCtx)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := hub.Serve(w, r, Stream{Render: func(ctx context.Context, b *Batch, evs []models.Event) ([][2]string, error) {
			var out [][2]string
			for _, ev := range evs {
				if ev.Kind == models.EventMessage {
					out = append(out, [2]string{"update", b.Messages[*ev.MessageID].Body})
				}
			}
			return out, nil
		}})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}))
	t.Cleanup(srv.Close)
	ctx := context.Background()
	v, conv := startConversation(t, e.db, "m0")
	post := func(body string) {
		_, err := factory.Write1(e.db, func(tx models.Tx) (*models.Message, error) {
			return models.PostMessage(ctx, tx, models.Actor{Customer: v.Customer}, conv, models.MessageText, body)
		})
		require.NoError(t, err)
		e.rt.Ring()
	}

	// (A page may show events above its cursor too: replays are idempotent on
	// the client. Here the broker catches up first so m0 is below it.)
	require.NoError(t, e.rt.Poll(ctx))
	since := e.rt.Cursor()
	sctx, cancel := context.WithCancel(ctx)
	ch := readSSE(t, sctx, fmt.Sprintf("%s/test/events?since=%d", srv.URL, since))
	post("m1")
	first := next(t, ch, "update")
	require.Equal(t, "m1", first.data)
	require.NotEmpty(t, first.id)
	cancel()

	post("m2")
	post("m3")
	time.Sleep(50 * time.Millisecond)
	ch = readSSE(t, ctx, srv.URL+"/test/events", "Last-Event-ID", first.id)
	got := []string{next(t, ch, "update").data}
	if got[0] != "m2\nm3" && !strings.Contains(got[0], "m3") {
		got = append(got, next(t, ch, "update").data)
	}
	post("m4")
	got = append(got, next(t, ch, "update").data)
	require.Equal(t, "m2 m3 m4", strings.Join(strings.Fields(strings.Join(got, " ")), " "), "missed messages replayed once, then live ones")

	require.Eventually(t, func() bool { return hub.Count() >= 1 }, 5*time.Second, 10*time.Millisecond)
	hub.CloseAll()
	select {
	case _, ok := <-ch:
		for ok {
			_, ok = <-ch
		}
	case <-time.After(5 * time.Second):
		t.Fatal("stream not closed on shutdown")
	}
	require.Zero(t, hub.Count())
}

// FuzzResumePoint: a stream's resume point is the first resume id the
// client sent (Last-Event-ID first), or 0 — whatever the client sent.
func FuzzResumePoint(f *testing.F) {
	f.Add("42", "", "")
	f.Add("", "7", "3")
	f.Add("abc", "-1", "18446744073709551615")
	f.Add("\x00", "1e3", " 5")
	f.Add("0x10", "+3", "٣")
	f.Add("42-45-47", "", "")
	f.Add("42-41", "42-43-43", "42--43")
	f.Add("42-42", "", "")
	f.Fuzz(func(t *testing.T, lastEventID, lastParam, since string) {
		req := httptest.NewRequest(http.MethodGet, "/widget/events?"+url.Values{"last_event_id": {lastParam}, "since": {since}}.Encode(), nil)
		req.Header.Set("Last-Event-ID", lastEventID)
		got, had := resumePoint(req)
		if got == 0 {
			require.Empty(t, had)
			return
		}
		require.LessOrEqual(t, len(had), maxAhead)
		for i, x := range had {
			require.GreaterOrEqual(t, x, got, "handed-off transactions lie at or above the position")
			if i > 0 {
				require.Greater(t, x, had[i-1], "in increasing order")
			}
		}
		for _, v := range []string{lastEventID, lastParam, since} {
			if n, h, ok := parseResumeID(v); ok {
				if n != got || formatResumeID(n, h) != formatResumeID(got, had) {
					t.Fatalf("resume point %d %v, but the first position sent is %q", got, had, v)
				}
				n2, h2, ok2 := parseResumeID(formatResumeID(n, h))
				if !ok2 || n2 != n || !slices.Equal(h, h2) {
					t.Fatalf("%q reads as %d %v, which is written %q", v, n, h, formatResumeID(n, h))
				}
				return
			}
		}
		t.Fatalf("resume point %d from nothing the client sent", got)
	})
}
