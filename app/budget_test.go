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

// The weight budgets: what a first visit downloads in JavaScript and CSS
// for the desk (a conversation page included), the widget frame and the
// host page before the launcher is opened (the loader and its stylesheet:
// the frame comes on the first open). Scripts a page fetches only on first
// use (canned.js on the first '#', rtc.js, the co-browsing replayer) are not
// part of it. Figures are logged (go test -v -run Budget): uncompressed,
// gzip and brotli as sent.
//
// Issue 12 asks ≤ 100 KB uncompressed for the desk and ≤ 50 KB for the
// frame. Both hold it on swap.js, the part of htmx the pages use (htmx and
// its SSE extension alone were 55 KB minified).
func TestFirstLoadBudgets(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ada", "ada@example.com", models.RoleAgent, true)
	_, conv := e.customerConversation("Chloé", "Hello")
	b := e.browser()
	b.login("ada@example.com")

	const kb = 1000
	type budget struct{ plain, sent int }
	check := func(name string, urls []string, max budget) {
		t.Helper()
		require.NotEmpty(t, urls, name)
		var w weight
		for _, u := range urls {
			w.add(b.fetchAsset(u))
		}
		t.Logf("%s: %d assets, %.1f KB uncompressed, %.1f KB gzip, %.1f KB brotli", name, len(urls), float64(w.plain)/kb, float64(w.gzip)/kb, float64(w.br)/kb)
		assert.LessOrEqual(t, w.plain, max.plain, "%s: JS+CSS uncompressed", name)
		assert.LessOrEqual(t, w.br, max.sent, "%s: JS+CSS sent (brotli)", name)
		assert.Less(t, w.br, w.gzip, "%s: brotli is smaller than gzip", name)
	}
	for _, c := range []struct {
		name   string
		page   *response
		budget budget
	}{
		{"desk inbox", b.get("/inbox"), budget{100 * kb, 100 * kb}},
		{"desk conversation", b.get("/conversations/" + conv.PublicID), budget{100 * kb, 100 * kb}},
		{"widget frame", e.browser().get("/widget/frame"), budget{50 * kb, 50 * kb}},
	} {
		require.Equal(t, http.StatusOK, c.page.StatusCode, c.name)
		urls := pageAssets(c.page.doc)
		check(c.name, urls, c.budget)
		require.Contains(t, urls, views.AssetURL("swap.js"), c.name)
		for _, u := range urls {
			assert.NotContains(t, u, "htmx", "%s runs on swap.js, not htmx", c.name)
		}
	}

	// The widget with a conversation open: the frame plus what the thread
	// view loads (files.js, with the composer's attachment bar).
	w := e.newVisitor()
	pid := w.start("Hello")
	frame := e.browser().get("/widget/frame")
	thread := w.get("/widget/conversations/" + pid)
	urls := append(pageAssets(frame.doc), pageAssets(thread.doc)...)
	require.Contains(t, urls, views.AssetURL("files.js"))
	check("widget frame with a conversation", urls, budget{50 * kb, 50 * kb})
	for _, u := range urls {
		assert.NotContains(t, u, "htmx", "the frame runs on swap.js, not htmx")
	}

	// The host page until the launcher is opened: the loader and its
	// stylesheet.
	check("host page (loader)", []string{"/widget.js", views.AssetURL("widget-loader.css")}, budget{13 * kb, 6 * kb})
}

// weight sums an asset's sizes in each form.
type weight struct{ plain, gzip, br int }

func (w *weight) add(o weight) { w.plain += o.plain; w.gzip += o.gzip; w.br += o.br }

// pageAssets lists a page's scripts and stylesheets.
func pageAssets(doc *goquery.Document) []string {
	var urls []string
	doc.Find(`script[src], link[rel="stylesheet"][href]`).Each(func(_ int, s *goquery.Selection) {
		for _, attr := range []string{"src", "href"} {
			if v, ok := s.Attr(attr); ok && strings.HasPrefix(v, "/static/") {
				urls = append(urls, v)
			}
		}
	})
	return urls
}

// fetchAsset downloads a static asset as it is, gzipped and in brotli, and
// returns the three sizes (checking they decode to the same bytes).
func (b *browser) fetchAsset(path string) weight {
	t := b.e.t
	t.Helper()
	get := func(accept string) (string, []byte) {
		req, err := http.NewRequest(http.MethodGet, b.e.srv.URL+path, nil)
		require.NoError(t, err)
		req.Header.Set("Accept-Encoding", accept)
		res, err := b.client.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode, path)
		body, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res.Header.Get("Content-Encoding"), body
	}
	ce, plain := get("identity")
	require.Empty(t, ce, path)
	ce, gz := get("gzip")
	require.Equal(t, "gzip", ce, path)
	require.Equal(t, plain, decode(t, ce, gz), path)
	ce, br := get("gzip, deflate, br")
	require.Equal(t, "br", ce, path)
	require.Equal(t, plain, decode(t, ce, br), path)
	return weight{plain: len(plain), gzip: len(gz), br: len(br)}
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
	for _, name := range []string{"app.css", "desk.js", "vendor/rrweb-record-2.1.6.min.js"} {
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
func decode(t testing.TB, coding string, body []byte) []byte {
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
