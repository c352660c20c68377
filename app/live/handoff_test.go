package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// setupHandOffOnly is setup with the doorbell and the horizon loop off: the
// broker delivers only what is handed off to it, and what the test's own
// Poll calls find below the horizon.
func setupHandOffOnly(t *testing.T) *instance {
	t.Helper()
	in := newInstance(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	h, err := models.CommittedHorizon(ctx, in.db)
	require.NoError(t, err)
	in.rt.cursor = h.XID
	in.rt.startHandOff(ctx)
	return in
}

// bodyStreams serves streams on e's hub whose renderer sends each batch's
// message bodies, space-separated, as one update.
func bodyStreams(t *testing.T, e *instance) string {
	t.Helper()
	hubCtx, stopHub := context.WithCancel(context.Background())
	t.Cleanup(stopHub)
	hub := NewHub(slog.New(slog.DiscardHandler), e.rt)
	hub.Start(hubCtx)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := hub.Serve(w, r, Stream{Render: func(ctx context.Context, b *Batch, evs []models.Event) ([][2]string, error) {
			var bodies []string
			for _, ev := range evs {
				if ev.Kind == models.EventMessage {
					bodies = append(bodies, b.Messages[*ev.MessageID].Body)
				}
			}
			if len(bodies) == 0 {
				return nil, nil
			}
			return [][2]string{{"update", strings.Join(bodies, " ")}}, nil
		}})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// quiet fails if ch yields an update within d.
func quiet(t *testing.T, ch <-chan sseEvent, d time.Duration) {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case ev, ok := <-ch:
			if ok && ev.name == "update" {
				t.Fatalf("unexpected update %q", ev.data)
			}
			if !ok {
				return
			}
		case <-timeout:
			return
		}
	}
}

// A write's own instance delivers its events at once, with no doorbell and
// no poll: to staff and to the customer's subscription, as a HandedOff batch
// carrying the message, and the cursor stays where the horizon left it. A
// write that rolls back hands off nothing.
func TestHandOffDeliversAtOnceWithoutDoorbell(t *testing.T) {
	t.Parallel()
	e := setupHandOffOnly(t)
	ctx := context.Background()
	v, conv := startConversation(t, e.db, "hello")
	require.NoError(t, e.rt.Poll(ctx))
	cursor := e.rt.Cursor()
	staffWake, visitorWake := make(chan struct{}, 1), make(chan struct{}, 1)
	staff, _ := e.rt.Subscribe(0, signal(staffWake))
	visitor, _ := e.rt.Subscribe(v.CustomerID, signal(visitorWake))

	start := time.Now()
	var m *models.Message
	require.NoError(t, factory.WriteCommitted(e.db, e.rt.HandOff, func(tx models.Tx) (err error) {
		m, err = models.PostMessage(ctx, tx, models.Actor{Customer: v.Customer}, conv, models.MessageText, "at once")
		return err
	}))
	for who, w := range map[string]struct {
		sub  *Subscription
		wake chan struct{}
	}{"staff": {staff, staffWake}, "visitor": {visitor, visitorWake}} {
		select {
		case <-w.wake:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: nothing handed off", who)
		}
		got := w.sub.Take()
		require.Len(t, got, 1, who)
		require.True(t, got[0].HandedOff, who)
		require.Len(t, got[0].Events, 1, who)
		require.Equal(t, m.ID, *got[0].Events[0].MessageID, who)
		require.Equal(t, "at once", got[0].Messages[m.ID].Body, who)
		require.Equal(t, conv.ID, got[0].Conversations[conv.ID].ID, who)
	}
	t.Logf("commit → handed to subscribers: %v", time.Since(start))
	require.Equal(t, cursor, e.rt.Cursor(), "a hand-off does not move the horizon cursor")

	err := factory.WriteCommitted(e.db, e.rt.HandOff, func(tx models.Tx) error {
		if _, err := models.PostMessage(ctx, tx, models.Actor{Customer: v.Customer}, conv, models.MessageText, "never"); err != nil {
			return err
		}
		return errors.New("roll back")
	})
	require.EqualError(t, err, "roll back")
	select {
	case <-staffWake:
		t.Fatalf("a rolled-back write was handed off: %v", staff.Take())
	case <-time.After(200 * time.Millisecond):
	}

	// The horizon brings the message again (the backstop); streams leave it
	// out (TestHandOffThenHorizonDeliversOnceAndResumesWithoutGaps).
	require.NoError(t, e.rt.Poll(ctx))
	got := staff.Take()
	require.Len(t, got, 1)
	require.False(t, got[0].HandedOff)
	require.Equal(t, "at once", got[0].Messages[m.ID].Body, "the poll reuses the rows the hand-off loaded")
	require.Equal(t, conv.ID, got[0].Conversations[conv.ID].ID)
	require.Greater(t, e.rt.Cursor(), cursor)

	// Once the horizon has passed a transaction, a late hand-off of it is
	// dropped.
	evs, err := models.EventsBetween(ctx, e.db, cursor, e.rt.Cursor())
	require.NoError(t, err)
	require.NotEmpty(t, evs)
	e.rt.HandOff(evs)
	select {
	case <-staffWake:
		require.Empty(t, staff.Take(), "a hand-off behind the horizon is dropped")
	case <-time.After(200 * time.Millisecond):
	}
}

