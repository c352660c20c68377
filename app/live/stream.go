package live

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parleydesk/parley/models"
)

// Live streams (Server-Sent Events).
//
// A stream handler validates its request, subscribes, replays what the
// client missed, and then hijacks the connection and hands it to the
// instance's hub before returning. From then on an idle stream costs a
// socket and a small struct — no goroutine, no net/http buffers — so one
// instance holds tens of thousands of open widgets. When a batch concerns a
// stream, one of the hub's workers renders it for that stream's viewer and
// writes it; one ticker sends every stream's heartbeat.

const (
	// heartbeat keeps idle streams (and the proxies between) open, detects
	// clients that left, and carries the resume position so a long-idle
	// client never resumes from too far back.
	heartbeat = 20 * time.Second
	// writeTimeout drops a client that cannot take a batch in time; it
	// reconnects and resumes.
	writeTimeout = 10 * time.Second
	// renderTimeout bounds the database reads a render may do.
	renderTimeout = 10 * time.Second
	// hubWorkers render and write batches for streams. Writes have deadlines,
	// so a few slow clients cannot hold every worker for long.
	hubWorkers = 32
	// renderGap is the least time between two renders of one stream.
	// Batches that arrive sooner wait for the rest of it and are rendered
	// together: a quiet stream gets each batch at once, a busy one (an
	// agent's desk on a busy instance, where every message is a batch)
	// renders at most 1/renderGap times a second. It was 20 ms while each
	// desk stream read its own inbox rows per render; since the streams of
	// a moment read them together (app's rowsLoader), the wait cost more
	// than the renders it saved: at parley-bench -rate 200, agents' p50
	// 35-46 ms at 20 ms, 25-40 ms at 5 ms, 21-27 ms with none.
	renderGap = 2 * time.Millisecond
)

// Renderer turns a batch into the SSE events one viewer should get (name
// and data, in order), leaving out whatever that viewer may not see. events
// holds only those the client has not had yet. An event named "reload" ends
// the stream: the client reloads its page and opens a new one.
type Renderer func(ctx context.Context, b *Batch, events []models.Event) ([][2]string, error)

// formatEvent writes one SSE event; multi-line data becomes several data:
// lines. An empty id leaves the client's resume position as it was.
func formatEvent(w *bytes.Buffer, event, id, data string) {
	if event != "" {
		w.WriteString("event: " + event + "\n")
	}
	if id != "" {
		w.WriteString("id: " + id + "\n")
	}
	for _, line := range strings.Split(data, "\n") {
		w.WriteString("data: " + strings.TrimSuffix(line, "\r") + "\n")
	}
	w.WriteString("\n")
}

// resumePoint is where a client's stream starts: the Last-Event-ID the
// browser sends on reconnect, the last_event_id parameter live.js adds when
// it opens a fresh EventSource, or the since parameter of the page that was
// rendered; the first of them that is a resume id (see parseResumeID).
// Zero means "from now". had lists the transactions above pos the client
// was handed already.
func resumePoint(r *http.Request) (pos uint64, had []uint64) {
	q := r.URL.Query()
	for _, v := range []string{r.Header.Get("Last-Event-ID"), q.Get("last_event_id"), q.Get("since")} {
		if pos, had, ok := parseResumeID(v); ok {
			return pos, had
		}
	}
	return 0, nil
}

// maxAhead bounds how many handed-off transactions a stream delivers above
// its resume position (and its resume id names): past it, it waits for the
// horizon, as without a hand-off.
const maxAhead = 16

// formatResumeID is the SSE id that resumes a stream: its position, then
// the transactions above it the client has had already (handed off ahead
// of the horizon), "-"-separated in increasing order: "1042" or
// "1042-1045-1047".
func formatResumeID(pos uint64, ahead []uint64) string {
	id := strconv.FormatUint(pos, 10)
	for _, x := range ahead {
		id += "-" + strconv.FormatUint(x, 10)
	}
	return id
}

