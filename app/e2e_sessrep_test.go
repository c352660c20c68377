package app

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/browsertest"
	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// TestBrowserSessionReport: an agent creates a support session, the
// customer joins with the key and writes; the agent's desk chimes when the
// customer arrives (the alert toast desk.js announces) and shows the first
// message. It logs the time from "Create session" to that message in the
// desk, in segments. Then the session report lists the session with its
// channel, agent and duration, and its chat log is one click away.
func TestBrowserSessionReport(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t)
	ann := e.user("Ann Agent", "ann@example.com", models.RoleAgent, true)
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error {
		return models.SetReportAccess(context.Background(), tx, ann.ID, true)
	}))

	desk := deskTab(t, e, "ann@example.com")
	require.NoError(t, chromedp.Do(desk,
		chromedp.Navigate(e.srv.URL+"/sessions/new"),
		chromedp.WaitVisible(chromedp.ID("create-session")),
	))
	start := time.Now()
	require.NoError(t, chromedp.Do(desk, browsertest.Click("#create-session")))
	key, err := chromedp.Run(desk, browsertest.Attr("#support-key", "data-key"))
	require.NoError(t, err)
	keyShown := time.Since(start)
	pid := jsText(t, desk, `location.pathname.split('/').pop()`)
	chimes := jsText(t, desk, `String(window.ParleyDesk.chimes)`)

	cust := browserTabFor(t)
	require.NoError(t, chromedp.Do(cust,
		chromedp.Navigate(e.srv.URL+"/support"),
		browsertest.Type("#f-key", key),
		browsertest.Click("#join-session"),
		chromedp.WaitVisible(chromedp.CSS("#w-thread-view")),
	))
	joined := time.Since(start)
	// The agent hears the customer arrive: one alert, one chime.
	require.NoError(t, chromedp.Do(desk,
		until(`document.querySelector('#toasts .session-joined-alert') !== null`),
		until(`window.ParleyDesk.chimes === `+chimes+` + 1`),
	))
	heard := time.Since(start)
	require.NoError(t, chromedp.Do(cust, browsertest.Type("#w-body", "The screen says E42")))
	sent := time.Now()
	require.NoError(t, chromedp.Do(cust, pressEnter))
	waitText(t, desk, "#messages", "The screen says E42")
	took := time.Since(start)
	t.Logf("support session timing: key shown %s, customer in the chat %s, desk chimed %s, first message in the desk %s after Create session (%s from the customer's Enter to the desk; browser automation included)",
		keyShown.Round(time.Millisecond), joined.Round(time.Millisecond), heard.Round(time.Millisecond),
		took.Round(time.Millisecond), time.Since(sent).Round(time.Millisecond))
	require.NoError(t, chromedp.Do(desk, browsertest.Click("#end-session"),
		until(`document.querySelector('#support-session[data-state="ended"]') !== null`)))

	// The report lists it; its chat log is a click away.
	require.NoError(t, chromedp.Do(desk,
		browsertest.Click("#nav-session-report"),
		chromedp.WaitVisible(chromedp.ID("session-"+pid)),
	))
	row := waitText(t, desk, "#session-"+pid, key)
	require.Contains(t, row, "Support key")
	require.Contains(t, row, "Ann Agent")
	require.NoError(t, chromedp.Do(desk, until(`/\d+ (s|min)/.test(document.querySelector('#session-`+pid+` .report-duration').textContent)`)))
	require.NoError(t, chromedp.Do(desk, until(`document.querySelectorAll('#report-chart .bar-fill').length === 1`)))
	require.NoError(t, chromedp.Do(desk, browsertest.Click("#session-"+pid+" .report-chat-log")))
	waitText(t, desk, "body", "The screen says E42")
}
