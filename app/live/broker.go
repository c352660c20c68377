// Package live delivers committed events to open streams: one Broker per
// instance learns of new events (a LISTEN/NOTIFY doorbell and a
// committed-horizon cursor) and hands each batch to its subscribers; the Hub
// holds the instance's Server-Sent Event streams and writes to each what the
// caller's Renderer makes of a batch for that stream's viewer. What a viewer
// may see is decided by the renderer (package app), never here.
package live

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"gorm.io/gorm"

	"github.com/parleydesk/parley/models"
)

// Realtime delivery, one broker per instance.
//
// Every change writes its event row in its own transaction (models' domain
// operations, run through jobs.Writer).
// After commit the writer rings the doorbell (Ring): this instance's broker
// wakes at once, and a NOTIFY — sent once per short batch, outside any write
// transaction, so it never serialises commits — wakes the brokers of the
// other instances, each through one dedicated LISTEN connection.
//
// A woken broker reads the events of every transaction older than the
// committed horizon (the oldest still-running transaction id of this
// database, see models.CommittedHorizon): those are
// final, so reading the window [cursor, horizon) and moving the cursor to
// horizon never skips an event that commits late and never reads one twice.
// The batch's messages and conversations are loaded once, then handed to
// each subscriber (an SSE stream), which renders what its viewer may see in
// the viewer's own language.
//
// The instance that made a write need not wait for any of that: its writer
// hands the committed events (read in the transaction before its commit)
// straight to this broker (HandOff), which loads what they refer to and
// delivers them to its own subscribers at once, as a batch marked HandedOff.
// Such a batch never moves a stream's resume position, which stays at the
// horizon (an event handed off with transaction id N may commit before
// N-1, still in flight, which a client resuming at N+1 would miss); each
// stream remembers the transactions it was handed above its position and
// leaves them out when the horizon batch brings them again, and its resume
// id names them (see liveStream.resumeID), so a reconnecting client gets
// them neither twice nor never. The doorbell and the horizon still run for
// every instance, this one included, as the backstop.

const (
	notifyChannel = "parley_events"
	// notifyCoalesce gathers the rings of concurrent writers into one NOTIFY.
	notifyCoalesce = 2 * time.Millisecond
	// safetyPoll bounds delivery time if a doorbell is ever lost.
	safetyPoll = time.Second
	// firstRepoll is the first look again while transactions in flight hold
	// the horizon back, doubling up to half a second. Most are a job's or
	// another writer's short transaction that did not ring (River's): at
	// 20 ms, the old first step, a message waiting behind one made the
	// idle delivery's p99.
	firstRepoll = 2 * time.Millisecond
)

// Batch is the set of events committed in one window of transaction ids,
// with what they refer to loaded once for every subscriber.
type Batch struct {
	From, To      uint64 // transaction-id window [From, To)
	Events        []models.Event
	Messages      map[int64]*models.Message
	Conversations map[int64]*models.Conversation
	// Signals are ephemeral (typing, presence, read receipts): a batch
	// carries either events or signals, and signals are never replayed.
	Signals []Signal
	// HandedOff marks the events of transactions this instance has just
	// committed, delivered ahead of the horizon (Broker.HandOff): the
	// window From/To is empty, and a stream's position does not move.
	HandedOff bool
}

// has reports whether b read the rows e refers to.
func (b *Batch) has(e models.Event) bool {
	if e.MessageID != nil {
		if _, ok := b.Messages[*e.MessageID]; !ok {
			return false
		}
	}
	if e.ConversationID != nil {
		if _, ok := b.Conversations[*e.ConversationID]; !ok {
			return false
		}
	}
	return true
}

// Subscription receives the batches its viewer may care about: a staff
// stream (customerID 0) gets every batch; a visitor's stream only batches
// touching its customer's conversations, plus desk-wide events (online
// switch, settings). Batches queue here until the stream takes them; a
// stream that lets too many pile up is dropped and its client resumes.
type Subscription struct {
	customerID int64
	notify     func() // called when the queue becomes non-empty

	mu      sync.Mutex
	pending []*Batch
	dropped bool
	closed  chan struct{}
}

