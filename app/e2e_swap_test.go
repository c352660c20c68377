package app

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/browsertest"
	"github.com/parleydesk/parley/views"
)

// swap.js, the part of htmx the staff pages and the widget frame use, on a
// page of its own: the parts the desk's journeys lean on without checking
// them one by one. A boosted link loads the next page in place (no reload,
// its title, its address in history, HX-Boosted and HX-Current-URL sent),
// keeping an [hx-preserve] element as it was; back and forward fetch the
// page again (HX-History-Restore-Request, htmx:historyRestore); hx-confirm
// asks first (htmx:confirm, then window.confirm) and sends nothing on
// "Cancel"; an SSE event swaps its out-of-band parts (htmx:sseMessage).
func TestBrowserSwapLayer(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t)
	swapJS := e.srv.URL + views.AssetURL("swap.js")
	page := func(name, other string) string {
		// The listeners are in <head>, which a boosted navigation keeps: the
		// stream's first event may come before the test could add them.
		return `<!DOCTYPE html><html lang="en"><head><title>Page ` + name + `</title>
<script>
window.sseMessages = 0; document.addEventListener('htmx:sseMessage', function () { window.sseMessages++; });
window.restored = ''; document.addEventListener('htmx:historyRestore', function (e) { window.restored = e.detail.path; });
window.asked = ''; document.addEventListener('htmx:confirm', function (e) { window.asked = e.detail.question; });
</script>
<script src="` + swapJS + `" defer></script></head>
<body hx-boost="true">
<div id="keep" hx-preserve="true">fresh ` + name + `</div>
<p id="page-` + name + `">page ` + name + `</p>
<a id="go" href="/` + other + `">to ` + other + `</a>
<form id="del" hx-post="/delete" hx-confirm="Delete it?" hx-target="#out"><button id="del-button" type="submit">Delete</button></form>
<div id="out"></div>
<div id="live" hx-ext="sse" sse-connect="/events" sse-swap="update" hx-swap="none"></div>
</body></html>`
	}
	var mu sync.Mutex
	var seen []string // requests with the htmx headers they carried
	deletes := 0
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, fmt.Sprintf("%s %s boosted=%s restore=%s current=%s", r.Method, r.URL.Path,
			r.Header.Get("HX-Boosted"), r.Header.Get("HX-History-Restore-Request"), r.Header.Get("HX-Current-URL")))
		mu.Unlock()
		switch r.URL.Path {
		case "/a", "/b":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			other := map[string]string{"/a": "b", "/b": "a"}[r.URL.Path]
			w.Write([]byte(page(r.URL.Path[1:], other)))
		case "/delete":
			mu.Lock()
			deletes++
			mu.Unlock()
			w.Write([]byte(`<p id="deleted">deleted</p>`))
		case "/events":
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprint(w, "event: update\ndata: <div hx-swap-oob=\"beforeend:#out\"><p id=\"streamed\">from the stream</p></div>\n\n")
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-time.After(30 * time.Second):
			}
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(host.Close)
	requests := func(prefix string) []string {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for _, s := range seen {
			if strings.HasPrefix(s, prefix) {
				out = append(out, s)
			}
		}
		return out
	}

	tab := browsertest.Tab(t, 60*time.Second)
	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate(host.URL+"/a"),
		browsertest.WaitFor(`window.htmx && document.getElementById('page-a')`),
		chromedp.Evaluate[chromedp.Void](`window.probe = 'same page'; document.getElementById('keep').dataset.probe = 'kept';`),
		// An SSE event's out-of-band part lands where it says.
		browsertest.WaitFor(`document.getElementById('streamed') && window.sseMessages === 1`),
	))

	// hx-confirm: "Cancel" sends nothing; "OK" sends it.
	require.NoError(t, chromedp.Do(tab,
		chromedp.Evaluate[chromedp.Void](`window.confirm = function () { return false; }`),
		browsertest.Click(`#del-button`),
		browsertest.WaitFor(`window.asked === 'Delete it?'`),
	))
	require.Empty(t, requests("POST /delete"), "cancelled: nothing sent")
	require.NoError(t, chromedp.Do(tab,
		chromedp.Evaluate[chromedp.Void](`window.confirm = function (q) { window.confirmed = q; return true; }`),
		browsertest.Click(`#del-button`),
		browsertest.WaitFor(`document.getElementById('deleted') && window.confirmed === 'Delete it?'`),
	))
	require.Len(t, requests("POST /delete"), 1)

	// A boosted link: the next page in place, the preserved element kept.
	require.NoError(t, chromedp.Do(tab,
		browsertest.Click(`#go`),
		browsertest.WaitFor(`document.getElementById('page-b') && location.pathname === '/b'`),
	))
	assert.Equal(t, "same page", jsText(t, tab, `window.probe || 'reloaded'`), "no reload")
	assert.Equal(t, "Page b", jsText(t, tab, `document.title`))
	assert.Equal(t, "kept", jsText(t, tab, `document.getElementById('keep').dataset.probe || ''`), "hx-preserve keeps the element on the page")
	assert.Equal(t, "fresh a", jsText(t, tab, `document.getElementById('keep').textContent`))
	assert.Equal(t, "0", jsText(t, tab, `String(document.querySelectorAll('#page-a').length)`))
	assert.Equal(t, []string{"GET /b boosted=true restore= current=" + host.URL + "/a"}, requests("GET /b"))
	// The new page's stream runs; the old one's closed with its element.
	require.NoError(t, chromedp.Do(tab, browsertest.WaitFor(`window.sseMessages === 2`)))

	// Back: page a again, fetched; forward: page b.
	require.NoError(t, chromedp.Do(tab,
		chromedp.Evaluate[chromedp.Void](`history.back()`),
		browsertest.WaitFor(`document.getElementById('page-a') && location.pathname === '/a' && window.restored.endsWith('/a')`),
	))
	assert.Equal(t, "same page", jsText(t, tab, `window.probe || 'reloaded'`), "back: no reload")
	assert.Equal(t, "Page a", jsText(t, tab, `document.title`))
	assert.Equal(t, "GET /a boosted=true restore=true current="+host.URL+"/b", requests("GET /a")[1])
	require.NoError(t, chromedp.Do(tab,
		chromedp.Evaluate[chromedp.Void](`history.forward()`),
		browsertest.WaitFor(`document.getElementById('page-b') && location.pathname === '/b' && window.restored.endsWith('/b')`),
	))
	assert.Equal(t, "same page", jsText(t, tab, `window.probe || 'reloaded'`), "forward: no reload")
	assert.Equal(t, "kept", jsText(t, tab, `document.getElementById('keep').dataset.probe || ''`))
}
