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

// openWidget opens the widget on a host site and returns the query option
// that runs inside its frame.
func openWidget(t *testing.T, e *testEnv, tab context.Context) chromedp.QueryOption {
	t.Helper()
	host := hostSite(t, e.srv.URL)
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error {
		return models.UpdateSettings(context.Background(), tx, models.SettingsInput{
			DeskName: "Acme Support", BrandColor: "#2563eb", AllowedOrigins: host.URL, DemoEnabled: true})
	}))
	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate(host.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(".parley-launcher")),
		browsertest.Click(".parley-launcher"),
		chromedp.WaitVisible(chromedp.CSS(".parley-root.parley-open .parley-frame")),
	))
	in := frameNode(t, tab)
	require.NoError(t, chromedp.Do(tab, chromedp.WaitVisible(chromedp.ID("w-start-body"), in)))
	return in
}

// TestBrowserWidgetKeepsTextThroughOutage: a message sent while the
// database is down is not lost: the composer keeps it, says it is retrying,
// and delivers it (once) when the database is back, without the visitor
// doing anything.
func TestBrowserWidgetKeepsTextThroughOutage(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t)
	tab := browsertest.Tab(t, 90*time.Second)
	defer keepScreenshot(t, tab)
	in := openWidget(t, e, tab)
	require.NoError(t, chromedp.Do(tab,
		browsertest.Type("#w-start-body", "My parcel never arrived", inWidget),
		pressEnter,
		chromedp.WaitVisible(chromedp.CSS("#w-thread .w-msg-mine"), in),
		chromedp.WaitVisible(chromedp.ID("w-body"), in),
	))
	pid, err := chromedp.Run(tab, chromedp.AttributeValue(chromedp.ID("w-thread-view"), "data-pid", in))
	require.NoError(t, err)

	restore := e.outage()
	const text = "Sent while the database was down"
	require.NoError(t, chromedp.Do(tab,
		browsertest.Type("#w-body", text, inWidget),
		pressEnter,
	))
	waitText(t, tab, "#w-composer .w-retry", "Not sent yet: retrying", in)
	value, err := chromedp.Run(tab, chromedp.Value(chromedp.ID("w-body"), in))
	require.NoError(t, err)
	assert.Equal(t, text, value, "the typed text is kept")
	assert.Zero(t, e.countMessagesNoFail(pid.Value, text))

	restore()
	// The retry delivers it; the thread shows it and the composer is fresh.
	waitText(t, tab, "#w-thread", text, in)
	require.NoError(t, chromedp.Do(tab, chromedp.WaitNotPresent(chromedp.CSS("#w-composer .w-retry"), in)))
	value, err = chromedp.Run(tab, chromedp.Value(chromedp.ID("w-body"), in))
	require.NoError(t, err)
	assert.Empty(t, value)
	assert.EqualValues(t, 1, e.countMessages(pid.Value, text), "stored once")
}

// countMessagesNoFail is countMessages for a moment when the database may
// be unreachable: -1 then.
func (e *testEnv) countMessagesNoFail(pid, body string) int64 {
	var n int64
	err := e.db.Raw(`SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id
		WHERE c.public_id = ? AND m.body = ?`, pid, body).Scan(&n).Error
	if err != nil {
		return 0
	}
	return n
}

// TestBrowserWidgetAwayNeedsEmail: with the desk away, the start form asks
// for an email, says why, refuses to start without one (the reason beside
// the field, the message kept) and starts with it.
func TestBrowserWidgetAwayNeedsEmail(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t)
	ada := e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error { return models.SetOnline(context.Background(), tx, ada.ID, false) }))
	tab := browsertest.Tab(t, 90*time.Second)
	defer keepScreenshot(t, tab)
	in := openWidget(t, e, tab)

	waitText(t, tab, "#w-start", "We're away: leave your email so our answer reaches you.", in)
	attrs, err := chromedp.Run(tab, chromedp.Attributes(chromedp.ID("w-f-email"), in))
	require.NoError(t, err)
	_, isRequired := attrs["required"]
	assert.True(t, isRequired)
	assert.Equal(t, "true", attrs["aria-required"])

	require.NoError(t, chromedp.Do(tab,
		browsertest.Type("#w-start-body", "Where is my parcel?", inWidget),
		pressEnter,
	))
	waitText(t, tab, "#w-e-email", "enter your email so our answer can reach you", in)
	value, err := chromedp.Run(tab, chromedp.Value(chromedp.ID("w-start-body"), in))
	require.NoError(t, err)
	assert.Equal(t, "Where is my parcel?", value)
	var convs int64
	require.NoError(t, e.db.Raw("SELECT count(*) FROM conversations").Scan(&convs).Error)
	assert.Zero(t, convs)

	require.NoError(t, chromedp.Do(tab,
		browsertest.Type("#w-f-email", "zoe@client.test", inWidget),
		browsertest.Click("#w-start button[type=submit]", inWidget),
		chromedp.WaitVisible(chromedp.CSS("#w-thread .w-msg-mine"), in),
	))
	waitText(t, tab, "#w-thread", "Where is my parcel?", in)
	var email string
	require.NoError(t, e.db.Raw("SELECT email FROM customers WHERE email <> ''").Scan(&email).Error)
	assert.Equal(t, "zoe@client.test", email)
}

// TestBrowserDeskComposerKeepsTextThroughOutage: an agent's reply that
// cannot be sent (the database is down) stays in the composer, with the
// translated reason, and keeps its idempotency key for the resend; once the
// database is back, sending again delivers it once.
func TestBrowserDeskComposerKeepsTextThroughOutage(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t)
	e.user("Sue Support", "sue@example.com", models.RoleAgent, true)
	_, conv := e.customerConversation("Carla Customer", "Where is my order?")
	tab := deskTab(t, e, "sue@example.com")
	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate(e.srv.URL+"/conversations/"+conv.PublicID),
		chromedp.WaitVisible(chromedp.CSS(`#messages .msg-in`)),
		chromedp.WaitVisible(chromedp.ID("f-body")),
	))

	restore := e.outage()
	const text = "It ships today."
	require.NoError(t, chromedp.Do(tab,
		browsertest.Type("#f-body", text),
		pressEnter,
	))
	waitText(t, tab, "#toasts", "cannot reach its database")
	require.NoError(t, chromedp.Do(tab, until(`!document.querySelector('#composer.htmx-request')`)))
	assert.Equal(t, text, jsText(t, tab, `document.getElementById('f-body').value`), "the reply is kept")
	key := jsText(t, tab, `document.getElementById('composer').parleyKey || ''`)
	require.NotEmpty(t, key)
	// Sending again while still down: the same message, the same key.
	require.NoError(t, chromedp.Do(tab,
		chromedp.Evaluate[chromedp.Void](`document.getElementById('composer').requestSubmit()`),
		until(`!document.querySelector('#composer.htmx-request')`),
	))
	assert.Equal(t, key, jsText(t, tab, `document.getElementById('composer').parleyKey || ''`))
	assert.Equal(t, text, jsText(t, tab, `document.getElementById('f-body').value`))

	restore()
	require.NoError(t, chromedp.Do(tab,
		chromedp.Evaluate[chromedp.Void](`document.getElementById('composer').requestSubmit()`),
		chromedp.WaitVisible(chromedp.CSS(`#messages .msg-out`)),
		until(`document.getElementById('f-body').value === ''`),
	))
	assert.EqualValues(t, 1, e.countMessages(conv.PublicID, text), "stored once")
}