// maxPending is how many batches a stream may lag before it is dropped; its
// client then reconnects and resumes from its last event id.
const maxPending = 512

// Dropped is closed if the subscriber fell too far behind.
func (s *Subscription) Dropped() <-chan struct{} { return s.closed }

// queued reports whether batches are waiting to be taken.
func (s *Subscription) queued() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending) > 0
}

// Take returns the queued batches, oldest first, and empties the queue.
func (s *Subscription) Take() []*Batch {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pending
	s.pending = nil
	return p
}

func (s *Subscription) push(b *Batch) bool {
	s.mu.Lock()
	if s.dropped {
		s.mu.Unlock()
		return false
	}
	if len(s.pending) >= maxPending {
		s.dropped, s.pending = true, nil
		close(s.closed)
		s.mu.Unlock()
		return false
	}
	s.pending = append(s.pending, b)
	first := len(s.pending) == 1
	s.mu.Unlock()
	if first {
		s.notify()
	}
	return true
}

// Broker is one instance's realtime delivery: it reads every newly committed
// event once and dispatches it to the subscribers it may concern.
type Broker struct {
	log  *slog.Logger
	db   *gorm.DB
	pool *pgxpool.Pool

	mu        sync.Mutex
	staff     map[*Subscription]struct{}
	customers map[int64]map[*Subscription]struct{}
	count     int
	cursor    uint64 // every event of a transaction below this has been dispatched

	wake chan struct{}
	ring chan struct{}
	// pollMu serialises polls (the loop's, and direct calls of Poll).
	pollMu sync.Mutex
	// repoll is set while transactions are in flight after a poll: events may
	// be waiting for them, so poll again soon without a doorbell.
	repoll time.Duration

	presence presence
	pages    pages

	// observeLag, when set, hears how long each dispatched event took
	// from its write (metrics).
	observeLag func(time.Duration)
	// observeEvents, when set, hears each batch's events before the
	// streams do (the app drops what it keeps of the settings).
	observeEvents func([]models.Event)
	// listenConfig is where the LISTEN connection goes; nil: pool's server.
	listenConfig *pgx.ConnConfig
	// reads keeps connections on generic plans for the batches' reads
	// (nil: each read opens its own transaction for them).
	reads *models.GenericReads

	// handed holds the transactions handed off at or above the cursor, with
	// the batch that carried them (b.mu): the poll that reaches them reuses
	// what it loaded, and observes their events' lag only once.
	handed map[uint64]*Batch
	// handMu guards the hand-off queue, which the hand-off loop drains.
	handMu   sync.Mutex
	handQ    []models.Event
	handOn   bool
	handWake chan struct{}
	// handNext is the load that will carry what is queued; loading maps
	// each queued or loading transaction to its load (handMu), so a poll
	// that reaches it meanwhile waits for those rows instead of reading
	// them again.
	handNext *handLoad
	loading  map[uint64]*handLoad
	// beforeHandLoad, when set (tests), runs before a hand-off reads.
	beforeHandLoad func()
	// handWait bounds how long a poll waits for a hand-off's rows before
	// it reads them itself.
	handWait time.Duration
}

// handLoad is one hand-off's read: batch is set (nil if it failed or was
// not needed) when done closes.
type handLoad struct {
	done  chan struct{}
	batch *Batch
}

// ListenOn has the broker LISTEN on a connection made with cfg instead of
// pool's configuration: a session straight to PostgreSQL when pool goes
// through a transaction-pooling PgBouncer, where LISTEN cannot work. Call it
// before Start.
func (b *Broker) ListenOn(cfg *pgx.ConnConfig) { b.listenConfig = cfg }

// UseGenericReads has the batches' reads run on g's connections. Call it
// before Start.
func (b *Broker) UseGenericReads(g *models.GenericReads) { b.reads = g }

