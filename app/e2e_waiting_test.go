package app

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/browsertest"
	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// A customer writes: the inbox row and the agent's tab turn green, amber,
// then red as the page's clock moves on (the test moves it: thresholds 2
// and 5 minutes), with the wait in words; the agent switches tabs with a
// click, replies, and the colour goes live; Alt+2 opens the second tab.
func TestBrowserWaitingColours(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	ana := e.user("Ana Agent", "ana@example.com", models.RoleAgent, true)
	cust, lou := e.customerConversation("Lou", "Hello")
	_, mel := e.customerConversation("Mel", "Hi there")
	for _, c := range []*models.Conversation{lou, mel} {
		require.NoError(t, factory.Write(e.db, func(tx models.Tx) error { return models.Assign(ctx, tx, ana, c, &ana.ID) }))
		_, err := factory.Write1(e.db, func(tx models.Tx) (*models.Message, error) {
			return models.PostMessage(ctx, tx, models.Actor{User: ana}, c, models.MessageText, "How can I help?")
		})
		require.NoError(t, err)
	}

	tab := deskTab(t, e, "ana@example.com")
	row, tabA := "#row-"+lou.PublicID, "#tab-"+lou.PublicID
	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate(e.srv.URL+"/conversations/"+mel.PublicID+"?list=customers"),
		chromedp.WaitVisible(chromedp.CSS(tabA)),
		until(`document.getElementById('desk-stream').getAttribute('sse-connect') && !document.querySelector('`+row+`[data-waiting-since]')`),
	))

	// The customer writes.
	_, err := factory.Write1(e.db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{Customer: cust}, lou, models.MessageText, "Where is my parcel?")
	})
	require.NoError(t, err)
	e.app.rt.Ring()
	waitLevel := func(level string) {
		t.Helper()
		js := `['` + row + `', '` + tabA + `'].every(function (s) { var el = document.querySelector(s); return el && el.classList.contains('wait-` + level + `') && document.querySelectorAll(s + '[class*="wait-"]').length === 1 && el.className.split('wait-').length === 2; })`
		require.NoError(t, chromedp.Do(tab, until(js)), level)
	}
	waitLevel("green")
	require.Contains(t, jsText(t, tab, `document.querySelector('`+tabA+` .tab-wait').textContent`), "Waiting")

	// Time passes (the desk's clock, moved by the test).
	advance := func(ms string) {
		t.Helper()
		_, err := chromedp.Run(tab, chromedp.Evaluate[bool](`window.ParleyDesk.clockOffset = `+ms+`; window.ParleyDesk.tick(); true`))
		require.NoError(t, err)
	}
	advance("150000") // 2.5 min
	waitLevel("amber")
	require.Contains(t, jsText(t, tab, `document.querySelector('`+tabA+` .tab-wait time').textContent`), "2")
	advance("330000") // 5.5 min
	waitLevel("red")
	require.Contains(t, jsText(t, tab, `document.querySelector('`+row+` .row-waiting time').textContent`), "5")

	// A click on the tab opens Lou's conversation, still red; the reply
	// clears the wait live in the row and the tab.
	require.NoError(t, chromedp.Do(tab,
		browsertest.Click(tabA),
		until(`document.getElementById('conv').getAttribute('data-conversation') === '`+lou.PublicID+`'`),
	))
	waitLevel("red")
	require.NoError(t, chromedp.Do(tab,
		browsertest.Type("#f-body", "It ships today.\r"),
		until(`!document.querySelector('`+row+`[data-waiting-since]') && !document.querySelector('`+row+` .row-waiting')`),
		until(`document.querySelector('`+tabA+`') && !document.querySelector('`+tabA+`[class*="wait-"]') && !document.querySelector('`+tabA+` .tab-wait')`),
	))

	// Alt+2: the second tab (Mel's), announced as its shortcut.
	require.Equal(t, "Alt+2", jsText(t, tab, `document.getElementById('tab-`+mel.PublicID+`').getAttribute('aria-keyshortcuts')`))
	require.NoError(t, chromedp.Do(tab,
		chromedp.KeyEvent("2", chromedp.KeyModifiers(chromedp.ModifierAlt)),
		until(`document.getElementById('conv').getAttribute('data-conversation') === '`+mel.PublicID+`'`),
	))
}
