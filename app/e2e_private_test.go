package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/browsertest"
	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// inBackground makes a desk tab look like one in the background (hidden),
// as an agent's desk is while they work elsewhere: nothing arriving there is
// marked read, so they are notified of it.
const inBackground = `(() => {
	Object.defineProperty(document, 'visibilityState', {get: () => 'hidden', configurable: true});
	document.hasFocus = function () { return false; };
	return true;
})()`

// TestBrowserPrivateMessage is issue 15's journey for a private message to a
// teammate: Ana, in a customer conversation with Bob and Cat, picks "To…",
// ticks Bob and writes; Bob (his desk in the background) sees it arrive live
// marked "Private to Bob", and the bell tells him; Cat, watching the same
// conversation, never sees it, nor does the customer's widget, though both
// get the public reply sent after it.
func TestBrowserPrivateMessage(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t, envOpts{startJobs: true})
	ctx := context.Background()
	host := hostSite(t, e.srv.URL)
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error {
		return models.UpdateSettings(ctx, tx, models.SettingsInput{DeskName: "Acme Support", BrandColor: "#0f766e", AllowedOrigins: host.URL})
	}))
	ana := e.user("Ana", "ana@example.com", models.RoleAgent, true)
	bob := e.user("Bob", "bob@example.com", models.RoleAgent, true)
	cat := e.user("Cat", "cat@example.com", models.RoleAgent, true)
	const secret = "Psst Bob: the refund is approved"

	// The customer writes from the widget on their site.
	w := browsertest.Tab(t, 150*time.Second)
	defer keepScreenshot(t, w)
	require.NoError(t, chromedp.Do(w,
		chromedp.Navigate(host.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(".parley-launcher")),
		browsertest.Click(".parley-launcher"),
		chromedp.WaitVisible(chromedp.CSS(".parley-root.parley-open .parley-frame")),
	))
	in := frameNode(t, w)
	require.NoError(t, chromedp.Do(w,
		chromedp.WaitVisible(chromedp.ID("w-start-body"), in),
		browsertest.Type("#w-start-body", "Where is my refund?", inWidget),
		pressEnter,
		chromedp.WaitVisible(chromedp.CSS("#w-thread .w-msg-mine"), in),
	))
	rows, err := models.ListInbox(ctx, e.db, models.InboxQuery{Viewer: ana, Section: models.SectionCustomers, Status: models.StatusOpen, Filter: models.FilterAll})
	require.NoError(t, err)
	require.Len(t, rows, 1)
	conv, err := models.FindConversationForUser(ctx, e.db, ana, rows[0].PublicID)
	require.NoError(t, err)

	// Ana is assigned, Bob answered, Cat follows: all three are in it.
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error { return models.Assign(ctx, tx, ana, conv, &ana.ID) }))
	_, err = factory.Write1(e.db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{User: bob}, conv, models.MessageText, "Bob here, checking.")
	})
	require.NoError(t, err)
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error { return models.SetFollowing(ctx, tx, cat, conv, true) }))
	e.app.rt.Ring()
	waitText(t, w, "#w-thread", "Bob here, checking.", in)
	e.waitJobs("notify") // the new-conversation bell, read when each opens it

	open := func(email string) context.Context {
		tab := deskTabFor(t, e, email, 150*time.Second)
		require.NoError(t, chromedp.Do(tab,
			chromedp.Navigate(e.srv.URL+"/conversations/"+conv.PublicID),
			chromedp.WaitVisible(chromedp.CSS("#composer")),
		))
		return tab
	}
	tabA, tabB, tabC := open("ana@example.com"), open("bob@example.com"), open("cat@example.com")
	require.True(t, jsBool(t, tabB, inBackground))
	require.NoError(t, chromedp.Do(tabB, until(`document.getElementById('nav-notif-count').hidden`)))

	// Ana: To… → Bob, and send.
	require.NoError(t, chromedp.Do(tabA,
		browsertest.Click(`#composer input[name=kind][value=private]`),
		chromedp.WaitVisible(chromedp.CSS(`#composer-to`)),
	))
	offered := jsText(t, tabA, `Array.from(document.querySelectorAll('#composer-to .composer-to-option')).map(l => l.textContent.trim()).join(',')`)
	require.Equal(t, "Bob,Cat", offered, "the teammates in the conversation, not Ana herself")
	require.NoError(t, chromedp.Do(tabA,
		browsertest.Click(`#composer-to input[value="`+idStr(bob.ID)+`"]`),
		browsertest.Type("#f-body", secret),
		browsertest.Click(`#composer button[type=submit]`),
		until(`document.querySelector('#f-body').value === ''`),
		chromedp.WaitVisible(chromedp.CSS(`#messages article.msg-private`)),
	))
	require.Equal(t, "Private to Bob", jsText(t, tabA, `document.querySelector('#messages article.msg-private [data-private-to]').textContent.trim()`))
	require.True(t, jsBool(t, tabA, `document.querySelector('#composer input[name=kind][value=private]').checked`), "the mode stays")

	// Bob sees it live, marked; the bell tells him (the notify job, made due).
	require.NoError(t, chromedp.Do(tabB, chromedp.WaitVisible(chromedp.CSS(`#messages article.msg-private`))))
	require.Equal(t, "Private to Bob", jsText(t, tabB, `document.querySelector('#messages article.msg-private [data-private-to]').textContent.trim()`))
	require.Contains(t, jsText(t, tabB, `document.querySelector('#messages article.msg-private .msg-body').textContent`), secret)
	e.makeDue("notify")
	require.NoError(t, chromedp.Do(tabB,
		until(`!document.getElementById('nav-notif-count').hidden && document.getElementById('nav-notif-count').textContent === '1'`),
		browsertest.Click("#nav-bell"),
		chromedp.WaitVisible(chromedp.CSS(`#notif-panel .notif-entry.is-unread`)),
	))
	require.Contains(t, jsText(t, tabB, `document.querySelector('#notif-panel .notif-headline').textContent`), "Ana wrote to you privately")

	// Ana replies to the customer: Cat and the widget get that, and never
	// the private message.
	require.NoError(t, chromedp.Do(tabA,
		browsertest.Click(`#composer input[name=kind][value=message]`),
		browsertest.Type("#f-body", "We are on it!"),
		browsertest.Click(`#composer button[type=submit]`),
		until(`document.querySelector('#f-body').value === ''`),
	))
	require.NoError(t, chromedp.Do(tabC, until(`document.querySelector('#messages').textContent.includes('We are on it!')`)))
	require.Equal(t, "0", jsText(t, tabC, `String(document.querySelectorAll('.msg-private').length)`))
	require.False(t, strings.Contains(jsText(t, tabC, `document.body.textContent`), secret), "Cat never sees it")
	waitText(t, w, "#w-thread", "We are on it!", in)
	thread, err := chromedp.Run(w, browsertest.Text("#w-thread", inWidget))
	require.NoError(t, err)
	require.NotContains(t, thread, secret, "the customer never sees it")
	require.NotContains(t, thread, "Private to")

	// Cat is not told of it either.
	var private int64
	require.NoError(t, e.db.Raw(`SELECT count(*) FROM notifications WHERE user_id = ? AND data->>'private' = 'true'`, cat.ID).Scan(&private).Error)
	require.Zero(t, private)
}
