package app

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/browsertest"
	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// cobrowseHost is a shop page with the widget, a card-number field (a plain
// text input: masked only because co-browsing masks every input) and two
// elements the site marks private.
func cobrowseHost(t *testing.T, parleyURL string) *httptest.Server {
	t.Helper()
	page := `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Checkout</title></head>
<body><h1>Checkout</h1>
<p id="host-out">Step 1</p>
<label>Card number <input id="card" type="text" autocomplete="off"></label>
<p class="parley-private">PRIVATE-CLASS-TEXT</p>
<div data-parley-private>PRIVATE-ATTR-TEXT</div>
<div style="height:2000px">tall</div>
<script async src="` + parleyURL + `/widget.js"></script>
</body></html>`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, page)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// replayJS reaches the replayed page's document in the desk: the viewer's
// frame, then rrweb's sandboxed (same-origin) iframe inside it.
const replayJS = `(function(){
  var v = document.querySelector('#cobrowse-viewer iframe'); if (!v || !v.contentDocument) return null;
  var r = v.contentDocument.querySelector('#cobrowse-stage iframe'); return r && r.contentDocument;
})()`

// Co-browsing, end to end: the agent asks, the customer allows in the
// widget on the shop's page, the desk mirrors the page live (a change shows
// within 1 s), a typed card number and the private elements never leave the
// page (not in the stored chunks, not in the replayer), the agent's
// highlight reaches the customer's page, the customer ends it from the bar,
// every step is a status line on both sides, and the chunks are purged.
func TestBrowserCobrowse(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	host := cobrowseHost(t, e.srv.URL)
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error {
		return models.UpdateSettings(ctx, tx, models.SettingsInput{DeskName: "Acme", BrandColor: "#2563eb", AllowedOrigins: host.URL, DemoEnabled: true})
	}))
	e.user("Sam", "sam@example.com", models.RoleAgent, true)

	// The customer's browser is a Chromium process of its own.
	shop := browsertest.SecondBrowserTab(t, 150*time.Second)
	defer keepScreenshot(t, shop)
	require.NoError(t, chromedp.Do(shop,
		chromedp.Navigate(host.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(".parley-launcher")),
		browsertest.Click(".parley-launcher"),
		browsertest.Type("#w-start-body", "Help with checkout", inWidget),
		pressEnter,
		browsertest.WaitFor(`document.querySelector('#w-thread') && document.querySelector('#w-thread').textContent.includes('Help with checkout')`, inWidget),
	))
	assert.Equal(t, "false", jsText(t, shop, `String(!!window.rrwebRecord || !![...document.scripts].some(s => s.src.includes('rrweb')))`), "no recorder before consent")
	var pid string
	require.NoError(t, e.db.Raw(`SELECT public_id::text FROM conversations WHERE kind = 'customer' ORDER BY id DESC LIMIT 1`).Scan(&pid).Error)

	desk := deskTabFor(t, e, "sam@example.com", 150*time.Second)
	require.NoError(t, chromedp.Do(desk,
		chromedp.Navigate(e.srv.URL+"/conversations/"+pid),
		browsertest.Click("#cobrowse-request"),
		until(`document.querySelector('#cobrowse-panel[data-state=requested]')`),
		until(`[...document.querySelectorAll('#messages .msg-system')].some(m => m.textContent.includes('Sam asked to co-browse'))`),
	))
	assert.Equal(t, "false", jsText(t, desk, `String(!!window.rrwebReplay || !![...document.scripts].some(s => s.src.includes('rrweb')))`), "the desk loads no replayer until co-browsing opens")

	// The customer allows it: the bar on the shop's page, the recorder loaded.
	require.NoError(t, chromedp.Do(shop,
		browsertest.Click("#w-cobrowse-allow", inWidget),
		browsertest.WaitFor(`document.querySelector('.parley-cobrowse-bar') && window.rrwebRecord`),
		browsertest.WaitFor(`document.querySelector('#w-cobrowse .w-cobrowse-bar')`, inWidget),
	))
	assert.Contains(t, jsText(t, shop, `document.querySelector('.parley-cobrowse-bar').textContent`), "Agent is viewing this page")

	// The desk's viewer opens by itself (this tab asked) and mirrors the page.
	require.NoError(t, chromedp.Do(desk,
		until(`document.querySelector('#cobrowse-panel[data-state=active]')`),
		until(`(function(){var d = `+replayJS+`; return d && d.body && d.body.textContent.includes('Step 1');})()`),
	))

	// The customer types a card number; it never leaves the page.
	const secret = "4111-SECRET-9876"
	require.NoError(t, chromedp.Do(shop, browsertest.Type("#card", secret)))

	// Host-page changes reach the agent; their latency is logged.
	var lat []time.Duration
	for i := 1; i <= 5; i++ {
		want := fmt.Sprintf("CHANGED-%d", i)
		_, err := chromedp.Run(desk, chromedp.Evaluate[chromedp.Void](`window.__seen = 0; clearInterval(window.__iv); window.__iv = setInterval(function(){
			var d = `+replayJS+`; if (d && d.body && d.body.textContent.includes('`+want+`')) { window.__seen = Date.now(); clearInterval(window.__iv); } }, 5);`))
		require.NoError(t, err)
		t0, err := chromedp.Run(shop, chromedp.Evaluate[float64](`document.getElementById('host-out').textContent = '`+want+`'; Date.now()`))
		require.NoError(t, err)
		require.NoError(t, chromedp.Do(desk, until(`window.__seen > 0`)))
		seen, err := chromedp.Run(desk, chromedp.Evaluate[float64](`window.__seen`))
		require.NoError(t, err)
		lat = append(lat, time.Duration(seen-t0)*time.Millisecond)
		time.Sleep(300 * time.Millisecond)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	// A figure, not an assertion: the suite's timing depends on the
	// machine's load (measured quiet: 79–253 ms; the target is 1 s). Every
	// change arriving at all is what the waits above assert.
	t.Logf("mirror latency (host-page change → agent's replayer), 5 samples: min %v, median %v, max %v", lat[0], lat[2], lat[4])

	// Nothing typed nor private was stored or replayed.
	var stored string
	require.NoError(t, e.db.Raw(`SELECT coalesce(string_agg(convert_from(data, 'UTF8'), ''), '') FROM cobrowse_chunks`).Scan(&stored).Error)
	assert.Contains(t, stored, "CHANGED-5")
	for _, s := range []string{secret, "SECRET", "PRIVATE-CLASS-TEXT", "PRIVATE-ATTR-TEXT"} {
		assert.NotContains(t, stored, s, "stored chunks")
	}
	replayed := jsText(t, desk, `(function(){var d = `+replayJS+`; var vals = [...d.querySelectorAll('input')].map(i => i.value).join(' '); return d.documentElement.outerHTML + ' ' + vals;})()`)
	assert.Contains(t, replayed, "CHANGED-5")
	for _, s := range []string{secret, "SECRET", "PRIVATE-CLASS-TEXT", "PRIVATE-ATTR-TEXT"} {
		assert.NotContains(t, replayed, s, "replayer DOM")
	}

	// The agent clicks the paragraph in the replayer: it is outlined on the
	// customer's page.
	_, err := chromedp.Run(desk, chromedp.Evaluate[chromedp.Void](`(function(){
		var v = document.querySelector('#cobrowse-viewer iframe'), vd = v.contentDocument;
		var r = vd.querySelector('#cobrowse-stage iframe'), el = r.contentDocument.getElementById('host-out');
		var fr = r.getBoundingClientRect(), er = el.getBoundingClientRect(), s = fr.width / r.offsetWidth;
		var wrap = vd.querySelector('.replayer-wrapper');
		wrap.dispatchEvent(new MouseEvent('click', {bubbles: true, clientX: fr.left + (er.left + 2) * s, clientY: fr.top + (er.top + 2) * s}));
	})()`))
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(shop, browsertest.WaitFor(`document.querySelector('.parley-cobrowse-highlight')`)))

	// The customer ends it from the bar on the page.
	require.NoError(t, chromedp.Do(shop,
		browsertest.Click(".parley-cobrowse-bar button"),
		browsertest.WaitFor(`!document.querySelector('.parley-cobrowse-bar')`),
		browsertest.WaitFor(`document.getElementById('w-thread').textContent.includes('Co-browsing ended.')`, inWidget),
	))
	require.NoError(t, chromedp.Do(desk,
		until(`document.querySelector('#cobrowse-panel #cobrowse-request')`),
		until(`[...document.querySelectorAll('#messages .msg-system')].some(m => m.textContent.includes('Co-browsing ended by'))`),
	))
	deskLog := jsText(t, desk, `document.getElementById('messages').textContent`)
	for _, s := range []string{"Sam asked to co-browse", "allowed co-browsing", "Co-browsing started", "Co-browsing ended by"} {
		assert.Contains(t, deskLog, s)
	}
	wlog, err := chromedp.Run(shop, browsertest.Text("#w-thread", inWidget))
	require.NoError(t, err)
	for _, s := range []string{"The agent asked to see the page you are on.", "You allowed the agent to see this page.", "The agent is now viewing this page.", "Co-browsing ended."} {
		assert.Contains(t, wlog, s)
	}
	// The end queued the purge (River's worker runs it: jobs.CobrowsePurgeWorker;
	// this harness runs no workers, so the test does its one statement).
	var sid int64
	require.NoError(t, e.db.Raw(`SELECT id FROM cobrowse_sessions ORDER BY id DESC LIMIT 1`).Scan(&sid).Error)
	var queued int64
	require.NoError(t, e.db.Raw(`SELECT count(*) FROM river_job WHERE kind = 'cobrowse_purge' AND (args->>'session_id')::bigint = ?`, sid).Scan(&queued).Error)
	assert.EqualValues(t, 1, queued, "purge queued with the end")
	n, err := models.PurgeCobrowseChunks(ctx, e.db, sid)
	require.NoError(t, err)
	assert.Positive(t, n)
	var left int64
	require.NoError(t, e.db.Raw(`SELECT count(*) FROM cobrowse_chunks`).Scan(&left).Error)
	assert.Zero(t, left, "chunks purged after the end")
}
