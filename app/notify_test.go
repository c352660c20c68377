package app

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/internal/wait"
	"github.com/parleydesk/parley/jobs"
	"github.com/parleydesk/parley/models"
)

// eventually polls cond (a bounded wait, not a timed assertion).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	wait.For(t, 15*time.Second, cond, "waiting for %s", what)
}

func unreadNotifications(t *testing.T, e *testEnv, u *models.User) int {
	t.Helper()
	n, err := models.CountUnreadNotifications(context.Background(), e.db, u)
	require.NoError(t, err)
	return n
}

// notifyLatest runs what the notify job runs for the newest event of kind
// (for tests without running jobs) and rings the doorbell.
func (e *testEnv) notifyLatest(kind string) {
	e.t.Helper()
	ctx := context.Background()
	var ev models.Event
	require.NoError(e.t, e.db.Where("kind = ?", kind).Order("id DESC").Take(&ev).Error)
	a, err := models.AudienceOf(ctx, e.db, ev)
	require.NoError(e.t, err)
	_, err = factory.Write1(e.db, func(tx models.Tx) (int, error) { return models.Notify(ctx, tx, ev, a) })
	require.NoError(e.t, err)
	e.app.rt.Ring()
}

// A customer starting a conversation from the widget makes a notification
// for each support agent through the notify job (inserted with the
// conversation); the bell shows it, escaped; it can be read one by one or
// all at once, only by its owner, with the CSRF token.
func TestNotificationsBellPageAndReading(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{startJobs: true})
	ann := e.user("Ann", "ann@example.com", models.RoleAgent, true)
	bob := e.user("Bob", "bob@example.com", models.RoleAgent, true)
	e.user("Cat", "cat@example.com", models.RoleAgent, false)

	visitor := e.newVisitor()
	res := visitor.post("/widget/conversations", url.Values{
		"body": {`<img src=x onerror=alert(1)> where is my order`}, "name": {`<b>Eve</b>`}})
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	pid, _ := res.doc.Find("#w-thread-view").Attr("data-pid")
	eventually(t, "the notify job", func() bool { return unreadNotifications(t, e, ann) == 1 && unreadNotifications(t, e, bob) == 1 })

	b := e.browser()
	b.login("ann@example.com")
	page := b.get("/inbox")
	require.Equal(t, "1", page.text("#nav-notif-count"))
	href, _ := page.doc.Find("#nav-bell").Attr("href")
	require.Equal(t, "/notifications", href, "the bell works without JavaScript")

	page = b.get("/notifications")
	require.Equal(t, http.StatusOK, page.StatusCode)
	entries := page.doc.Find("#notif-list .notif-entry")
	require.Equal(t, 1, entries.Length())
	require.True(t, entries.HasClass("is-unread"))
	assert.Equal(t, "New conversation from <b>Eve</b>", strings.TrimSpace(entries.Find(".notif-headline").Text()))
	assert.Equal(t, "<img src=x onerror=alert(1)> where is my order", strings.TrimSpace(entries.Find(".notif-preview").Text()))
	assert.NotContains(t, page.body, "<b>Eve</b>")
	assert.NotContains(t, page.body, "<img src=x")
	link, _ := entries.Find("a.notif-link").Attr("href")
	assert.Equal(t, "/conversations/"+pid, link)
	annID, _ := entries.Attr("id")
	annID = strings.TrimPrefix(annID, "notif-")

	// The popover (htmx) lists the same entry.
	panel := b.get("/notifications/panel", "HX-Request", "true")
	require.Equal(t, http.StatusOK, panel.StatusCode)
	assert.Equal(t, 1, panel.doc.Find(".notif-entry.is-unread").Length())
	assert.Zero(t, panel.doc.Find(".sidebar").Length(), "a fragment, not a page")

	// Bob can neither see nor read Ann's notification.
	bb := e.browser()
	bb.login("bob@example.com")
	res = bb.post("/notifications/"+annID+"/read", nil)
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
	bobPage := bb.get("/notifications")
	assert.Zero(t, bobPage.doc.Find("#notif-"+annID).Length())
	assert.Equal(t, 1, bobPage.doc.Find(".notif-entry.is-unread").Length(), "his own")
	// Cat (no customer-support flag) was not told.
	cb := e.browser()
	cb.login("cat@example.com")
	assert.Zero(t, cb.get("/notifications").doc.Find(".notif-entry").Length())

	// Without the CSRF token nothing changes.
	res = b.post("/notifications/"+annID+"/read", url.Values{"_csrf": {"forged"}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	res = b.post("/notifications/read-all", url.Values{"_csrf": {"forged"}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	require.Equal(t, 1, unreadNotifications(t, e, ann))

	// Mark one read (htmx): the entry comes back read.
	res = b.post("/notifications/"+annID+"/read", nil, "HX-Request", "true")
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	assert.Equal(t, 1, res.doc.Find("#notif-"+annID).Length())
	assert.False(t, res.doc.Find("#notif-"+annID).HasClass("is-unread"))
	assert.Zero(t, unreadNotifications(t, e, ann))
	assert.Equal(t, 1, unreadNotifications(t, e, bob), "Bob's is his own")
	assert.True(t, b.get("/inbox").doc.Find("#nav-notif-count").Is("[hidden]"))

	// Mark all read (a plain form): back to the page, with a toast.
	res = bb.post("/notifications/read-all", nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Zero(t, unreadNotifications(t, e, bob))
	assert.Zero(t, bb.get("/notifications").doc.Find(".notif-entry.is-unread").Length())

	// Unknown ids are 404s.
	assert.Equal(t, http.StatusNotFound, b.post("/notifications/999999/read", nil).StatusCode)
	assert.Equal(t, http.StatusNotFound, b.post("/notifications/abc/read", nil).StatusCode)
}

// Opening a conversation reads its notifications (as the desk reads its
// messages): the bell counts only what is still news.
func TestOpeningAConversationReadsItsNotifications(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ann := e.user("Ann", "ann@example.com", models.RoleAgent, true)
	bob := e.user("Bob", "bob@example.com", models.RoleAgent, true)
	_, conv := e.customerConversation("Carla", "hello")
	e.notifyLatest(models.EventConversation)
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error { return models.Assign(context.Background(), tx, bob, conv, &ann.ID) }))
	e.notifyLatest(models.EventConversation)
	require.Equal(t, 2, unreadNotifications(t, e, ann))

	b := e.browser()
	b.login("ann@example.com")
	require.Equal(t, "2", b.get("/notifications").text("#nav-notif-count"))
	page := b.get("/conversations/" + conv.PublicID)
	require.Equal(t, http.StatusOK, page.StatusCode)
	assert.Zero(t, unreadNotifications(t, e, ann))
	assert.Equal(t, 1, unreadNotifications(t, e, bob), "Bob did not open it")
}

// A notification event reaches only its recipient's stream: the count and
// the alert for Ann never show up in Bob's desk, and the other way round.
func TestNotificationReachesOnlyItsUsersStream(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ann := e.user("Ann", "ann@example.com", models.RoleAgent, true)
	bob := e.user("Bob", "bob@example.com", models.RoleAgent, true)
	ctx := context.Background()
	cust1, conv1 := e.customerConversation("Carla", "first question")
	_, conv2 := e.customerConversation("Dan", "second question")

	ab, bb := e.browser(), e.browser()
	ab.login("ann@example.com")
	bb.login("bob@example.com")
	annStream := ab.streamFor(ab.get("/notifications"))
	bobStream := bb.streamFor(bb.get("/inbox"))

	// Bob assigns the first conversation to Ann: only Ann is told.
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error { return models.Assign(ctx, tx, bob, conv1, &ann.ID) }))
	e.notifyLatest(models.EventConversation)
	_, doc := annStream.waitFor("Ann's alert", func(_ sseEvent, d *goquery.Document) bool { return d.Find(".notif-alert").Length() > 0 })
	alert := doc.Find(".notif-alert")
	assert.Contains(t, alert.Text(), "Bob assigned you the conversation with Carla")
	assert.Equal(t, "1", doc.Find("#nav-notif-count").Text(), "the count comes with it")
	entry := doc.Find(`[hx-swap-oob="afterbegin:#notif-list"] .notif-entry`)
	annAlertID, _ := alert.Attr("id")
	require.NotEmpty(t, annAlertID)
	url, _ := alert.Attr("data-alert-url")
	assert.Equal(t, "/conversations/"+conv1.PublicID, url)
	assert.Equal(t, 1, entry.Length())

	// Ann assigns the second to Bob: only Bob is told.
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error { return models.Assign(ctx, tx, ann, conv2, &bob.ID) }))
	e.notifyLatest(models.EventConversation)
	_, bobDoc := bobStream.waitFor("Bob's alert", func(_ sseEvent, d *goquery.Document) bool { return d.Find(".notif-alert").Length() > 0 })
	bobAlert := bobDoc.Find(".notif-alert")
	assert.Contains(t, bobAlert.Text(), "Ann assigned you the conversation with Dan")
	bobAlertID, _ := bobAlert.Attr("id")
	assert.Equal(t, "1", bobDoc.Find("#nav-notif-count").Text())

	assert.NotContains(t, bobStream.everything(), annAlertID)
	assert.NotContains(t, bobStream.everything(), "assigned you the conversation with Carla")
	assert.NotContains(t, bobStream.everything(), "notif-list", "Bob is not on the notifications page")
	// The customer writes in Ann's conversation: her stream gets that, and
	// never had Bob's.
	e.customerSays(cust1, conv1, "any news?")
	e.notifyLatest(models.EventMessage)
	_, doc = annStream.waitFor("Ann's message alert", func(_ sseEvent, d *goquery.Document) bool {
		return strings.Contains(d.Find(".notif-alert").Text(), "Carla wrote")
	})
	assert.Equal(t, "2", doc.Find("#nav-notif-count").Text())
	first, _ := doc.Find(`[hx-swap-oob="afterbegin:#notif-list"] .notif-entry`).Attr("id")
	require.NotEmpty(t, first)
	assert.NotContains(t, annStream.everything(), bobAlertID)
	assert.NotContains(t, annStream.everything(), "with Dan")

	// Another message: the entry is replaced by one counting both, on top.
	e.customerSays(cust1, conv1, "hello??")
	e.notifyLatest(models.EventMessage)
	_, doc = annStream.waitFor("the grouped entry", func(_ sseEvent, d *goquery.Document) bool {
		return d.Find(`[hx-swap-oob="delete"]`).Length() > 0
	})
	gone, _ := doc.Find(`[hx-swap-oob="delete"]`).Attr("id")
	assert.Equal(t, first, gone)
	entry = doc.Find(`[hx-swap-oob="afterbegin:#notif-list"] .notif-entry`)
	assert.Contains(t, entry.Find(".notif-count").Text(), "2 new messages")
	assert.Equal(t, "hello??", strings.TrimSpace(entry.Find(".notif-preview").Text()))
	assert.Equal(t, "2", doc.Find("#nav-notif-count").Text(), "still two: one replaced the other")
}