// ObserveLag has f called, for each event the broker dispatches, with the
// time from the event's write to its dispatch. Call it before Start.
func (b *Broker) ObserveLag(f func(time.Duration)) { b.observeLag = f }

// ObserveEvents registers f to hear the events of every batch this broker
// reads, before its subscribers get them. Set it before Start; f must not
// block. A transaction this instance handed off is heard twice (HandOff,
// then the poll).
func (b *Broker) ObserveEvents(f func([]models.Event)) { b.observeEvents = f }

// Counts counts current staff and customer subscribers.
func (b *Broker) Counts() (staff, customers int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.staff), b.count - len(b.staff)
}

// NewBroker returns a broker reading events through db and ringing and
// listening through pool; Start runs it.
func NewBroker(log *slog.Logger, db *gorm.DB, pool *pgxpool.Pool) *Broker {
	return &Broker{
		log: log.With("component", "realtime"), db: db, pool: pool,
		staff: map[*Subscription]struct{}{}, customers: map[int64]map[*Subscription]struct{}{},
		wake: make(chan struct{}, 1), ring: make(chan struct{}, 1),
		handed: map[uint64]*Batch{}, handWake: make(chan struct{}, 1), loading: map[uint64]*handLoad{},
		handWait: 50 * time.Millisecond,
	}
}

// HandOff delivers events this instance has just committed to its own
// subscribers without waiting for the doorbell and the committed horizon.
// events are those of committed transactions, as read before the commit
// (jobs.Writer.OnCommit); it never blocks, and does nothing before Start.
// The horizon path delivers them again, here as everywhere: streams leave
// out what they were handed already.
func (b *Broker) HandOff(events []models.Event) {
	if len(events) == 0 {
		return
	}
	b.handMu.Lock()
	if !b.handOn {
		b.handMu.Unlock()
		return
	}
	b.handQ = append(b.handQ, events...)
	if b.handNext == nil {
		b.handNext = &handLoad{done: make(chan struct{})}
	}
	for _, e := range events {
		b.loading[e.XID] = b.handNext
	}
	b.handMu.Unlock()
	select {
	case b.handWake <- struct{}{}:
	default:
	}
}

// handOffLoop delivers what HandOff queued: at idle one write at a time, at
// once; under load whatever queued meanwhile, with one read of what it
// refers to.
func (b *Broker) handOffLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			b.handMu.Lock()
			b.handOn, b.handQ = false, nil
			if b.handNext != nil {
				close(b.handNext.done)
				b.handNext = nil
			}
			clear(b.loading)
			b.handMu.Unlock()
			return
		case <-b.handWake:
		}
		b.handMu.Lock()
		evs, load := b.handQ, b.handNext
		b.handQ, b.handNext = nil, nil
		b.handMu.Unlock()
		if load == nil {
			continue
		}
		batch, err := b.handOver(ctx, evs)
		if err != nil && ctx.Err() == nil {
			// The horizon delivers them anyway, a few milliseconds later.
			b.log.Warn("realtime hand-off", "err", err)
		}
		// handOver has put the transactions in handed first: a poll looks
		// here, then there, and finds them in one or the other.
		load.batch = batch
		close(load.done)
		b.handMu.Lock()
		for _, e := range evs {
			if b.loading[e.XID] == load {
				delete(b.loading, e.XID)
			}
		}
		b.handMu.Unlock()
	}
}

