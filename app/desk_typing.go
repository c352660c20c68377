package app

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/app/live"
	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// Typing, presence and "Seen" (issue 15): ephemeral signals, never stored.
// Each accepted signal is one NOTIFY (live.Broker.Signal), sent after the
// request's checks and outside any transaction; pages send at most one
// typing signal every 2 s per composer (and "stopped" after 5 s idle) and a
// viewing heartbeat every 20 s, and the server drops what comes faster per
// sender (signalGate), so a keystroke never costs a write.

const (
	// typingEvery is the fastest a sender's typing signals are passed on.
	typingEvery = time.Second
	// viewingEvery is the fastest a user's viewing heartbeats are passed on.
	viewingEvery = 5 * time.Second
)

// signalGate lets one signal per key through per interval, per instance.
type signalGate struct {
	mu   sync.Mutex
	last map[string]time.Time
}

func (g *signalGate) allow(key string, every time.Duration, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.last == nil {
		g.last = map[string]time.Time{}
	}
	if t, ok := g.last[key]; ok && now.Sub(t) < every {
		return false
	}
	if len(g.last) >= 50_000 {
		for k, t := range g.last {
			if now.Sub(t) > time.Minute {
				delete(g.last, k)
			}
		}
	}
	g.last[key] = now
	return true
}

func (g *signalGate) forget(key string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.last, key)
}

// gateSignal reports whether a signal of this kind from sender (u<id> or
// v<id>) about the conversation named in the URL may pass now. It runs
// before any query, so a signal sent faster than every costs no database
// work at all.
// A request that then fails its checks (no such conversation, not theirs)
// calls the returned forget, so the next one is checked (and refused) too.
func (a *App) gateSignal(c echo.Context, sender, kind string, every time.Duration) (ok bool, forget func()) {
	key := sender + ":" + kind + ":" + c.Param("pid")
	return a.signals.allow(key, every, time.Now()), func() { a.signals.forget(key) }
}

// sendSignal passes sig on (after gateSignal let it through). A lost
// signal is harmless (the next one says the same), so a failure is logged,
// not answered.
func (a *App) sendSignal(c echo.Context, sig live.Signal) {
	if err := a.rt.Signal(ctxOf(c), sig); err != nil {
		reqLog(c).Warn("signal", "err", err)
	}
}

// typingKind reads the state a page reports: typing or stopped.
func typingKind(c echo.Context) string {
	if c.FormValue("state") == "stopped" {
		return live.SignalStopped
	}
	return live.SignalTyping
}

// postTyping: an agent is writing a reply in a customer conversation; its
// customer's widget shows "<agent> is typing…". Notes and private messages
// are never announced.
func (a *App) postTyping(c echo.Context) error {
	u := currentUser(c)
	kind := typingKind(c)
	if c.FormValue("kind") == models.MessageNote || c.FormValue("kind") == models.MessagePrivate {
		return c.NoContent(http.StatusNoContent)
	}
	pass, forget := a.gateSignal(c, "u"+strconv.FormatInt(u.ID, 10), kind, typingEvery)
	if !pass {
		return c.NoContent(http.StatusNoContent)
	}
	conv, err := a.conversation(c)
	if err != nil {
		forget()
		return err
	}
	if conv.Kind != models.KindCustomer || conv.CustomerID == nil {
		return c.NoContent(http.StatusNoContent)
	}
	// A hidden participant appears to no customer: not even typing.
	if hidden, err := models.HiddenIn(ctxOf(c), a.db, conv, u.ID); err != nil {
		return err
	} else if hidden {
		return c.NoContent(http.StatusNoContent)
	}
	a.sendSignal(c, live.Signal{
		Kind: kind, ConversationID: conv.ID, CustomerID: *conv.CustomerID, UserID: u.ID, UserName: u.Name,
	})
	return c.NoContent(http.StatusNoContent)
}

// postViewing: a heartbeat (state=viewing, about every 20 s) from an open
// conversation page, or state=left when the page goes away.
func (a *App) postViewing(c echo.Context) error {
	u := currentUser(c)
	kind := live.SignalViewing
	if c.FormValue("state") == "left" {
		kind = live.SignalLeft
	}
	pass, forget := a.gateSignal(c, "u"+strconv.FormatInt(u.ID, 10), kind, viewingEvery)
	if !pass {
		return c.NoContent(http.StatusNoContent)
	}
	conv, err := a.conversation(c)
	if err != nil {
		forget()
		return err
	}
	a.sendSignal(c, live.Signal{
		Kind: kind, ConversationID: conv.ID, UserID: u.ID, UserName: u.Name,
	})
	return c.NoContent(http.StatusNoContent)
}