// On a stream: a handed-off message is delivered once, though the horizon
// brings it again; its id keeps the resume position at the horizon and
// names the transaction it was handed. A write with a lower transaction id
// still in flight when a higher one is handed off is not skipped: a client
// that reconnects with the id it had gets the late one (replayed, or live
// from the horizon) and not the one it had.
func TestHandOffThenHorizonDeliversOnceAndResumesWithoutGaps(t *testing.T) {
	t.Parallel()
	e := setupHandOffOnly(t)
	base := bodyStreams(t, e)
	ctx := context.Background()
	v, conv := startConversation(t, e.db, "m0")
	// The late writes go to another customer's conversation (one
	// conversation's writes queue on its row).
	other, otherConv := startConversation(t, e.db, "o0")
	// post writes on this instance, which hands the message off.
	post := func(body string) {
		require.NoError(t, factory.WriteCommitted(e.db, e.rt.HandOff, func(tx models.Tx) error {
			_, err := models.PostMessage(ctx, tx, models.Actor{Customer: v.Customer}, conv, models.MessageText, body)
			return err
		}))
	}
	// holdLate starts a write elsewhere (no hand-off here) that takes its
	// transaction id and waits; the returned func commits it.
	holdLate := func(body string) (commit func()) {
		written, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
		t.Cleanup(func() {
			select {
			case <-release:
			default:
				close(release) // a failed test must not leave it holding a connection
			}
		})
		go func() {
			done <- factory.Write(e.db, func(tx models.Tx) error {
				if _, err := models.PostMessage(ctx, tx, models.Actor{Customer: other.Customer}, otherConv, models.MessageText, body); err != nil {
					return err
				}
				close(written)
				<-release
				return nil
			})
		}()
		select {
		case <-written:
		case err := <-done:
			t.Fatal(err)
		}
		return func() {
			close(release)
			require.NoError(t, <-done)
		}
	}
	require.NoError(t, e.rt.Poll(ctx))
	since := e.rt.Cursor()

	sctx, cancel := context.WithCancel(ctx)
	ch := readSSE(t, sctx, fmt.Sprintf("%s/?since=%d", base, since))
	post("m1")
	ev := next(t, ch, "update")
	require.Equal(t, "m1", ev.data, "delivered with no poll")
	pos, had, ok := parseResumeID(ev.id)
	require.True(t, ok, ev.id)
	require.Equal(t, since, pos, "the resume position stays at the horizon")
	require.Len(t, had, 1, "the id names the transaction handed off")

	require.NoError(t, e.rt.Poll(ctx)) // the horizon brings m1 again
	post("m2")
	ev = next(t, ch, "update")
	require.Equal(t, "m2", ev.data, "m1 not delivered twice")
	pos, _, _ = parseResumeID(ev.id)
	require.Greater(t, pos, since, "the position moved with the horizon")

	// Case 1: a lower transaction id in flight; the higher one is handed off;
	// the client leaves; the lower commits and the horizon passes both
	// before the client is back: the replay has the late one only.
	commitLate := holdLate("late1")
	post("m3")
	ev = next(t, ch, "update")
	require.Equal(t, "m3", ev.data)
	require.NoError(t, e.rt.Poll(ctx)) // held back by late1: nothing new
	quiet(t, ch, 100*time.Millisecond)
	lastID := ev.id
	cancel()
	commitLate()
	require.NoError(t, e.rt.Poll(ctx))
	sctx, cancel = context.WithCancel(ctx)
	t.Cleanup(cancel)
	ch = readSSE(t, sctx, base, "Last-Event-ID", lastID)
	ev = next(t, ch, "update")
	require.Equal(t, "late1", ev.data, "the late write is replayed, the one had is not")
	post("m4")
	require.Equal(t, "m4", next(t, ch, "update").data)
	require.NoError(t, e.rt.Poll(ctx))

	// Case 2: the same, but the client is back before the horizon moves: no
	// replay; the horizon then brings the late one, and not the one had.
	commitLate = holdLate("late2")
	post("m5")
	ev = next(t, ch, "update")
	require.Equal(t, "m5", ev.data)
	lastID = ev.id
	cancel()
	sctx, cancel = context.WithCancel(ctx)
	t.Cleanup(cancel)
	ch = readSSE(t, sctx, base, "Last-Event-ID", lastID)
	require.NoError(t, e.rt.Poll(ctx))
	commitLate()
	require.NoError(t, e.rt.Poll(ctx))
	ev = next(t, ch, "update")
	require.Equal(t, "late2", ev.data, "the late write arrives live, the one had does not")
	post("m6")
	require.Equal(t, "m6", next(t, ch, "update").data)
	require.NoError(t, e.rt.Poll(ctx))
	quiet(t, ch, 100*time.Millisecond)
}