// Auto-close, with the setting made on the admin page: an idle conversation
// is closed by the periodic job's worker with a line the customer sees, and
// the customer's next message reopens it.
func TestAutoCloseSettingAndJob(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{startJobs: true})
	ada := e.user("Ada Admin", "ada@example.com", models.RoleAdmin, true)
	b := e.browser()
	b.login("ada@example.com")

	// Off by default; bad values are a 422 beside the field.
	page := b.get("/admin/conversations")
	require.Equal(t, http.StatusOK, page.StatusCode)
	assert.Equal(t, "", page.doc.Find("#f-auto_close_amount").AttrOr("value", "x"))
	for _, bad := range []url.Values{
		{"auto_close_amount": {"0"}, "auto_close_unit": {"minutes"}},
		{"auto_close_amount": {"8761"}, "auto_close_unit": {"hours"}},
		{"auto_close_amount": {"soon"}, "auto_close_unit": {"hours"}},
	} {
		res := b.post("/admin/conversations", bad)
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
		assert.NotEmpty(t, res.text("#e-auto_close_amount"))
		assert.Equal(t, bad.Get("auto_close_amount"), res.doc.Find("#f-auto_close_amount").AttrOr("value", ""))
	}
	s, err := models.GetSettings(context.Background(), e.db)
	require.NoError(t, err)
	require.Nil(t, s.AutoCloseAfterMinutes)
	// Agents may not change it.
	e.user("Pat", "pat@example.com", models.RoleAgent, true)
	pb := e.browser()
	pb.login("pat@example.com")
	assert.NotEqual(t, http.StatusSeeOther, pb.post("/admin/conversations", url.Values{"auto_close_amount": {"1"}, "auto_close_unit": {"minutes"}}).StatusCode)

	res := b.post("/admin/conversations", url.Values{"auto_close_amount": {"1"}, "auto_close_unit": {"minutes"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.body)
	assert.Contains(t, b.get("/admin/conversations").text("#auto-close p.muted"), "after 1 minute without activity")

	visitor := e.newVisitor()
	pid := visitor.start("Is anyone there?")
	conv, err := models.FindConversationForUser(context.Background(), e.db, ada, pid)
	require.NoError(t, err)
	// Answered: the conversation waits on the customer (an unanswered one is
	// never auto-closed, models.TestAutoCloseOnlyWhenWaitingOnCustomer).
	_, err = factory.Write1(e.db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(context.Background(), tx, models.Actor{User: ada}, conv, models.MessageText, "Yes, how can we help?")
	})
	require.NoError(t, err)
	fresh := visitor.start("Another, still going") // not idle: left open
	require.NoError(t, e.db.Exec("UPDATE conversations SET updated_at = now() - interval '2 minutes' WHERE public_id = ?", pid).Error)

	// The periodic job runs every minute; run one now rather than wait.
	_, err = e.app.river.Insert(context.Background(), jobs.AutoCloseArgs{}, nil)
	require.NoError(t, err)
	status := func(pid string) string {
		var s string
		require.NoError(t, e.db.Raw("SELECT status FROM conversations WHERE public_id = ?", pid).Scan(&s).Error)
		return s
	}
	eventually(t, "the auto-close job", func() bool { return status(pid) == models.StatusClosed })
	assert.Equal(t, models.StatusOpen, status(fresh))

	thread := visitor.get("/widget/conversations/" + pid)
	assert.Contains(t, thread.text("#w-thread .w-sysline"), "This conversation was closed after 1 minute without activity.")
	desk := b.get("/conversations/" + pid)
	assert.Contains(t, desk.text("#messages .msg-system"), "Closed automatically after 1 minute without activity")

	res = visitor.post("/widget/conversations/"+pid+"/messages", url.Values{"body": {"Hello again"}})
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	assert.Equal(t, models.StatusOpen, status(pid), "a customer message reopens it")
}