// handOver dispatches evs, committed by this instance, ahead of the
// horizon. Transactions the horizon has passed already were dispatched by
// a poll and are left out, here and (under b.mu) at dispatch.
// It returns the batch it read (nil when there was nothing to read).
func (b *Broker) handOver(ctx context.Context, evs []models.Event) (*Batch, error) {
	cur := b.Cursor()
	evs = slices.DeleteFunc(slices.Clone(evs), func(e models.Event) bool { return e.XID < cur })
	if len(evs) == 0 {
		return nil, nil
	}
	slices.SortFunc(evs, func(x, y models.Event) int { return cmp.Compare(x.ID, y.ID) })
	if b.beforeHandLoad != nil {
		b.beforeHandLoad()
	}
	ctx, cancel := context.WithTimeout(brokerRead(ctx), 10*time.Second)
	defer cancel()
	batch, err := b.loadRefs(ctx, 0, 0, evs)
	if err != nil {
		return nil, err
	}
	loaded := *batch // what a waiting poll reuses: the rows, whatever is dispatched
	batch.HandedOff = true
	if b.observeEvents != nil {
		// Before the subscribers, as for a poll's batch (which observes
		// them again: observers must take an event twice).
		b.observeEvents(batch.Events)
	}
	b.mu.Lock()
	batch.Events = slices.DeleteFunc(batch.Events, func(e models.Event) bool { return e.XID < b.cursor })
	for _, e := range batch.Events {
		b.handed[e.XID] = batch
	}
	if len(batch.Events) > 0 {
		b.dispatch(batch)
	}
	b.mu.Unlock()
	if b.observeLag != nil {
		now := time.Now()
		for _, e := range batch.Events {
			b.observeLag(now.Sub(e.CreatedAt))
		}
	}
	return &loaded, nil
}

// brokerReadKey marks the contexts of the broker's own reads.
type brokerReadKey struct{}

func brokerRead(ctx context.Context) context.Context {
	return context.WithValue(ctx, brokerReadKey{}, true)
}

// IsBrokerRead reports whether ctx is that of one of the broker's own
// reads (its polls and hand-offs), which run on their own schedule: for
// tests that count a request's statements.
func IsBrokerRead(ctx context.Context) bool {
	v, _ := ctx.Value(brokerReadKey{}).(bool)
	return v
}

// Ring tells every instance that new events may be committed. Call it after
// a write's transaction has committed; it never blocks.
func (b *Broker) Ring() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
	select {
	case b.ring <- struct{}{}:
	default:
	}
}

// Cursor is the position up to which events have been dispatched; a page
// rendered now reflects every event below it, so its stream resumes there.
func (b *Broker) Cursor() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cursor
}

// Subscribe registers a subscriber (customerID 0 for staff) and returns the
// cursor from which it will receive batches; anything older the caller
// replays with loadReplay. notify is called whenever its queue becomes
// non-empty; it must not block.
func (b *Broker) Subscribe(customerID int64, notify func()) (*Subscription, uint64) {
	s := &Subscription{customerID: customerID, notify: notify, closed: make(chan struct{})}
	b.mu.Lock()
	defer b.mu.Unlock()
	if customerID == 0 {
		b.staff[s] = struct{}{}
	} else {
		m := b.customers[customerID]
		if m == nil {
			m = map[*Subscription]struct{}{}
			b.customers[customerID] = m
		}
		m[s] = struct{}{}
	}
	b.count++
	return s, b.cursor
}

// Unsubscribe removes s.
func (b *Broker) Unsubscribe(s *Subscription) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s.customerID == 0 {
		if _, ok := b.staff[s]; ok {
			delete(b.staff, s)
			b.count--
		}
		return
	}
	if m := b.customers[s.customerID]; m != nil {
		if _, ok := m[s]; ok {
			delete(m, s)
			b.count--
		}
		if len(m) == 0 {
			delete(b.customers, s.customerID)
		}
	}
}

// Subscribers counts current subscribers.
func (b *Broker) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.count
}

