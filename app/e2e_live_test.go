package app

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/browsertest"
	"github.com/parleydesk/parley/views"
)

// live.js must never show an item twice: a stream update may repeat items
// the page already has (a replay after a reconnect, or the events between a
// page's render and its stream's start) together with new ones.
func TestBrowserLiveUpdatesSkipItemsAlreadyShown(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t)
	page := `<!DOCTYPE html><html lang="en"><head>
<script src="` + e.srv.URL + views.AssetURL("swap.js") + `"></script>
<script src="` + e.srv.URL + views.AssetURL("live.js") + `"></script>
</head><body><div id="thread"><p id="m-1">first</p></div></body></html>`
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(page))
	}))
	t.Cleanup(host.Close)
	tab := browsertest.Tab(t, 60*time.Second)
	require.NoError(t, chromedp.Do(tab, chromedp.Navigate(host.URL), chromedp.WaitReady(chromedp.ID("m-1"))))

	swap := func(html string) string {
		ids, err := chromedp.Run(tab, chromedp.Evaluate[string](`(function () {
			htmx.swap(document.body, `+"`"+html+"`"+`, {swapStyle: 'none'});
			return Array.from(document.querySelectorAll('#thread [id]')).map(function (e) { return e.id; }).join(',');
		})()`))
		require.NoError(t, err)
		return ids
	}
	require.Equal(t, "m-1,m-2", swap(`<div hx-swap-oob="beforeend:#thread"><p id="m-1">first</p><p id="m-2">second</p></div>`),
		"the repeated item is dropped, the new one added")
	require.Equal(t, "m-1,m-2", swap(`<div hx-swap-oob="beforeend:#thread"><p id="m-2">second</p></div>`),
		"nothing new: nothing added")
	require.Equal(t, "m-1,m-2,m-3", swap(`<div hx-swap-oob="beforeend:#thread"><p id="m-3">third</p></div>`))
}