// A customer message in a conversation assigned to Ann schedules its notify
// job MessageNotifyDelay after the message, inserted with the message; run
// now (rather than waited for), the worker tells Ann, grouped, once.
func TestMessageNotifyJob(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{startJobs: true})
	ann := e.user("Ann", "ann@example.com", models.RoleAgent, true)
	ctx := context.Background()
	visitor := e.newVisitor()
	pid := visitor.start("hello")
	conv, err := models.FindConversationForUser(ctx, e.db, ann, pid)
	require.NoError(t, err)
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error { return models.Assign(ctx, tx, ann, conv, &ann.ID) }))
	res := visitor.post("/widget/conversations/"+pid+"/messages", url.Values{"body": {"are you there?"}})
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)

	var job struct {
		Args        string
		ScheduledAt time.Time
		CreatedAt   time.Time
	}
	require.NoError(t, e.db.Raw(`SELECT args::text AS args, scheduled_at, created_at FROM river_job
		WHERE kind = 'notify' AND state = 'scheduled' AND args->>'message_id' IS NOT NULL ORDER BY id DESC LIMIT 1`).Scan(&job).Error)
	require.NotEmpty(t, job.Args, "the message's job waits")
	assert.WithinDuration(t, job.CreatedAt.Add(jobs.MessageNotifyDelay), job.ScheduledAt, 2*time.Second)

	var args jobs.NotifyArgs
	require.NoError(t, json.Unmarshal([]byte(job.Args), &args))
	for range 2 { // twice: a retry adds nothing
		_, err = e.app.river.Insert(ctx, args, nil)
		require.NoError(t, err)
	}
	// The new conversation's, and the message's.
	eventually(t, "the message notification", func() bool { return unreadNotifications(t, e, ann) == 2 })
	eventually(t, "both jobs", func() bool {
		var left int64
		require.NoError(t, e.db.Raw(`SELECT count(*) FROM river_job WHERE kind = 'notify' AND state NOT IN ('completed', 'scheduled')`).Scan(&left).Error)
		return left == 0
	})
	var ns []models.Notification
	require.NoError(t, e.db.Where("user_id = ? AND reason = ?", ann.ID, models.ReasonMessage).Find(&ns).Error)
	require.Len(t, ns, 1)
	assert.Equal(t, models.ReasonMessage, ns[0].Reason)
	assert.Equal(t, "are you there?", ns[0].Text("preview"))
	assert.True(t, ns[0].Flag("from_customer"))
}