// dispatch hands batch to every interested subscriber; b.mu is held.
func (b *Broker) dispatch(batch *Batch) {
	broadcast := false
	customers := map[int64]bool{}
	for _, e := range batch.Events {
		switch e.Kind {
		case models.EventDeskStatus, models.EventSettings, models.EventArticle:
			// An article edit concerns every open chat that may show its
			// card (rare: admins' edits).
			broadcast = true
		}
		if e.ConversationID != nil {
			if c := batch.Conversations[*e.ConversationID]; c != nil && c.CustomerID != nil {
				customers[*c.CustomerID] = true
			}
		}
	}
	send := func(s *Subscription) {
		if !s.push(batch) {
			b.unsubscribeLocked(s)
		}
	}
	for s := range b.staff {
		send(s)
	}
	if broadcast {
		for _, m := range b.customers {
			for s := range m {
				send(s)
			}
		}
		return
	}
	for id := range customers {
		for s := range b.customers[id] {
			send(s)
		}
	}
}

func (b *Broker) unsubscribeLocked(s *Subscription) {
	if s.customerID == 0 {
		delete(b.staff, s)
	} else if m := b.customers[s.customerID]; m != nil {
		delete(m, s)
		if len(m) == 0 {
			delete(b.customers, s.customerID)
		}
	}
	b.count--
}

// Start positions the cursor at the current horizon and runs the broker
// until ctx ends.
func (b *Broker) Start(ctx context.Context) error {
	h, err := models.CommittedHorizon(ctx, b.db)
	if err != nil {
		return err
	}
	b.cursor = h.XID
	b.startHandOff(ctx)
	listening := make(chan struct{})
	go b.listen(ctx, listening)
	go b.notify(ctx)
	go b.loop(ctx)
	// Signals (typing, presence, the visitor's page) are heard on the LISTEN
	// connection only, never replayed: an instance that served requests
	// before it listened would drop those sent meanwhile. Wait for it, for
	// a bounded time: a database that refuses a connection now is retried
	// in the background, and events are caught up when it comes.
	select {
	case <-listening:
	case <-ctx.Done():
	case <-time.After(listenWait):
		b.log.Warn("realtime: not listening yet; starting anyway, still trying")
	}
	return nil
}

// listenWait bounds how long Start waits for the LISTEN connection.
const listenWait = 10 * time.Second

// startHandOff runs the hand-off loop until ctx ends.
func (b *Broker) startHandOff(ctx context.Context) {
	b.handMu.Lock()
	b.handOn = true
	b.handMu.Unlock()
	go b.handOffLoop(ctx)
}

func (b *Broker) loop(ctx context.Context) {
	timer := time.NewTimer(safetyPoll)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-b.wake:
		case <-timer.C:
		}
		err := b.Poll(ctx)
		b.pollMu.Lock()
		if err != nil && ctx.Err() == nil {
			b.log.Warn("realtime poll", "err", err)
			b.repoll = 100 * time.Millisecond
		}
		next := safetyPoll
		if b.repoll > 0 {
			next = b.repoll
		}
		b.pollMu.Unlock()
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(next)
	}
}

// Poll dispatches every event committed below the current horizon. The
// broker polls by itself when rung (and at least every second); tests call
// it to catch up at a point they choose.
func (b *Broker) Poll(ctx context.Context) error {
	b.pollMu.Lock()
	defer b.pollMu.Unlock()
	// The horizon must come from an earlier statement than the events: a
	// transaction that commits between a snapshot and the horizon's reading
	// of pg_stat_activity would be invisible to that snapshot yet below the
	// horizon. Read in the next statement, its events are visible.
	from := b.Cursor()
	ctx = brokerRead(ctx)
	h, err := models.CommittedHorizon(ctx, b.db)
	if err != nil {
		return err
	}
	horizon := h.XID
	// Transactions in flight may hold events back; they ring when they
	// commit, but one that rolls back or commits without ringing must not
	// strand the events behind it: look again after a while.
	if h.InFlight {
		b.repoll = min(max(b.repoll*2, firstRepoll), 500*time.Millisecond)
	} else {
		b.repoll = 0
	}
	if horizon <= from {
		return nil
	}
	evs, err := models.EventsBetween(ctx, b.db, from, horizon)
	if err != nil {
		return err
	}
	batch, err := b.loadPolled(ctx, from, horizon, evs)
	if err != nil {
		return err
	}
	if b.observeEvents != nil && len(batch.Events) > 0 {
		b.observeEvents(batch.Events)
	}
	b.mu.Lock()
	b.cursor = horizon
	if len(batch.Events) > 0 {
		b.dispatch(batch)
	}
	// Events handed off already had their lag observed then.
	var fresh []time.Time
	for _, e := range batch.Events {
		if _, ok := b.handed[e.XID]; !ok {
			fresh = append(fresh, e.CreatedAt)
		}
	}
	for x := range b.handed {
		if x < horizon {
			delete(b.handed, x)
		}
	}
	b.mu.Unlock()
	if b.observeLag != nil {
		now := time.Now()
		for _, at := range fresh {
			b.observeLag(now.Sub(at))
		}
	}
	return nil
}

