package app

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// sseEvent is one event read from a stream.
type sseEvent struct {
	name, id, data string
}

// doc parses an update's HTML fragments.
func (ev sseEvent) doc(t testing.TB) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(ev.data))
	require.NoError(t, err)
	return d
}

// deskStream is a test client of /desk/events reading in the background.
type deskStream struct {
	t      testing.TB
	events chan sseEvent
	mu     sync.Mutex
	all    []sseEvent // every event read so far
}

// streamFor opens the desk stream a page rendered (its #desk-stream
// sse-connect address), as that browser, until the test ends.
func (b *browser) streamFor(page *response) *deskStream {
	b.e.t.Helper()
	src, ok := page.doc.Find("#desk-stream").Attr("sse-connect")
	require.True(b.e.t, ok, "the page connects to the desk stream")
	return b.stream(src)
}

// stream opens path as an event stream with the browser's cookies.
func (b *browser) stream(path string) *deskStream {
	t := b.e.t
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.e.srv.URL+path, nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "text/event-stream")
	client := &http.Client{Jar: b.client.Jar, CheckRedirect: b.client.CheckRedirect}
	res, err := client.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "text/event-stream", res.Header.Get("Content-Type"))
	s := &deskStream{t: t, events: make(chan sseEvent, 1024)}
	go func() {
		defer res.Body.Close()
		defer close(s.events)
		parseSSE(res.Body, func(ev sseEvent) {
			s.mu.Lock()
			s.all = append(s.all, ev)
			s.mu.Unlock()
			s.events <- ev
		})
	}()
	return s
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

// waitFor returns the first update (from now on) for which match is true,
// failing the test if none comes within a bounded wait.
func (s *deskStream) waitFor(what string, match func(ev sseEvent, doc *goquery.Document) bool) (sseEvent, *goquery.Document) {
	s.t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				s.t.Fatalf("stream ended while waiting for %s", what)
			}
			if ev.name != "update" {
				continue
			}
			doc := ev.doc(s.t)
			if match(ev, doc) {
				return ev, doc
			}
		case <-deadline:
			s.t.Fatalf("no update with %s", what)
		}
	}
}

// has waits for an update with an element matching selector.
func (s *deskStream) has(selector string) (sseEvent, *goquery.Selection) {
	s.t.Helper()
	ev, doc := s.waitFor(selector, func(_ sseEvent, d *goquery.Document) bool { return d.Find(selector).Length() > 0 })
	return ev, doc.Find(selector)
}

// everything is the data of every event read so far.
func (s *deskStream) everything() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	for _, ev := range s.all {
		b.WriteString(ev.name + "\n" + ev.data + "\n\n")
	}
	return b.String()
}

// customerConversation starts a conversation as a new customer, as the
// widget would, and rings the doorbell.
func (e *testEnv) customerConversation(name, body string) (*models.Customer, *models.Conversation) {
	e.t.Helper()
	ctx := context.Background()
	_, v, err := models.CreateVisitor(ctx, e.db)
	require.NoError(e.t, err)
	cust := v.Customer
	if name != "" {
		cust, err = models.UpdateCustomerContact(ctx, e.db, cust.ID, name, "", false)
		require.NoError(e.t, err)
	}
	conv, _, err := factory.Write2(e.db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartCustomerConversation(ctx, tx, cust, body, models.SessionInfo{
			PageURL: "https://shop.example/cart", Referrer: "https://search.example/?q=shoes", Browser: "Firefox", OS: "Linux", Language: "fr-FR", Timezone: "Europe/Paris",
		})
	})
	require.NoError(e.t, err)
	e.app.rt.Ring()
	return cust, conv
}

// customerSays posts a customer message, as the widget would.
func (e *testEnv) customerSays(cust *models.Customer, conv *models.Conversation, body string) {
	e.t.Helper()
	_, err := factory.Write1(e.db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(context.Background(), tx, models.Actor{Customer: cust}, conv, models.MessageText, body)
	})
	require.NoError(e.t, err)
	e.app.rt.Ring()
}

// Shutdown (the HTTP server's RegisterOnShutdown hook) ends every desk
// stream, so the server can stop; clients reconnect and resume.
func TestShutdownEndsDeskStreams(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Mia", "mia@example.com", models.RoleAgent, true)
	b := e.browser()
	b.login("mia@example.com")
	s := b.streamFor(b.get("/inbox"))
	require.Eventually(t, func() bool { return e.app.hub.Count() == 1 }, 5*time.Second, 10*time.Millisecond)
	e.app.beginStopping()
	s.end()
	require.Zero(t, e.app.hub.Count())
}