// parseResumeID reads what formatResumeID wrote: a positive position, then
// at most maxAhead transactions, the first at or above the position (the
// horizon may be the very transaction handed off), each above the one
// before. Anything else is no resume id.
func parseResumeID(v string) (pos uint64, had []uint64, ok bool) {
	parts := strings.Split(v, "-")
	if len(parts) > 1+maxAhead {
		return 0, nil, false
	}
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 10, 64)
		switch {
		case err != nil || n == 0:
			return 0, nil, false
		case i == 0:
			pos = n
		case n < pos || len(had) > 0 && n <= had[len(had)-1]:
			return 0, nil, false
		default:
			had = append(had, n)
		}
	}
	return pos, had, true
}

// errStreamEnded ends a stream after its last event (a reload).
var errStreamEnded = errors.New("stream ended")

// reloadEvent is the whole answer to a client that must reload its page.
func reloadEvent() []byte {
	var buf bytes.Buffer
	formatEvent(&buf, "reload", "", "")
	return buf.Bytes()
}

// liveStream is one client's stream.
type liveStream struct {
	hub    *Hub
	sub    *Subscription
	render Renderer
	ctx    context.Context // the viewer's context (user, language), never cancelled by the request's end
	since  uint64          // events below this the client already had
	// ahead lists, in increasing order, the transactions at or above pos
	// whose events the client has had already: handed off ahead of the
	// horizon (at most maxAhead), or named by its resume id. A batch that
	// brings them again leaves them out; they drop off as pos passes them.
	ahead []uint64

	// write sends bytes to the client; close ends the stream.
	write func(b []byte) error
	close func()
	// onClose is the handler's Stream.OnClose, run once when the stream
	// ends after it started (OnOpen ran).
	onClose func()

	mu        sync.Mutex
	pos       uint64 // resume position: every event below it is handled
	scheduled bool
	beat      bool // a heartbeat is due
	done      bool
	lastWrite time.Time
	// lastRender is when the stream last rendered a batch (run and
	// deliver only, which never run concurrently for one stream).
	lastRender time.Time
}

// merge joins batches that queued up for a stream into one, so a busy
// stream renders once for all of them (one inbox row per conversation however
// many messages it received meanwhile).
func merge(batches []*Batch) []*Batch {
	if len(batches) < 2 {
		return batches
	}
	m := &Batch{From: batches[0].From, Messages: map[int64]*models.Message{}, Conversations: map[int64]*models.Conversation{}}
	for _, b := range batches {
		m.To = max(m.To, b.To)
		m.Events = append(m.Events, b.Events...)
		m.Signals = append(m.Signals, b.Signals...)
		for k, v := range b.Messages {
			m.Messages[k] = v
		}
		for k, v := range b.Conversations {
			m.Conversations[k] = v // later batches carry the newer state
		}
	}
	return []*Batch{m}
}

// accept keeps, in order, the events of batches the client has not had,
// and moves the stream's position past each horizon batch. A batch handed
// off ahead of the horizon moves nothing: its transactions join s.ahead,
// so the horizon batch that brings them again skips them.
func (s *liveStream) accept(batches []*Batch) []models.Event {
	n := 0
	for _, b := range batches {
		n += len(b.Events)
	}
	evs := make([]models.Event, 0, n)
	for _, b := range batches {
		var took []uint64
		for _, e := range b.Events {
			switch {
			case e.XID < s.since: // a client from a faster instance may be ahead of us
				continue
			case slices.Contains(s.ahead, e.XID):
				continue // handed off earlier (or had before a reconnect)
			case b.HandedOff:
				if e.XID < s.pos {
					continue // the horizon brought it already
				}
				if !slices.Contains(took, e.XID) {
					if len(s.ahead)+len(took) >= maxAhead {
						continue // too far ahead: the horizon brings it
					}
					took = append(took, e.XID)
				}
			}
			evs = append(evs, e)
		}
		if b.HandedOff {
			s.ahead = append(s.ahead, took...)
			slices.Sort(s.ahead)
			continue
		}
		s.advance(b.To)
	}
	return evs
}

// advance moves the stream's position to to, if that is further.
func (s *liveStream) advance(to uint64) {
	s.pos = max(s.pos, to)
	s.ahead = slices.DeleteFunc(s.ahead, func(x uint64) bool { return x < s.pos })
}

