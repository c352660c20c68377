package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/models"
)

// ended waits (boundedly) for a stream to end and returns what it carried.
func (s *testStream) ended() string {
	s.t.Helper()
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.t.Fatalf("stream still open; got:\n%s", s.text())
	}
	return s.text()
}

// A visitor's resume point replays only its own conversations, and one the
// server should not honour (older than the replay bound, from the future)
// gets a reload and an ended stream instead of a replay; a staff stream
// resuming further back than the bound reloads too.
func TestStreamResumeScopedAndBounded(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	e.app.hub.ReplayLimits = models.ReplayLimits{MaxAge: 10 * time.Minute, MaxEvents: 10}
	for range 4 {
		cust, conv := e.customerConversation("Someone Else", "not yours")
		e.customerSays(cust, conv, "still not yours")
	}
	w := e.newVisitor()
	pid := w.start("my own question")
	require.NoError(t, e.app.rt.Poll(ctx))

	// since=1: the visitor's own conversation, nobody else's.
	s := w.stream(t, 1, "")
	txt := s.waitFor(pid)
	require.NotContains(t, txt, "not yours")
	require.NotContains(t, txt, "event: reload")

	// Its own events are older than the bound: reload, and the stream ends.
	require.NoError(t, e.db.Exec(`UPDATE events SET created_at = now() - interval '1 hour'
		WHERE conversation_id IN (SELECT id FROM conversations WHERE customer_id = ?)`, w.visitor().CustomerID).Error)
	txt = w.stream(t, 1, "").ended()
	require.Contains(t, txt, "event: reload")
	require.NotContains(t, txt, pid, "nothing replayed")

	// A resume point from the future is no position at all.
	txt = w.stream(t, e.app.rt.Cursor()+1_000_000, "").ended()
	require.Contains(t, txt, "event: reload")

	// Staff: more than MaxEvents since the resume point is a reload.
	e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	ada := e.browser()
	ada.login("ada@example.com")
	ds := ada.stream("/desk/events?view=mine&since=1")
	next(t, ds.events, "reload")
	require.True(t, strings.HasPrefix(ds.everything(), "reload\n"), "nothing is replayed before the reload")
	ds.end()
}

// end waits (boundedly) for the server to end the stream.
func (s *deskStream) end() {
	s.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-s.events:
			if !ok {
				return
			}
		case <-timeout:
			s.t.Fatal("stream still open")
		}
	}
}