// Two instances, each running its broker (doorbell, horizon) and streams,
// with writers on both handing their events to their own broker: every
// committed message reaches a stream on each instance exactly once, in
// spite of overlapping transactions committing out of id order, rolled-back
// writes, and streams that reconnect with the id they last had.
func TestHandOffAcrossInstancesDeliversEachOnce(t *testing.T) {
	t.Parallel()
	a := setup(t)
	b := setup(t, a.url)
	baseA, baseB := bodyStreams(t, a), bodyStreams(t, b)
	ctx := context.Background()
	require.NoError(t, a.rt.Poll(ctx))
	require.NoError(t, b.rt.Poll(ctx))

	// reader follows a stream, reconnecting with its last id every
	// reconnectEvery updates, and records every body it gets.
	type reader struct {
		mu   sync.Mutex
		got  map[string]int
		dups []string
	}
	tctx, stop := context.WithCancel(ctx)
	t.Cleanup(stop)
	follow := func(base string, since uint64, reconnectEvery int) *reader {
		r := &reader{got: map[string]int{}}
		sctx, cancel := context.WithCancel(tctx)
		ch := readSSE(t, sctx, fmt.Sprintf("%s/?since=%d", base, since))
		go func() {
			n, last := 0, ""
			for {
				select {
				case <-tctx.Done():
					cancel()
					return
				case ev, ok := <-ch:
					if !ok {
						return
					}
					if ev.name != "update" {
						continue
					}
					if ev.id != "" {
						last = ev.id
					}
					r.mu.Lock()
					for _, body := range strings.Fields(ev.data) {
						r.got[body]++
						if r.got[body] > 1 {
							r.dups = append(r.dups, body)
						}
					}
					r.mu.Unlock()
					if n++; reconnectEvery > 0 && n%reconnectEvery == 0 {
						cancel()
						for range ch {
						}
						sctx, cancel = context.WithCancel(tctx)
						req, _ := http.NewRequestWithContext(sctx, http.MethodGet, base, nil)
						req.Header.Set("Last-Event-ID", last)
						res, err := http.DefaultClient.Do(req)
						if err != nil {
							return
						}
						next := make(chan sseEvent, 100)
						go func() {
							defer res.Body.Close()
							defer close(next)
							parseSSE(res.Body, func(ev sseEvent) { next <- ev })
						}()
						ch = next
					}
				}
			}
		}()
		return r
	}
	readers := []*reader{
		follow(baseA, a.rt.Cursor(), 0), follow(baseB, b.rt.Cursor(), 0),
		follow(baseA, a.rt.Cursor(), 7), follow(baseB, b.rt.Cursor(), 5),
	}

	const writers, perWriter = 6, 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	committed := map[string]bool{}
	for w := range writers {
		in := []*instance{a, b}[w%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, v, err := models.CreateVisitor(ctx, in.db)
			if !assertNoErr(t, err) {
				return
			}
			first := "start" + strconv.Itoa(w)
			conv, _, err := factory.Write2(in.db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
				return models.StartCustomerConversation(ctx, tx, v.Customer, first, models.SessionInfo{})
			})
			if !assertNoErr(t, err) {
				return
			}
			mu.Lock()
			committed[first] = true
			mu.Unlock()
			in.rt.Ring()
			for i := range perWriter {
				body := "w" + strconv.Itoa(w) + "-" + strconv.Itoa(i)
				err := factory.WriteCommitted(in.db, in.rt.HandOff, func(tx models.Tx) error {
					if _, err := models.PostMessage(ctx, tx, models.Actor{Customer: v.Customer}, conv, models.MessageText, body); err != nil {
						return err
					}
					// Hold some transactions open a moment so others overtake
					// them, and roll some back.
					time.Sleep(time.Duration((w+i)%3) * time.Millisecond)
					if i%7 == 6 {
						return errors.New("roll back")
					}
					return nil
				})
				if i%7 == 6 {
					if err == nil || err.Error() != "roll back" {
						t.Errorf("rollback: %v", err)
					}
					continue
				}
				if !assertNoErr(t, err) {
					return
				}
				mu.Lock()
				committed[body] = true
				mu.Unlock()
				in.rt.Ring()
			}
		}()
	}
	wg.Wait()
	want := len(committed)
	for i, r := range readers {
		require.Eventually(t, func() bool {
			r.mu.Lock()
			defer r.mu.Unlock()
			n := 0
			for body := range committed {
				if r.got[body] > 0 {
					n++
				}
			}
			return n == want
		}, 20*time.Second, 20*time.Millisecond, "reader %d: not every committed message arrived", i)
	}
	time.Sleep(300 * time.Millisecond) // let any duplicate arrive
	for i, r := range readers {
		r.mu.Lock()
		require.Empty(t, r.dups, "reader %d got messages twice", i)
		for body := range r.got {
			require.True(t, committed[body], "reader %d got %q, never committed", i, body)
		}
		r.mu.Unlock()
	}
}

