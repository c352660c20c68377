package app

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/browsertest"
	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// The host page pays only for the loader: the launcher shows (in the brand
// colour, with its label) but the chat's iframe is created when the visitor
// first opens it. A returning visitor with a conversation running gets the
// frame at once, so an agent's reply raises the unread badge before any
// click.
func TestBrowserWidgetFrameOnlyOnOpen(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	host := hostSite(t, e.srv.URL)
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error {
		return models.UpdateSettings(ctx, tx, models.SettingsInput{
			DeskName: "Acme Support", BrandColor: "#be123c", AllowedOrigins: host.URL})
	}))
	agent := e.user("Alex Agent", "alex@example.com", models.RoleAgent, true)
	tab := browsertest.Tab(t, 90*time.Second)
	defer keepScreenshot(t, tab)
	frames := func() int {
		n, err := chromedp.Run(tab, chromedp.Evaluate[int](`document.querySelectorAll('iframe').length`))
		require.NoError(t, err)
		return n
	}
	frameRequests := func() int {
		n, err := chromedp.Run(tab, chromedp.Evaluate[int](`performance.getEntriesByType('resource').filter(function (r) { return r.name.indexOf('/widget/frame') >= 0; }).length`))
		require.NoError(t, err)
		return n
	}

	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate(host.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(".parley-launcher")),
		browsertest.WaitFor(`getComputedStyle(document.querySelector('.parley-launcher')).backgroundColor === 'rgb(190, 18, 60)'`),
	))
	label, err := chromedp.Run(tab, chromedp.AttributeValue(chromedp.CSS(".parley-launcher"), "aria-label"))
	require.NoError(t, err)
	assert.Equal(t, "Chat with Acme Support", label.Value, "the label comes with the loader")
	time.Sleep(300 * time.Millisecond) // anything the loader would do on its own, done
	assert.Zero(t, frames(), "no iframe before the launcher is opened")
	assert.Zero(t, frameRequests(), "the frame was never requested")

	require.NoError(t, chromedp.Do(tab,
		browsertest.Click(".parley-launcher"),
		chromedp.WaitVisible(chromedp.CSS(".parley-root.parley-open .parley-frame")),
		browsertest.Type("#w-start-body", "Where is my order?", inWidget),
		pressEnter,
	))
	in := frameNode(t, tab)
	waitText(t, tab, "#w-thread", "Where is my order?", in)
	require.NoError(t, chromedp.Do(tab, browsertest.WaitFor(`localStorage.getItem('parley.active:`+e.srv.URL+`') === '1'`)))

	// Back later, panel closed: the frame is there at once, and a reply
	// raises the badge.
	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate(host.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(".parley-launcher")),
		chromedp.WaitReady(chromedp.CSS("iframe.parley-frame")),
	))
	rows, err := models.ListInbox(ctx, e.db, models.InboxQuery{Viewer: agent, Section: models.SectionCustomers, Status: models.StatusOpen, Filter: models.FilterAll})
	require.NoError(t, err)
	require.Len(t, rows, 1)
	conv, err := models.FindConversationForUser(ctx, e.db, agent, rows[0].PublicID)
	require.NoError(t, err)
	// The frame's stream is open once its home view has loaded.
	for i := 0; i < 200 && e.app.rt.Subscribers() < 1; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	_, err = factory.Write1(e.db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{User: agent}, conv, models.MessageText, "It left the warehouse today.")
	})
	require.NoError(t, err)
	e.app.rt.Ring()
	require.NoError(t, chromedp.Do(tab, chromedp.WaitVisible(chromedp.CSS(".parley-badge"))))
	badge, err := chromedp.Run(tab, browsertest.Text(".parley-badge"))
	require.NoError(t, err)
	assert.Equal(t, "1", badge)
	assert.Equal(t, 1, frames())

	// Once the conversation is closed and seen so, the next page is back
	// to the loader alone. It is seen so either by the open frame's stream
	// (the closing may reach it before the page is left) or by the home
	// view of the frame the next page then creates at once.
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error { return models.SetStatus(ctx, tx, agent, conv, models.StatusClosed) }))
	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate(host.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(".parley-launcher")),
		browsertest.WaitFor(`localStorage.getItem('parley.active:`+e.srv.URL+`') === null`),
		chromedp.Navigate(host.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(".parley-launcher")),
	))
	time.Sleep(300 * time.Millisecond)
	assert.Zero(t, frames(), "no conversation running: no frame until opened")
}
