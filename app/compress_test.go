package app

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/models"
)

// Pages and htmx fragments go out compressed as the client prefers, with
// Vary; small answers, SSE streams and file downloads do not. Each page
// carries the CSRF token masked afresh, and the masked forms are accepted.
func TestPagesCompressed(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ada", "ada@example.com", models.RoleAgent, true)
	b := e.browser()
	b.login("ada@example.com")
	w := e.newVisitor()
	pid := w.start("Hello, here is my problem")

	raw := func(method, path, accept string, headers ...string) (*http.Response, []byte) {
		req, err := http.NewRequest(method, e.srv.URL+path, nil)
		require.NoError(t, err)
		req.Header.Set("Accept-Encoding", accept)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		res, err := b.client.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res, body
	}
	tokens := map[string]bool{}
	for _, c := range []struct{ accept, want string }{{"gzip, deflate, br", "br"}, {"gzip", "gzip"}, {"identity", ""}, {"br;q=0.5, gzip", "gzip"}} {
		res, body := raw(http.MethodGet, "/conversations/"+pid, c.accept)
		require.Equal(t, http.StatusOK, res.StatusCode)
		assert.Equal(t, c.want, res.Header.Get("Content-Encoding"), c.accept)
		assert.Contains(t, res.Header.Values("Vary"), "Accept-Encoding")
		html := decode(t, res.Header.Get("Content-Encoding"), body)
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(html)))
		require.NoError(t, err)
		tok := doc.Find("#page-meta").AttrOr("data-csrf-token", "")
		require.NotEmpty(t, tok)
		assert.False(t, tokens[tok], "a fresh mask per page")
		tokens[tok] = true
		if c.want != "" {
			assert.Less(t, len(body), len(html)/2, "compressed")
		}
	}
	// Each masked token is accepted; a wrong one is not.
	for tok := range tokens {
		res := b.post("/conversations/"+pid+"/messages", url.Values{"body": {"reply"}, "_csrf": {tok}}, "HX-Request", "true", "X-CSRF-Token", tok)
		assert.Equal(t, http.StatusOK, res.StatusCode, res.body)
	}
	bad := maskCSRF("not the token")
	res := b.post("/conversations/"+pid+"/messages", url.Values{"body": {"reply"}, "_csrf": {bad}}, "HX-Request", "true", "X-CSRF-Token", bad)
	assert.Equal(t, http.StatusForbidden, res.StatusCode)

	// An htmx fragment (the thread's details) is compressed too and decodes
	// to the same fragment.
	frag, body := raw(http.MethodGet, "/conversations/"+pid, "br", "HX-Request", "true")
	require.Equal(t, http.StatusOK, frag.StatusCode)
	assert.Equal(t, "br", frag.Header.Get("Content-Encoding"))
	assert.Contains(t, string(decode(t, "br", body)), pid)

	// A small answer is sent as it is.
	small, _ := raw(http.MethodGet, "/healthz", "br")
	assert.Empty(t, small.Header.Get("Content-Encoding"))

	// The desk's stream is never compressed.
	page := b.get("/inbox")
	src := page.doc.Find("#desk-stream").AttrOr("sse-connect", "")
	require.NotEmpty(t, src)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+src, nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Accept-Encoding", "gzip, deflate, br")
	stream, err := (&http.Client{Jar: b.client.Jar}).Do(req)
	require.NoError(t, err)
	defer stream.Body.Close()
	require.Equal(t, http.StatusOK, stream.StatusCode)
	assert.Equal(t, "text/event-stream", stream.Header.Get("Content-Type"))
	assert.Empty(t, stream.Header.Get("Content-Encoding"))
	line, err := bufio.NewReader(stream.Body).ReadString('\n')
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(line, ":") || strings.Contains(line, ":"), "plain SSE text: %q", line)

	// Nor is a file download, whatever the client accepts.
	id := chip(t, b.upload(pid, "notes.txt", []byte(strings.Repeat("plain text compresses well\n", 200))))
	sent := b.post("/conversations/"+pid+"/messages", url.Values{"body": {""}, "files": {id}}, "HX-Request", "true")
	require.Equal(t, http.StatusOK, sent.StatusCode, sent.body)
	thread := w.get("/widget/conversations/" + pid)
	link := thread.doc.Find("a.w-file-card").AttrOr("href", "")
	require.NotEmpty(t, link, thread.body)
	file, fileBody := raw(http.MethodGet, link, "gzip, deflate, br")
	require.Equal(t, http.StatusOK, file.StatusCode)
	assert.Empty(t, file.Header.Get("Content-Encoding"))
	assert.Equal(t, strings.Repeat("plain text compresses well\n", 200), string(fileBody))
}

// A masked token differs every time and unmasks to the token.
func TestCSRFMask(t *testing.T) {
	t.Parallel()
	tok := models.RandomToken(32)
	a, b := maskCSRF(tok), maskCSRF(tok)
	assert.NotEqual(t, a, b)
	assert.NotContains(t, a, tok)
	assert.Equal(t, tok, unmaskCSRF(a))
	assert.Equal(t, tok, unmaskCSRF(b))
	assert.Equal(t, "", maskCSRF(""))
	assert.NotEqual(t, tok, unmaskCSRF(tok), "the plain token is not a masked one")
	assert.Equal(t, "%%%", unmaskCSRF("%%%"))
}
