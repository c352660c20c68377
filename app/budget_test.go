package app

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/brotli"
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

// Static text assets are sent in brotli or gzip as the client prefers,
// the same bytes once decoded, and revalidate with their ETag. Hashed names
// are immutable; plain names, the older ?v= links and another build's hash
// still answer, cached briefly.
func TestStaticAssetsCompressed(t *testing.T) {
	t.Parallel()
	e := setup(t)
	b := e.browser()
	get := func(path, accept string, headers ...string) (*http.Response, []byte) {
		req, err := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
		require.NoError(t, err)
		req.Header.Set("Accept-Encoding", accept)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		res, err := b.client.Do(req)
		require.NoError(t, err)
		body, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		res.Body.Close()
		return res, body
	}
	for _, name := range []string{"app.css", "desk.js", "vendor/htmx-2.0.11.min.js"} {
		u := views.AssetURL(name)
		require.Regexp(t, `^/static/.+\.[0-9a-f]{12}\.(css|js)$`, u)
		plainRes, plain := get(u, "")
		require.Equal(t, http.StatusOK, plainRes.StatusCode, u)
		assert.Empty(t, plainRes.Header.Get("Content-Encoding"), u)
		assert.Equal(t, "public, max-age=31536000, immutable", plainRes.Header.Get("Cache-Control"), u)
		assert.Contains(t, plainRes.Header.Values("Vary"), "Accept-Encoding", u)

		for accept, want := range map[string]string{
			"gzip": "gzip", "br": "br", "gzip, deflate, br": "br", "br;q=0.1, gzip": "gzip", "gzip;q=0, br;q=0": "", "identity": "",
		} {
			res, body := get(u, accept)
			require.Equal(t, http.StatusOK, res.StatusCode)
			assert.Equal(t, want, res.Header.Get("Content-Encoding"), "%s with %q", u, accept)
			assert.Equal(t, plain, decode(t, res.Header.Get("Content-Encoding"), body), "%s with %q", u, accept)
		}
		zipped, _ := get(u, "br")
		again, _ := get(u, "br", "If-None-Match", zipped.Header.Get("ETag"))
		assert.Equal(t, http.StatusNotModified, again.StatusCode, u)

		for _, old := range []string{"/static/" + name, "/static/" + name + "?v=0123456789ab", "/static/" + withHash(name, "0123456789ab")} {
			res, body := get(old, "br")
			require.Equal(t, http.StatusOK, res.StatusCode, old)
			assert.Equal(t, "public, max-age=300", res.Header.Get("Cache-Control"), old)
			assert.Equal(t, plain, decode(t, res.Header.Get("Content-Encoding"), body), old)
		}
	}
	res, _ := get("/widget.js", "br")
	assert.Equal(t, "br", res.Header.Get("Content-Encoding"), "the loader too")
	for _, missing := range []string{"/static/nope.0123456789ab.css", "/static/static.go", "/static/app.css.0123456789ab"} {
		res, _ := get(missing, "")
		assert.Equal(t, http.StatusNotFound, res.StatusCode, missing)
	}
	res, _ = get("/favicon.ico", "gzip")
	assert.Empty(t, res.Header.Get("Content-Encoding"), "the icon route stays as it was")
}

// decode undoes a Content-Encoding.
func decode(t *testing.T, coding string, body []byte) []byte {
	t.Helper()
	var r io.Reader
	switch coding {
	case "":
		return body
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		require.NoError(t, err)
		r = zr
	case "br":
		r = brotli.NewReader(bytes.NewReader(body))
	default:
		t.Fatalf("unexpected coding %q", coding)
	}
	out, err := io.ReadAll(r)
	require.NoError(t, err)
	return out
}

// The coding follows the client's q-values, brotli on a tie; q=0 refuses
// and "*" stands for what is not listed.
func TestAcceptEncoding(t *testing.T) {
	t.Parallel()
	for h, want := range map[string]string{
		"": "", "identity": "", "gzip": "gzip", "GZIP": "gzip", "deflate, gzip;q=0.5": "gzip", "gzip;q=0": "", "gzip; q=0.0": "",
		"*": "br", "*;q=0": "", "br, identity": "br", "x-gzip": "", "br": "br", "gzip, br": "br", "br;q=0.5, gzip": "gzip",
		"gzip;q=0.8, br;q=0.9": "br", "br;q=0, *": "gzip", "gzip, deflate, br, zstd": "br", "br;q=nonsense, gzip": "gzip",
		"br;q=1.5": "", "gzip ; q=1": "gzip",
	} {
		assert.Equal(t, want, acceptEncoding(h, true, true), "%q", h)
	}
	assert.Equal(t, "gzip", acceptEncoding("br, gzip", false, true), "brotli not offered")
	assert.Empty(t, acceptEncoding("br", false, true))
}