// resumeID is the id that resumes this stream where its client is now.
func (s *liveStream) resumeID() string { return formatResumeID(s.pos, s.ahead) }

// deliver renders batches (and a due heartbeat) and writes them in one go.
func (s *liveStream) deliver(batches []*Batch, beat bool) error {
	var buf bytes.Buffer
	evs := s.accept(batches)
	for _, b := range merge(batches) {
		if len(evs) == 0 && len(b.Signals) == 0 {
			break // all had already: nothing to render
		}
		ctx, cancel := context.WithTimeout(s.ctx, renderTimeout)
		out, err := s.render(ctx, b, evs)
		cancel()
		s.lastRender = time.Now()
		if err != nil {
			return err
		}
		for i, ev := range out {
			if ev[0] == "reload" {
				// The client reloads its page and opens a new stream: this
				// one is over, whatever else is queued.
				formatEvent(&buf, "reload", "", "")
				if err := s.write(buf.Bytes()); err != nil {
					return err
				}
				return errStreamEnded
			}
			id := ""
			if i == len(out)-1 {
				id = s.resumeID() // the position moves once the whole batch is written
			}
			formatEvent(&buf, ev[0], id, ev[1])
		}
	}
	if beat && buf.Len() == 0 {
		formatEvent(&buf, "sync", s.resumeID(), "")
	}
	if buf.Len() == 0 {
		return nil
	}
	s.lastWrite = time.Now()
	return s.write(buf.Bytes())
}

// schedule queues s on a hub worker unless it already is.
func (s *liveStream) schedule() {
	s.mu.Lock()
	if s.scheduled || s.done {
		s.mu.Unlock()
		return
	}
	s.scheduled = true
	s.mu.Unlock()
	s.hub.enqueue(s)
}

// run is a worker's turn on s: deliver until nothing is queued. Within
// renderGap of its last render it leaves what is queued to gather and comes
// back when the gap is over, holding no worker meanwhile (it stays
// scheduled, so new batches do not queue it twice).
func (s *liveStream) run() {
	for {
		s.mu.Lock()
		if s.done { // ended while it waited out a gap
			s.scheduled = false
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		if wait := renderGap - time.Since(s.lastRender); wait > 0 && s.sub.queued() {
			time.AfterFunc(wait, func() { s.hub.enqueue(s) })
			return
		}
		batches := s.sub.Take()
		s.mu.Lock()
		beat := s.beat
		s.beat = false
		if len(batches) == 0 && !beat {
			if !s.sub.queued() {
				s.scheduled = false
				s.mu.Unlock()
				return
			}
			s.mu.Unlock()
			continue
		}
		s.mu.Unlock()
		if err := s.deliver(batches, beat); err != nil {
			s.hub.log.Debug("stream closed", "err", err)
			s.hub.remove(s)
			return
		}
	}
}

// Hub owns the streams of one instance: it serves them (Serve), renders and
// writes the batches that concern each on a few workers, sends their
// heartbeats, and ends them all on shutdown (CloseAll).
type Hub struct {
	// ReplayLimits bound stream resumes; zero means
	// models.DefaultReplayLimits. Set it before serving.
	ReplayLimits models.ReplayLimits

	log *slog.Logger
	rt  *Broker
	// done is closed by CloseAll, ending the streams served in their
	// handler's goroutine too.
	done chan struct{}

	// hangups ends streams as soon as their client disconnects (Linux);
	// elsewhere the next write finds out.
	hangups *hangupWatcher

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []*liveStream
	streams map[*liveStream]struct{}
	closed  bool
}

// NewHub returns the hub of the streams fed by rt; Start runs it.
func NewHub(log *slog.Logger, rt *Broker) *Hub {
	h := &Hub{log: log.With("component", "streams"), rt: rt, done: make(chan struct{}), streams: map[*liveStream]struct{}{}}
	h.cond = sync.NewCond(&h.mu)
	h.hangups = newHangupWatcher(h.remove)
	return h
}

// Start runs the hub's workers and heartbeat until ctx ends, then closes
// every stream.
func (h *Hub) Start(ctx context.Context) {
	for range hubWorkers {
		go h.work()
	}
	go func() {
		t := time.NewTicker(heartbeat)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				h.CloseAll()
				return
			case <-t.C:
				h.beat()
			}
		}
	}()
}

