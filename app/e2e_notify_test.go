package app

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/browsertest"
	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// fakeNotifications replaces the browser's Notification API with a
// recorder that has permission, and makes the page look unfocused (desktop
// notifications are for when the desk is not in front).
const fakeNotifications = `(() => {
	window.__notes = [];
	function FakeNotification(title, opts) { window.__notes.push({title: title, body: (opts || {}).body || ''}); }
	FakeNotification.permission = 'granted';
	FakeNotification.requestPermission = function () { return Promise.resolve('granted'); };
	FakeNotification.prototype.close = function () {};
	window.Notification = FakeNotification;
	document.hasFocus = function () { return false; };
	return true;
})()`

// TestBrowserNotificationBell is issue 5's journey for the bell: a support
// agent with the desk open sees the bell count rise, the alert, one chime
// and a desktop notification when a customer starts a conversation through
// the widget's HTTP API (the notify job runs for real); the popover lists it;
// opening it reads it; an assignment by a teammate rings again.
func TestBrowserNotificationBell(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t, envOpts{startJobs: true})
	sue := e.user("Sue Support", "sue@example.com", models.RoleAgent, true)
	bob := e.user("Bob Backup", "bob@example.com", models.RoleAgent, true)

	tab := deskTab(t, e, "sue@example.com")
	require.NoError(t, chromedp.Do(tab,
		chromedp.WaitVisible(chromedp.CSS(".inbox-empty")),
		chromedp.WaitVisible(chromedp.CSS("#nav-bell")),
	))
	require.True(t, jsBool(t, tab, `document.getElementById('nav-notif-count').hidden`), "nothing yet")
	require.True(t, jsBool(t, tab, fakeNotifications))

	visitor := e.newVisitor()
	res := visitor.post("/widget/conversations", url.Values{"body": {"My parcel never arrived"}, "name": {"Carla"}})
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	pid, _ := res.doc.Find("#w-thread-view").Attr("data-pid")

	require.NoError(t, chromedp.Do(tab,
		until(`!document.getElementById('nav-notif-count').hidden && document.getElementById('nav-notif-count').textContent === '1'`),
		chromedp.WaitVisible(chromedp.CSS(`#toasts .desk-alert`)),
		until(`window.__notes.length >= 1`),
	))
	require.Equal(t, "New conversation", jsText(t, tab, `window.__notes[0].title`))
	require.Equal(t, "Carla: My parcel never arrived", jsText(t, tab, `window.__notes[0].body`))
	// Issue 12: one broadcast row for the conversation, not a row per
	// support agent (Sue and Bob); Sue's alert came from it.
	var notifications int64
	require.NoError(t, e.db.Model(&models.Notification{}).Where("conversation_id = (SELECT id FROM conversations WHERE public_id = ?)", pid).Count(&notifications).Error)
	require.EqualValues(t, 1, notifications)
	// The desk's own new-conversation alert and the notification are one
	// alert: one chime, one desktop notification, one toast.
	chimes, err := chromedp.Run(tab, chromedp.Evaluate[int](`window.ParleyDesk.chimes`))
	require.NoError(t, err)
	require.Equal(t, 1, chimes)
	require.Equal(t, "1", jsText(t, tab, `String(window.__notes.length)`))
	require.Equal(t, "1", jsText(t, tab, `String(document.querySelectorAll('#toasts .desk-alert').length)`))

	// The bell opens its popover with the entry; the entry opens the
	// conversation, which reads it.
	require.NoError(t, chromedp.Do(tab,
		browsertest.Click("#nav-bell"),
		chromedp.WaitVisible(chromedp.CSS(`#notif-panel .notif-entry.is-unread`)),
	))
	require.Equal(t, "New conversation from Carla", jsText(t, tab, `document.querySelector('#notif-panel .notif-headline').textContent`))
	loc, err := chromedp.Run(tab, chromedp.Location())
	require.NoError(t, err)
	require.Equal(t, e.srv.URL+"/inbox", loc, "the popover, not a page")
	require.NoError(t, chromedp.Do(tab,
		browsertest.Click(`#notif-panel .notif-link`),
		chromedp.WaitVisible(chromedp.CSS(`#messages .msg-in`)),
		until(`document.getElementById('nav-notif-count').hidden`),
	))
	loc, err = chromedp.Run(tab, chromedp.Location())
	require.NoError(t, err)
	require.Equal(t, e.srv.URL+"/conversations/"+pid, loc)

	// Back on the inbox (on the conversation itself, the desk would read
	// the new notification at once), Bob assigns it to Sue: the bell rises
	// again, with a chime and a desktop notification. (A fresh page load:
	// the counters start again.)
	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate(e.srv.URL+"/inbox"),
		chromedp.WaitVisible(chromedp.CSS(`#inbox-rows .inbox-row`)),
	))
	require.True(t, jsBool(t, tab, fakeNotifications))
	require.True(t, jsBool(t, tab, `document.getElementById('nav-notif-count').hidden`))
	conv, err := models.FindConversationForUser(context.Background(), e.db, bob, pid)
	require.NoError(t, err)
	require.NoError(t, e.app.write(context.Background(), func(tx models.Tx) error {
		return models.Assign(context.Background(), tx, bob, conv, &sue.ID)
	}))
	e.app.rt.Ring()
	require.NoError(t, chromedp.Do(tab,
		until(`document.getElementById('nav-notif-count').textContent === '1' && !document.getElementById('nav-notif-count').hidden`),
		until(`window.ParleyDesk.chimes === 1 && window.__notes.length === 1`),
	))
	require.Equal(t, "Bob Backup assigned you the conversation with Carla", jsText(t, tab, `window.__notes[0].title`))
	require.Equal(t, "/conversations/"+pid, jsText(t, tab, `document.querySelector('#toasts .notif-alert').getAttribute('data-alert-url')`))
}

