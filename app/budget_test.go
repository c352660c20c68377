package app

import (
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// The weight budgets: what a first visit downloads in JavaScript and CSS,
// as sent (gzip), for the desk (≤ 100 KB, a conversation page included,
// with the canned-reply picker it loads there) and the widget frame
// (≤ 50 KB). Figures are logged (go test -v -run Budget).
func TestFirstLoadBudgets(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ada", "ada@example.com", models.RoleAgent, true)
	_, conv := e.customerConversation("Chloé", "Hello")
	b := e.browser()
	b.login("ada@example.com")

	const kb = 1000
	for _, c := range []struct {
		name   string
		page   *response
		budget int
	}{
		{"desk inbox", b.get("/inbox"), 100 * kb},
		{"desk conversation", b.get("/conversations/" + conv.PublicID), 100 * kb},
		{"widget frame", e.browser().get("/widget/frame"), 50 * kb},
	} {
		require.Equal(t, http.StatusOK, c.page.StatusCode, c.name)
		urls := pageAssets(c.page.doc)
		require.NotEmpty(t, urls, c.name)
		sent, plain := 0, 0
		for _, u := range urls {
			s, p := b.fetchAsset(u)
			sent += s
			plain += p
		}
		t.Logf("%s: %d assets, %.1f KB sent (gzip), %.1f KB uncompressed", c.name, len(urls), float64(sent)/kb, float64(plain)/kb)
		assert.LessOrEqual(t, sent, c.budget, "%s: JS+CSS sent on first load", c.name)
	}

	// The widget with a conversation open: the frame plus what the thread
	// view loads (files.js, with the composer's attachment bar).
	w := e.newVisitor()
	pid := w.start("Hello")
	frame := e.browser().get("/widget/frame")
	thread := w.get("/widget/conversations/" + pid)
	urls := append(pageAssets(frame.doc), pageAssets(thread.doc)...)
	require.Contains(t, urls, views.AssetURL("files.js"))
	sent, plain := 0, 0
	for _, u := range urls {
		s, p := b.fetchAsset(u)
		sent += s
		plain += p
	}
	t.Logf("widget frame with a conversation: %d assets, %.1f KB sent (gzip), %.1f KB uncompressed", len(urls), float64(sent)/kb, float64(plain)/kb)
	assert.LessOrEqual(t, sent, 50*kb, "widget with a conversation: JS+CSS sent")
}

// pageAssets lists a page's scripts and stylesheets, and the scripts its
// pages load by themselves (data-canned-script).
func pageAssets(doc *goquery.Document) []string {
	var urls []string
	doc.Find(`script[src], link[rel="stylesheet"][href], [data-canned-script]`).Each(func(_ int, s *goquery.Selection) {
		for _, attr := range []string{"src", "href", "data-canned-script"} {
			if v, ok := s.Attr(attr); ok && strings.HasPrefix(v, "/static/") {
				urls = append(urls, v)
			}
		}
	})
	return urls
}

// fetchAsset downloads a static asset as a browser would (accepting gzip)
// and returns the bytes sent and their uncompressed size.
func (b *browser) fetchAsset(path string) (sent, plain int) {
	t := b.e.t
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.e.srv.URL+path, nil)
	require.NoError(t, err)
	req.Header.Set("Accept-Encoding", "gzip, deflate, br")
	res, err := b.client.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode, path)
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	sent, plain = len(body), len(body)
	if res.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(strings.NewReader(string(body)))
		require.NoError(t, err)
		all, err := io.ReadAll(zr)
		require.NoError(t, err)
		plain = len(all)
	}
	return sent, plain
}

// Static text assets are sent gzipped to clients that take it, as they are
// to others, and revalidate with their ETag.
func TestStaticAssetsCompressed(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := e.browser()
	get := func(path, accept string, headers ...string) *http.Response {
		req, err := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
		require.NoError(t, err)
		req.Header.Set("Accept-Encoding", accept)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		res, err := b.client.Do(req)
		require.NoError(t, err)
		io.Copy(io.Discard, res.Body) //nolint:errcheck
		res.Body.Close()
		return res
	}
	for _, p := range []string{"/static/app.css", "/static/desk.js", "/widget.js"} {
		zipped := get(p, "gzip")
		require.Equal(t, http.StatusOK, zipped.StatusCode, p)
		assert.Equal(t, "gzip", zipped.Header.Get("Content-Encoding"), p)
		assert.Contains(t, zipped.Header.Values("Vary"), "Accept-Encoding", p)
		for _, accept := range []string{"", "identity", "gzip;q=0", "br"} {
			assert.Empty(t, get(p, accept).Header.Get("Content-Encoding"), "%s with Accept-Encoding %q", p, accept)
		}
		again := get(p, "gzip", "If-None-Match", zipped.Header.Get("ETag"))
		assert.Equal(t, http.StatusNotModified, again.StatusCode, p)
	}
	assert.Empty(t, get("/favicon.ico", "gzip").Header.Get("Content-Encoding"), "the icon route stays as it was")
}

func TestAcceptsGzip(t *testing.T) {
	for h, want := range map[string]bool{
		"": false, "gzip": true, "GZIP": true, "deflate, gzip;q=0.5": true, "gzip;q=0": false, "gzip; q=0.0": false,
		"*": true, "*;q=0": false, "br, identity": false, "x-gzip": false,
	} {
		assert.Equal(t, want, acceptsGzip(h), "%q", h)
	}
}
