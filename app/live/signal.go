package live

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"
)

// Ephemeral signals: typing, presence and read receipts.
//
// They are not events: nothing is written for them, they are never replayed
// on resume, and a signal lost on the way is harmless (the next one, a few
// seconds later, says the same). Each is one NOTIFY on its own channel, sent
// on a pooled connection outside any transaction; every instance (the
// sender's too) learns of it through its LISTEN connection and hands it to
// its streams as a Batch without events, whose renderers apply the same
// access rules as for events.

const ephemeralChannel = "parley_ephemeral"

// Signal kinds.
const (
	SignalTyping  = "typing"  // the sender is writing (Preview: the customer's draft, when allowed)
	SignalStopped = "stopped" // the sender stopped writing or sent
	SignalViewing = "viewing" // a staff user has the conversation open (a heartbeat)
	SignalLeft    = "left"    // that user closed it
	SignalSeen    = "seen"    // the customer read up to Message

	// The visitor's current page (customer context panel): a widget frame
	// (Frame, random per page load) of customer CustomerID reports the page
	// of the customer's site it is on (URL, Title) on load, on navigation
	// and every PageHeartbeat; its live streams opening and ending count
	// whether it is still there.
	SignalPage     = "page"
	SignalPageOpen = "page_open"
	SignalPageGone = "page_gone"
	// SignalPageLeft: the frame itself says it is going away (pagehide):
	// a navigation may leave its page frozen in the browser's back/forward
	// cache with its stream still connected.
	SignalPageLeft = "page_left"
)

// PageTTL is how long a widget frame's page counts without a new page
// signal: frames repeat theirs every PageHeartbeat, so a frame whose
// instance died without telling (no page_gone) drops out within this.
const PageTTL = 5 * time.Minute

// PageHeartbeat is how often an open widget frame repeats its page.
const PageHeartbeat = 2 * time.Minute

// pageGrace keeps a frame's page while none of its streams is open: a
// widget switching views ends one stream as it opens the next, in either
// order.
const pageGrace = 30 * time.Second

// maxFramesPerCustomer bounds the pages kept per customer (tabs).
const maxFramesPerCustomer = 20

// PresenceTTL is how long a viewing heartbeat counts: pages send one about
// every 20 s, so a closed tab drops out within this.
const PresenceTTL = 45 * time.Second

// MaxPreview caps a draft preview (in runes) so a signal stays far below
// NOTIFY's 8,000-byte payload limit.
const MaxPreview = 100

// Signal is one ephemeral signal about a conversation. Exactly one of User
// (staff) and Customer-sent (FromCustomer) names the sender.
type Signal struct {
	Kind           string `json:"k"`
	ConversationID int64  `json:"c"`
	// CustomerID is the conversation's customer (0 for internal
	// conversations): visitor streams of that customer receive it.
	CustomerID   int64  `json:"cu,omitempty"`
	UserID       int64  `json:"u,omitempty"`
	UserName     string `json:"n,omitempty"`
	FromCustomer bool   `json:"v,omitempty"`
	Preview      string `json:"p,omitempty"`
	MessageID    int64  `json:"m,omitempty"`
	// Page signals: the widget frame, and the page it is on.
	Frame string `json:"f,omitempty"`
	URL   string `json:"url,omitempty"`
	Title string `json:"ti,omitempty"`
}

// IsPage reports whether s is about a visitor's current page.
func (s Signal) IsPage() bool {
	return s.Kind == SignalPage || s.Kind == SignalPageOpen || s.Kind == SignalPageGone || s.Kind == SignalPageLeft
}

// forCustomer reports whether the conversation's visitors are told: only an
// agent's typing.
func (s Signal) forCustomer() bool {
	return s.CustomerID != 0 && s.UserID != 0 && (s.Kind == SignalTyping || s.Kind == SignalStopped)
}

// Signal sends sig to every instance: one NOTIFY on a pooled connection.
// Never call it inside a write transaction.
func (b *Broker) Signal(ctx context.Context, sig Signal) error {
	if r := []rune(sig.Preview); len(r) > MaxPreview {
		sig.Preview = string(r[:MaxPreview])
	}
	payload, err := json.Marshal(sig)
	if err != nil {
		return err
	}
	if err := b.pgNotify(ctx, ephemeralChannel, string(payload)); err != nil {
		return fmt.Errorf("send %s signal: %w", sig.Kind, err)
	}
	return nil
}

// receive handles a signal heard on the LISTEN connection: it updates the
// instance's presence and hands the signal to the streams it may concern.
func (b *Broker) receive(payload string) {
	var sig Signal
	if err := json.Unmarshal([]byte(payload), &sig); err != nil || (sig.ConversationID == 0 && !(sig.IsPage() && sig.CustomerID != 0 && sig.Frame != "")) {
		b.log.Warn("realtime: bad signal", "err", err)
		return
	}
	b.presence.apply(sig, time.Now())
	b.pages.apply(sig, time.Now())
	batch := &Batch{Signals: []Signal{sig}}
	b.mu.Lock()
	defer b.mu.Unlock()
	send := func(s *Subscription) {
		if !s.push(batch) {
			b.unsubscribeLocked(s)
		}
	}
	for s := range b.staff {
		send(s)
	}
	if sig.forCustomer() {
		for s := range b.customers[sig.CustomerID] {
			send(s)
		}
	}
}

// Viewer is a staff user viewing a conversation now.
type Viewer struct {
	UserID int64
	Name   string
}

// Viewers lists who is viewing conversation convID now (as this instance
// heard from their heartbeats), by name.
func (b *Broker) Viewers(convID int64) []Viewer {
	return b.presence.viewers(convID, time.Now())
}