func jsBool(t *testing.T, tab context.Context, js string) bool {
	t.Helper()
	v, err := chromedp.Run(tab, chromedp.Evaluate[bool](js))
	require.NoError(t, err)
	return v
}

// On the notifications page, a new notification appears at the top live,
// and its check mark reads it in place (htmx, with the CSRF token).
func TestBrowserNotificationsPageLive(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t)
	sue := e.user("Sue Support", "sue@example.com", models.RoleAgent, true)
	bob := e.user("Bob Backup", "bob@example.com", models.RoleAgent, true)
	_, conv := e.customerConversation("Carla", "hello")

	tab := deskTab(t, e, "sue@example.com")
	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate(e.srv.URL+"/notifications"),
		chromedp.WaitVisible(chromedp.CSS(".notif-empty")),
	))
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error { return models.Assign(context.Background(), tx, bob, conv, &sue.ID) }))
	e.notifyLatest(models.EventConversation)
	require.NoError(t, chromedp.Do(tab,
		chromedp.WaitVisible(chromedp.CSS(`#notif-list .notif-entry.is-unread`)),
		until(`document.getElementById('nav-notif-count').textContent === '1'`),
	))
	require.Equal(t, "Bob Backup assigned you the conversation with Carla",
		jsText(t, tab, `document.querySelector('#notif-list .notif-headline').textContent`))
	require.NoError(t, chromedp.Do(tab, chromedp.WaitNotVisible(chromedp.CSS(".notif-empty"))))

	require.NoError(t, chromedp.Do(tab,
		browsertest.Click(`#notif-list .notif-read button`),
		chromedp.WaitNotPresent(chromedp.CSS(`#notif-list .notif-entry.is-unread`)),
		until(`document.getElementById('nav-notif-count').hidden`),
	))
	require.Equal(t, "1", jsText(t, tab, `String(document.querySelectorAll('#notif-list .notif-entry').length)`))
	require.Zero(t, unreadNotifications(t, e, sue))
}