// postWidgetTyping: the visitor is writing; agents see "The customer is
// typing…", with the draft's first characters only if the desk allows it.
func (a *App) postWidgetTyping(c echo.Context) error {
	v := currentVisitor(c)
	kind := typingKind(c)
	pass, forget := a.gateSignal(c, "v"+strconv.FormatInt(v.ID, 10), kind, typingEvery)
	if !pass {
		return c.NoContent(http.StatusNoContent)
	}
	conv, err := models.FindConversationForVisitor(ctxOf(c), a.db, v, c.Param("pid"))
	if err != nil {
		forget()
		return err
	}
	sig := live.Signal{Kind: kind, ConversationID: conv.ID, FromCustomer: true}
	if draft := c.FormValue("draft"); draft != "" && sig.Kind == live.SignalTyping {
		s, err := models.GetSettings(ctxOf(c), a.db)
		if err != nil {
			return err
		}
		if s.TypingPreview {
			sig.Preview = draft
		}
	}
	a.sendSignal(c, sig)
	return c.NoContent(http.StatusNoContent)
}

// withSignals renders a batch's signals (signals) before its events
// (events): a batch carries one or the other, and only the events' last
// update carries the resume position.
func withSignals(signals func(context.Context, []live.Signal) ([][2]string, error), events live.Renderer) live.Renderer {
	return func(ctx context.Context, b *live.Batch, evs []models.Event) ([][2]string, error) {
		var out [][2]string
		if len(b.Signals) > 0 {
			s, err := signals(ctx, b.Signals)
			if err != nil {
				return nil, err
			}
			out = s
		}
		if len(b.Signals) == 0 || len(b.Events) > 0 {
			e, err := events(ctx, b, evs)
			if err != nil {
				return nil, err
			}
			out = append(out, e...)
		}
		return out, nil
	}
}

// openConversation is the desk viewer's open conversation if they may see
// it (CanSeeConversation, through FindConversationForUser), loaded once per
// recheck period; nil otherwise.
func (v *deskViewer) openConversation(ctx context.Context) (*models.Conversation, error) {
	if v.conv == "" || v.ended {
		return nil, nil
	}
	if ok, err := v.recheck(ctx, false); err != nil || !ok {
		return nil, err
	}
	if v.open != nil && v.openAt.Equal(v.checked) {
		return v.open, nil
	}
	c, err := models.FindConversationForUser(ctx, v.a.db, v.user, v.conv)
	if errors.Is(err, models.ErrNotFound) {
		c, err = &models.Conversation{}, nil // nothing to show: a zero id matches no signal
	}
	if err != nil {
		return nil, err
	}
	v.open, v.openAt = c, v.checked
	return c, nil
}

// renderSignals shows the viewer what signals say about their open
// conversation: the customer typing, who else is viewing it, how far the
// customer has read.
func (v *deskViewer) renderSignals(ctx context.Context, sigs []live.Signal) ([][2]string, error) {
	conv, err := v.openConversation(ctx)
	if err != nil || conv == nil || conv.ID == 0 {
		return nil, err
	}
	var (
		typing  *live.Signal
		viewing bool
		seen    int64
		page    bool
	)
	for i := range sigs {
		s := &sigs[i]
		if s.IsPage() {
			// The customer's widget moved, opened or closed: the context
			// panel's current page (customer data: CanSeeCustomerData).
			page = page || (conv.CustomerID != nil && s.CustomerID == *conv.CustomerID && models.CanSeeCustomerData(v.user))
			continue
		}
		if s.ConversationID != conv.ID {
			continue
		}
		switch s.Kind {
		case live.SignalTyping, live.SignalStopped:
			if s.FromCustomer {
				typing = s
			}
		case live.SignalViewing, live.SignalLeft:
			viewing = true
		case live.SignalSeen:
			seen = max(seen, s.MessageID)
		}
	}
	var parts []templ.Component
	if typing != nil {
		on := typing.Kind == live.SignalTyping
		preview := ""
		if on && typing.Preview != "" {
			// The setting may have been turned off since the draft left the
			// widget: it is checked again here.
			s, err := models.GetSettings(ctx, v.a.db)
			if err != nil {
				return nil, err
			}
			if s.TypingPreview {
				preview = typing.Preview
			}
		}
		parts = append(parts, views.ConvTyping(on, preview, true))
	}
	if viewing {
		var names []string
		for _, w := range v.a.rt.Viewers(conv.ID) {
			if w.UserID != v.user.ID {
				names = append(names, w.Name)
			}
		}
		parts = append(parts, views.ConvViewing(names, true))
	}
	if seen > 0 {
		parts = append(parts, views.ConvSeen(conv, seen, true))
	}
	if page {
		parts = append(parts, views.CurrentPage(v.a.visitorPage(conv.CustomerID), true))
	}
	return update(ctx, parts)
}

// renderSignals shows the visitor an agent typing in the open conversation.
func (w *widgetStream) renderSignals(ctx context.Context, sigs []live.Signal) ([][2]string, error) {
	if w.conv == nil {
		return nil, nil
	}
	var typing *live.Signal
	for i := range sigs {
		s := &sigs[i]
		if s.ConversationID == w.conv.ID && s.UserID != 0 && (s.Kind == live.SignalTyping || s.Kind == live.SignalStopped) {
			typing = s
		}
	}
	if typing == nil {
		return nil, nil
	}
	name := ""
	if typing.Kind == live.SignalTyping {
		name = typing.UserName
	}
	return update(ctx, []templ.Component{views.WidgetTyping(name, true)})
}
