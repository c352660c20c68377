package app

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/models"
)

// widgetClient plays the widget's iframe: a visitor token sent in the
// X-Parley-Visitor header by every htmx request, never a cookie.
type widgetClient struct {
	e     *testEnv
	b     *browser
	token string
	lang  string
	ip    string // sent as X-Forwarded-For (believed from loopback)
}

// newVisitor creates a visitor through the API, as the frame does.
func (e *testEnv) newVisitor(ip ...string) *widgetClient {
	e.t.Helper()
	w := &widgetClient{e: e, b: e.browser()}
	if len(ip) > 0 {
		w.ip = ip[0]
	}
	res := w.do(http.MethodPost, "/widget/api/visitors", nil)
	require.Equal(e.t, http.StatusCreated, res.StatusCode, res.body)
	var out struct{ Token string }
	require.NoError(e.t, json.Unmarshal([]byte(res.body), &out))
	require.NotEmpty(e.t, out.Token)
	w.token = out.Token
	return w
}

func (w *widgetClient) do(method, path string, values url.Values) *response {
	w.e.t.Helper()
	var body *strings.Reader
	if values != nil {
		body = strings.NewReader(values.Encode())
	} else {
		body = strings.NewReader("")
	}
	req, err := http.NewRequest(method, w.e.srv.URL+path, body)
	require.NoError(w.e.t, err)
	if values != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("HX-Request", "true")
	if w.token != "" {
		req.Header.Set(visitorHeader, w.token)
	}
	if w.lang != "" {
		req.Header.Set(langHeader, w.lang)
	}
	if w.ip != "" {
		req.Header.Set("X-Forwarded-For", w.ip)
	}
	return w.b.do(req)
}

func (w *widgetClient) get(path string) *response { return w.do(http.MethodGet, path, nil) }

func (w *widgetClient) post(path string, values url.Values) *response {
	if values == nil {
		values = url.Values{}
	}
	return w.do(http.MethodPost, path, values)
}

// start opens a conversation and returns its public id.
func (w *widgetClient) start(body string) string {
	w.e.t.Helper()
	res := w.post("/widget/conversations", url.Values{"body": {body}})
	require.Equal(w.e.t, http.StatusOK, res.StatusCode, res.body)
	pid, ok := res.doc.Find("#w-thread-view").Attr("data-pid")
	require.True(w.e.t, ok, res.body)
	return pid
}

// visitor loads the domain record behind the client's token.
func (w *widgetClient) visitor() *models.Visitor {
	w.e.t.Helper()
	v, err := models.FindVisitor(context.Background(), w.e.db, w.token)
	require.NoError(w.e.t, err)
	return v
}

// testStream reads a live stream in the background.
type testStream struct {
	t      *testing.T
	mu     sync.Mutex
	buf    strings.Builder
	status int
	done   chan struct{}
}

// stream opens /widget/events for the client from the given cursor (conv
// empty: the home view's stream). It ends with the test.
func (w *widgetClient) stream(t *testing.T, since uint64, conv string) *testStream {
	t.Helper()
	q := url.Values{"visitor": {w.token}, "since": {uintStr(since)}}
	if conv != "" {
		q.Set("conv", conv)
	}
	if w.lang != "" {
		q.Set("lang", w.lang)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.e.srv.URL+"/widget/events?"+q.Encode(), nil)
	require.NoError(t, err)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	s := &testStream{t: t, status: res.StatusCode, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer res.Body.Close()
		r := bufio.NewReader(res.Body)
		for {
			line, err := r.ReadString('\n')
			s.mu.Lock()
			s.buf.WriteString(line)
			s.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return s
}

func (s *testStream) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// waitFor waits (bounded) until the stream has carried substr.
func (s *testStream) waitFor(substr string) string {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if txt := s.text(); strings.Contains(txt, substr) {
			return txt
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.t.Fatalf("stream never carried %q; got:\n%s", substr, s.text())
	return ""
}

func uintStr(n uint64) string { return strconv.FormatUint(n, 10) }
