package app

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/browsertest"
	"github.com/parleydesk/parley/models"
)

// layoutProbe describes how the page is laid out: the body's attributes
// and look, and the boxes of the shell, its sidebar and main column.
const layoutProbe = `JSON.stringify((function () {
	var b = document.body, cs = getComputedStyle(b);
	function box(sel) { var e = document.querySelector(sel); if (!e) return null; var r = e.getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; }
	return {
		attrs: Array.prototype.map.call(b.attributes, function (a) { return a.name + '=' + a.value; }).sort(),
		display: cs.display, padding: cs.padding, background: cs.backgroundImage, minHeight: cs.minHeight,
		shell: box('.shell'), sidebar: box('.sidebar'), main: box('#main'),
	};
})())`

// sameAsReloaded checks that the tab, reached by a boosted navigation (the
// marker set on the previous page survived), is laid out exactly as the same
// page after a reload.
func sameAsReloaded(t *testing.T, tab context.Context) {
	t.Helper()
	// htmx marks the body while it settles a swap (class htmx-settling):
	// compare the page at rest.
	settled := browsertest.WaitFor(`!document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling') &&
		!document.body.matches('.htmx-request, .htmx-swapping, .htmx-settling') && !(window.__browsertestXHR > 0)`)
	require.NoError(t, chromedp.Do(tab, settled))
	require.Equal(t, "kept", jsText(t, tab, `String(window.layoutMarker)`), "reached by a boosted navigation")
	boosted := jsText(t, tab, layoutProbe)
	require.NoError(t, chromedp.Do(tab, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(".user-menu")), settled))
	require.Equal(t, "undefined", jsText(t, tab, `String(window.layoutMarker)`), "reloaded")
	require.Equal(t, jsText(t, tab, layoutProbe), boosted)
}

// Signing in and first-run setup are boosted navigations from the auth
// layout into the shell: the desk must look as it does after a reload.
func TestBrowserLayoutAfterSignInAndSetup(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	t.Run("setup", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		tab := browsertest.Tab(t, 90*time.Second)
		require.NoError(t, chromedp.Do(tab,
			chromedp.Navigate(e.srv.URL+"/setup"),
			chromedp.WaitVisible(chromedp.CSS(`form[action="/setup"]`)),
			until(`window.htmx`),
		))
		jsText(t, tab, `window.layoutMarker = 'kept'; 'ok'`)
		require.NoError(t, chromedp.Do(tab,
			browsertest.Type("#f-name", "Ada Admin"),
			browsertest.Type("#f-email", "ada@example.com"),
			browsertest.Type("#f-password", "correct horse"),
			browsertest.Click(`form[action="/setup"] button[type="submit"]`),
			chromedp.WaitVisible(chromedp.CSS(".user-menu")),
		))
		sameAsReloaded(t, tab)
	})
	t.Run("sign-in", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		e.user("Sue", "sue@example.com", models.RoleAgent, true)
		tab := browsertest.Tab(t, 90*time.Second)
		require.NoError(t, chromedp.Do(tab,
			chromedp.Navigate(e.srv.URL+"/login"),
			chromedp.WaitVisible(chromedp.ID("f-email")),
			until(`window.htmx`),
		))
		jsText(t, tab, `window.layoutMarker = 'kept'; 'ok'`)
		require.NoError(t, chromedp.Do(tab,
			browsertest.Type("#f-email", "sue@example.com"),
			browsertest.Type("#f-password", "correct horse"),
			browsertest.Click(`form[action="/login"] button[type="submit"]`),
			chromedp.WaitVisible(chromedp.CSS(".user-menu")),
		))
		sameAsReloaded(t, tab)
	})
}