// A poll that reaches a transaction the hand-off is still reading waits for
// those rows instead of reading them again: both batches carry the same
// message.
func TestPollReusesTheRowsOfAHandOffStillReading(t *testing.T) {
	t.Parallel()
	e := setupHandOffOnly(t)
	ctx := context.Background()
	v, conv := startConversation(t, e.db, "hello")
	require.NoError(t, e.rt.Poll(ctx))
	wake := make(chan struct{}, 1)
	staff, _ := e.rt.Subscribe(0, signal(wake))

	reading, release := make(chan struct{}), make(chan struct{})
	e.rt.handWait = time.Minute // the test decides when the hand-off reads
	e.rt.beforeHandLoad = func() {
		close(reading)
		<-release
	}
	var m *models.Message
	require.NoError(t, factory.WriteCommitted(e.db, e.rt.HandOff, func(tx models.Tx) (err error) {
		m, err = models.PostMessage(ctx, tx, models.Actor{Customer: v.Customer}, conv, models.MessageText, "read once")
		return err
	}))
	<-reading
	polled := make(chan error, 1)
	go func() { polled <- e.rt.Poll(ctx) }()
	time.Sleep(20 * time.Millisecond) // the poll reaches the transaction meanwhile
	close(release)
	require.NoError(t, <-polled)

	var handed, fromPoll *Batch
	for handed == nil || fromPoll == nil {
		select {
		case <-wake:
		case <-time.After(5 * time.Second):
			t.Fatalf("missing a batch: handed %v, polled %v", handed != nil, fromPoll != nil)
		}
		for _, b := range staff.Take() {
			if b.HandedOff {
				handed = b
			} else {
				fromPoll = b
			}
		}
	}
	require.Equal(t, "read once", fromPoll.Messages[m.ID].Body)
	require.Same(t, handed.Messages[m.ID], fromPoll.Messages[m.ID], "the poll reused the hand-off's rows")
	require.Same(t, handed.Conversations[conv.ID], fromPoll.Conversations[conv.ID])
}
