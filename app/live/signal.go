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
)

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
	if _, err := b.pool.Exec(ctx, "SELECT pg_notify($1, $2)", ephemeralChannel, string(payload)); err != nil {
		return fmt.Errorf("send %s signal: %w", sig.Kind, err)
	}
	return nil
}

// receive handles a signal heard on the LISTEN connection: it updates the
// instance's presence and hands the signal to the streams it may concern.
func (b *Broker) receive(payload string) {
	var sig Signal
	if err := json.Unmarshal([]byte(payload), &sig); err != nil || sig.ConversationID == 0 {
		b.log.Warn("realtime: bad signal", "err", err)
		return
	}
	b.presence.apply(sig, time.Now())
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