// loadPolled loads what the events of a poll's window [from, to) refer
// to. The rows of events this instance handed off were loaded then, after
// their commit, and are reused; the rest (other instances' events, and any
// row one of them shares with those) is read now.
func (b *Broker) loadPolled(ctx context.Context, from, to uint64, evs []models.Event) (*Batch, error) {
	// Transactions still queued for or being read by the hand-off: their
	// rows come from it, once it has read them (looked up before handed,
	// which the hand-off fills first).
	var waits []*handLoad
	waiting := map[uint64]*handLoad{}
	b.handMu.Lock()
	for _, e := range evs {
		if l := b.loading[e.XID]; l != nil {
			waiting[e.XID] = l
			if !slices.Contains(waits, l) {
				waits = append(waits, l)
			}
		}
	}
	b.handMu.Unlock()
	loaded := map[*handLoad]*Batch{}
	if len(waits) > 0 {
		timeout := time.NewTimer(b.handWait)
		for _, l := range waits {
			select {
			case <-l.done:
				loaded[l] = l.batch
			case <-timeout.C:
			case <-ctx.Done():
				timeout.Stop()
				return nil, ctx.Err()
			}
		}
		timeout.Stop()
	}
	b.mu.Lock()
	var rest []models.Event
	var reused []*Batch
	for _, e := range evs {
		h := b.handed[e.XID]
		if h == nil {
			if l := waiting[e.XID]; l != nil && loaded[l] != nil {
				h = loaded[l]
			}
		}
		if h != nil && h.has(e) {
			if !slices.Contains(reused, h) {
				reused = append(reused, h)
			}
		} else {
			rest = append(rest, e)
		}
	}
	b.mu.Unlock()
	if len(reused) == 0 {
		return b.loadRefs(ctx, from, to, evs)
	}
	batch, err := b.loadRefs(ctx, from, to, rest)
	if err != nil {
		return nil, err
	}
	batch.Events = evs
	for _, h := range reused {
		for id, m := range h.Messages {
			if _, ok := batch.Messages[id]; !ok {
				batch.Messages[id] = m
			}
		}
		for id, c := range h.Conversations {
			if _, ok := batch.Conversations[id]; !ok {
				batch.Conversations[id] = c
			}
		}
	}
	return batch, nil
}

// loadBatch reads the events of transactions in [from, to) and what they
// refer to: the broker's window of newly committed events.
func loadBatch(ctx context.Context, db *gorm.DB, from, to uint64) (*Batch, error) {
	evs, err := models.EventsBetween(ctx, db, from, to)
	if err != nil {
		return nil, err
	}
	return loadRefs(ctx, db, from, to, evs)
}

// loadReplay reads what a stream resuming at from missed before to: for a
// visitor (customerID ≠ 0) only its customer's and the desk-wide events,
// for staff every event, within models.ReplayLimits. It returns
// models.ErrResumeTooFar when the client should reload instead.
func loadReplay(ctx context.Context, db *gorm.DB, customerID int64, from, to uint64, limits models.ReplayLimits) (*Batch, error) {
	evs, err := models.ReplayEvents(ctx, db, from, to, models.ReplayScope{CustomerID: customerID}, limits)
	if err != nil {
		return nil, err
	}
	return loadRefs(ctx, db, from, to, evs)
}