func (h *Hub) enqueue(s *liveStream) {
	h.mu.Lock()
	h.queue = append(h.queue, s)
	h.mu.Unlock()
	h.cond.Signal()
}

func (h *Hub) work() {
	for {
		h.mu.Lock()
		for len(h.queue) == 0 && !h.closed {
			h.cond.Wait()
		}
		if h.closed {
			h.mu.Unlock()
			return
		}
		s := h.queue[0]
		h.queue[0] = nil
		h.queue = h.queue[1:]
		h.mu.Unlock()
		s.run()
	}
}

// beat marks a heartbeat due on every stream that has been quiet.
func (h *Hub) beat() {
	h.mu.Lock()
	var due []*liveStream
	for s := range h.streams {
		due = append(due, s)
	}
	h.mu.Unlock()
	cutoff := time.Now().Add(-heartbeat / 2)
	for _, s := range due {
		s.mu.Lock()
		quiet := s.lastWrite.Before(cutoff)
		if quiet {
			s.beat = true
		}
		s.mu.Unlock()
		if quiet {
			s.schedule()
		}
	}
}

func (h *Hub) add(s *liveStream) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.streams[s] = struct{}{}
	return true
}

// remove ends s (client gone or too slow); calling it again does nothing.
func (h *Hub) remove(s *liveStream) {
	h.mu.Lock()
	delete(h.streams, s)
	h.mu.Unlock()
	s.mu.Lock()
	already := s.done
	s.done = true
	s.mu.Unlock()
	if already {
		return
	}
	h.rt.Unsubscribe(s.sub)
	h.hangups.remove(s)
	s.close()
	if s.onClose != nil {
		go s.onClose() // it may talk to the database: never on a hub worker
	}
}

// Count is the number of open streams.
func (h *Hub) Count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.streams)
}

// CloseAll ends every stream (shutdown): clients reconnect to another
// instance, or to this one when it is back, and resume. It is safe to call
// more than once.
func (h *Hub) CloseAll() {
	h.mu.Lock()
	if !h.closed {
		close(h.done)
	}
	h.closed = true
	streams := h.streams
	h.streams = map[*liveStream]struct{}{}
	h.mu.Unlock()
	h.cond.Broadcast()
	for s := range streams {
		h.remove(s)
	}
}

// Stream is what a handler knows of the stream it serves: whose it is and
// how to render a batch for that viewer.
type Stream struct {
	// CustomerID is 0 for staff (they receive every batch and their
	// renderer filters), or the visitor's customer (only batches about their
	// conversations and desk-wide changes).
	CustomerID int64
	// Render turns a batch into this viewer's events.
	Render Renderer
	// Log receives the stream's debug lines (the request's logger); nil
	// means the hub's.
	Log *slog.Logger
	// OnOpen, if set, runs once the stream is live (after its replay), and
	// then OnClose once when it ends, whatever ends it: the client leaving,
	// a slow client dropped, shutdown. Streams that never went live run
	// neither. OnClose runs on its own goroutine.
	OnOpen, OnClose func()
}