// presence is the instance's in-memory view of who is viewing what, rebuilt
// from signals (every instance hears every signal).
type presence struct {
	mu    sync.Mutex
	convs map[int64]map[int64]presenceEntry
	swept time.Time // when every conversation was last pruned
}

type presenceEntry struct {
	name  string
	until time.Time
}

func (p *presence) apply(sig Signal, now time.Time) {
	if sig.UserID == 0 || (sig.Kind != SignalViewing && sig.Kind != SignalLeft) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.convs == nil {
		p.convs = map[int64]map[int64]presenceEntry{}
	}
	m := p.convs[sig.ConversationID]
	if sig.Kind == SignalLeft {
		delete(m, sig.UserID)
	} else {
		if m == nil {
			m = map[int64]presenceEntry{}
			p.convs[sig.ConversationID] = m
		}
		m[sig.UserID] = presenceEntry{name: sig.UserName, until: now.Add(PresenceTTL)}
	}
	p.prune(sig.ConversationID, now)
	// A tab that closed without "left" expires; sweep the conversations
	// nobody signals about any more now and then, so the map only holds
	// conversations viewed within PresenceTTL.
	if now.Sub(p.swept) > PresenceTTL {
		for conv := range p.convs {
			p.prune(conv, now)
		}
		p.swept = now
	}
}

// prune drops expired entries of conv; p.mu is held.
func (p *presence) prune(conv int64, now time.Time) {
	m := p.convs[conv]
	for id, e := range m {
		if now.After(e.until) {
			delete(m, id)
		}
	}
	if len(m) == 0 {
		delete(p.convs, conv)
	}
}

func (p *presence) viewers(conv int64, now time.Time) []Viewer {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.prune(conv, now)
	var out []Viewer
	for id, e := range p.convs[conv] {
		out = append(out, Viewer{UserID: id, Name: e.name})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// VisitorPage is the page of the customer's site a visitor's widget is
// open on.
type VisitorPage struct {
	URL, Title string
	// Since is when the widget arrived on this page (as this instance heard).
	Since time.Time
}

// VisitorPage is the page where customer's widget is open now (the one
// heard of last, if several tabs are), or nil: no widget of theirs has a
// live stream, as this instance heard from page signals.
func (b *Broker) VisitorPage(customerID int64) *VisitorPage {
	return b.pages.current(customerID, time.Now())
}

// pages is the instance's in-memory view of where customers' widgets are
// open, rebuilt from page signals (every instance hears every signal):
// customer → frame → its page and how many of its streams are open.
type pages struct {
	mu    sync.Mutex
	m     map[int64]map[string]*pageEntry
	swept time.Time
}

type pageEntry struct {
	url, title string
	since      time.Time // arrived on url
	heard      time.Time // last page signal
	until      time.Time // expiry without a new page signal
	streams    int       // open streams of the frame
	idle       time.Time // when streams fell to 0
}

func (e *pageEntry) live(now time.Time) bool {
	return e.streams > 0 && e.url != "" && now.Before(e.until)
}

func (e *pageEntry) dead(now time.Time) bool {
	return !now.Before(e.until) || (e.streams <= 0 && now.Sub(e.idle) > pageGrace)
}

func (p *pages) apply(sig Signal, now time.Time) {
	if !sig.IsPage() || sig.CustomerID == 0 || sig.Frame == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[int64]map[string]*pageEntry{}
	}
	frames := p.m[sig.CustomerID]
	if frames == nil {
		frames = map[string]*pageEntry{}
		p.m[sig.CustomerID] = frames
	}
	e := frames[sig.Frame]
	if sig.Kind == SignalPageLeft {
		delete(frames, sig.Frame)
		if len(frames) == 0 {
			delete(p.m, sig.CustomerID)
		}
		return
	}
	if e == nil {
		if len(frames) >= maxFramesPerCustomer {
			p.pruneLocked(sig.CustomerID, now)
			if len(frames) >= maxFramesPerCustomer {
				return
			}
			p.m[sig.CustomerID] = frames // pruning may have dropped the emptied map
		}
		e = &pageEntry{idle: now, until: now.Add(PageTTL)}
		frames[sig.Frame] = e
	}
	switch sig.Kind {
	case SignalPage:
		if e.url != sig.URL {
			e.since = now
		}
		e.url, e.title, e.heard, e.until = sig.URL, sig.Title, now, now.Add(PageTTL)
	case SignalPageOpen:
		e.streams++
		e.until = now.Add(PageTTL)
	case SignalPageGone:
		if e.streams--; e.streams <= 0 {
			e.streams, e.idle = 0, now
		}
	}
	if now.Sub(p.swept) > pageGrace {
		for c := range p.m {
			p.pruneLocked(c, now)
		}
		p.swept = now
	}
}

// pruneLocked drops the dead frames of customer c; p.mu is held.
func (p *pages) pruneLocked(c int64, now time.Time) {
	frames := p.m[c]
	for f, e := range frames {
		if e.dead(now) {
			delete(frames, f)
		}
	}
	if len(frames) == 0 {
		delete(p.m, c)
	}
}

func (p *pages) current(c int64, now time.Time) *VisitorPage {
	p.mu.Lock()
	defer p.mu.Unlock()
	var best *pageEntry
	for _, e := range p.m[c] {
		if e.live(now) && (best == nil || e.heard.After(best.heard)) {
			best = e
		}
	}
	if best == nil {
		return nil
	}
	return &VisitorPage{URL: best.url, Title: best.title, Since: best.since}
}