// loadRefs is loadRefs on the broker's connections for generic plans.
func (b *Broker) loadRefs(ctx context.Context, from, to uint64, evs []models.Event) (batch *Batch, err error) {
	if len(evs) == 0 {
		return loadRefs(ctx, b.db, from, to, evs)
	}
	err = b.reads.Do(ctx, b.db, func(db *gorm.DB) error {
		batch, err = loadRefs(ctx, db, from, to, evs)
		return err
	})
	return batch, err
}

// loadRefs loads the messages and conversations that evs refer to, once.
func loadRefs(ctx context.Context, db *gorm.DB, from, to uint64, evs []models.Event) (*Batch, error) {
	var err error
	batch := &Batch{From: from, To: to, Events: evs, Messages: map[int64]*models.Message{}, Conversations: map[int64]*models.Conversation{}}
	if len(evs) == 0 {
		return batch, nil
	}
	var msgIDs, convIDs []int64
	seen := map[int64]bool{}
	for _, e := range evs {
		if e.MessageID != nil {
			msgIDs = append(msgIDs, *e.MessageID)
		}
		if e.ConversationID != nil && !seen[*e.ConversationID] {
			seen[*e.ConversationID] = true
			convIDs = append(convIDs, *e.ConversationID)
		}
	}
	// In one transaction on generic plans (models.GenericPlans): planning
	// these lookups cost more than running them.
	err = models.GenericPlans(ctx, db, func(tx *gorm.DB) (err error) {
		batch.Messages, batch.Conversations, err = models.MessagesAndConversations(ctx, tx, msgIDs, convIDs)
		return err
	})
	if err != nil {
		return nil, err
	}
	return batch, nil
}

// notify sends one NOTIFY per short burst of rings, on a pooled connection
// outside any write transaction.
func (b *Broker) notify(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-b.ring:
		}
		time.Sleep(notifyCoalesce)
		select {
		case <-b.ring:
		default:
		}
		if err := b.pgNotify(ctx, notifyChannel, ""); err != nil && ctx.Err() == nil {
			b.log.Warn("realtime notify", "err", err)
		}
	}
}

// listen keeps one dedicated connection LISTENing for other instances'
// doorbells, reconnecting with backoff; each (re)connect triggers a poll in
// case a doorbell rang while it was away. listening is closed once the
// first connection listens.
func (b *Broker) listen(ctx context.Context, listening chan struct{}) {
	backoff := 100 * time.Millisecond
	var once sync.Once
	for ctx.Err() == nil {
		err := b.listenOnce(ctx, func() {
			backoff = 100 * time.Millisecond
			once.Do(func() { close(listening) })
		})
		if ctx.Err() != nil {
			return
		}
		b.log.Warn("realtime listener lost; reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

func (b *Broker) listenOnce(ctx context.Context, connected func()) error {
	cfg := b.listenConfig
	if cfg == nil {
		cfg = b.pool.Config().ConnConfig
	}
	conn, err := pgx.ConnectConfig(ctx, cfg.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, ch := range []string{notifyChannel, ephemeralChannel} {
		if _, err := conn.Exec(ctx, "LISTEN "+ch); err != nil {
			return err
		}
	}
	connected()
	b.Ring() // catch up on anything missed while disconnected
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		}
		if n.Channel == ephemeralChannel {
			b.receive(n.Payload)
			continue
		}
		select {
		case b.wake <- struct{}{}:
		default:
		}
	}
}

// pgNotify sends a NOTIFY that the committed horizon does not wait for
// (models.QueueNotify), in one round trip.
func (b *Broker) pgNotify(ctx context.Context, channel, payload string) error {
	var batch pgx.Batch
	models.QueueNotify(&batch, channel, payload)
	return b.pool.SendBatch(ctx, &batch).Close()
}