// Serve serves a live stream for r on w: it resumes from the position the
// client sent (Last-Event-ID, or the last_event_id or since parameter),
// replays what the client missed, and then hijacks the connection and hands
// it to the hub before returning. A connection that cannot be hijacked
// (HTTP/2) is served from the caller's goroutine until it ends.
func (h *Hub) Serve(w http.ResponseWriter, r *http.Request, st Stream) error {
	ctx := r.Context()
	log := cmp.Or(st.Log, h.log)
	since, had := resumePoint(r)
	if since > 0 {
		err := models.CheckResumePoint(ctx, h.rt.db, since)
		if errors.Is(err, models.ErrResumeTooFar) {
			// What it missed is gone, or it never existed: reload the page.
			w.Header().Set("Content-Type", "text/event-stream")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusOK)
			_, err := w.Write(reloadEvent())
			return err
		}
		if err != nil {
			return err
		}
	}
	// scheduled until the replay is written: a live batch arriving meanwhile
	// waits in the subscription instead of being delivered concurrently.
	s := &liveStream{hub: h, render: st.Render, ctx: context.WithoutCancel(ctx), since: since, ahead: had, lastWrite: time.Now(), scheduled: true}

	// Nothing is buffered for us to read: a GET stream request has no body,
	// and writes go to conn directly.
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return h.serveInHandler(w, r, s, st)
	}
	s.write = func(b []byte) error {
		conn.SetWriteDeadline(time.Now().Add(writeTimeout))
		_, err := conn.Write(b)
		return err
	}
	s.close = func() { conn.Close() }
	head := "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n" +
		"X-Accel-Buffering: no\r\nConnection: close\r\n\r\nretry: 2000\n\n"
	if err := s.write([]byte(head)); err != nil {
		conn.Close()
		return nil
	}
	var cur uint64
	s.sub, cur = h.rt.Subscribe(st.CustomerID, s.schedule)
	// (s.ahead stays whole until the replay, which must leave out what the
	// client was handed below cur.)
	s.pos = max(since, cur)
	if since > 0 && since < cur {
		err := h.replay(ctx, s, st.CustomerID, cur)
		if err != nil {
			h.rt.Unsubscribe(s.sub)
			conn.Close()
			log.Debug("stream replay ended", "err", err)
			return nil
		}
	}
	if !h.add(s) {
		h.rt.Unsubscribe(s.sub)
		conn.Close()
		return nil
	}
	if st.OnOpen != nil {
		st.OnOpen()
	}
	s.mu.Lock()
	s.onClose = st.OnClose
	ended := s.done // a hang-up cannot have been noticed yet, but a slow write may have dropped it
	s.mu.Unlock()
	if ended && st.OnClose != nil {
		go st.OnClose()
	}
	h.hangups.add(conn, s)
	s.mu.Lock()
	s.scheduled = false
	s.mu.Unlock()
	s.schedule() // deliver anything that queued during the replay
	return nil
}

// replay delivers to s what its client missed before cur, bounded by the
// hub's replay limits; past them the client is told to reload, and the
// stream ends (errStreamEnded).
func (h *Hub) replay(ctx context.Context, s *liveStream, customerID int64, cur uint64) error {
	b, err := loadReplay(ctx, h.rt.db, customerID, s.since, cur, cmp.Or(h.ReplayLimits, models.DefaultReplayLimits))
	if errors.Is(err, models.ErrResumeTooFar) {
		if err := s.write(reloadEvent()); err != nil {
			return err
		}
		return errStreamEnded
	}
	if err != nil {
		return err
	}
	return s.deliver([]*Batch{b}, false)
}

// serveInHandler serves a stream from the handler's goroutine, for
// connections that cannot be hijacked (HTTP/2).
func (h *Hub) serveInHandler(w http.ResponseWriter, r *http.Request, s *liveStream, st Stream) error {
	customerID := st.CustomerID
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 2000\n\n")
	rc.Flush() //nolint:errcheck // a writer that cannot flush fails the next write
	s.write = func(b []byte) error {
		if _, err := w.Write(b); err != nil {
			return err
		}
		return rc.Flush()
	}
	s.close = func() {}
	wake := make(chan struct{}, 1)
	var cur uint64
	s.sub, cur = h.rt.Subscribe(customerID, func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	})
	defer h.rt.Unsubscribe(s.sub)
	s.pos = max(s.since, cur) // (s.ahead stays whole until the replay)
	ctx := r.Context()
	if s.since > 0 && s.since < cur {
		if err := h.replay(ctx, s, customerID, cur); err != nil {
			return nil
		}
	}
	if st.OnOpen != nil {
		st.OnOpen()
	}
	if st.OnClose != nil {
		defer st.OnClose()
	}
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		beat := false
		select {
		case <-ctx.Done():
			return nil
		case <-h.done:
			return nil
		case <-s.sub.Dropped():
			return nil
		case <-tick.C:
			beat = true
		case <-wake:
		}
		if err := s.deliver(s.sub.Take(), beat); err != nil {
			return nil
		}
	}
}
