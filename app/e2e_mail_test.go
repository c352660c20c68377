package app

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/browsertest"
	"github.com/parleydesk/parley/internal/smtptest"
	"github.com/parleydesk/parley/internal/wait"
	"github.com/parleydesk/parley/models"
)

// TestBrowserEmailContinuity is the customer's side of email continuity in
// a real browser: the link in the email opens the conversation as a full
// page, in the customer's language; a reply arriving while it is open is
// shown live and reported read, so it is not emailed; the customer can
// answer from there.
func TestBrowserEmailContinuity(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e, smtp := mailEnv(t)
	e.user("Sue Support", "sue@acme.test", models.RoleAgent, true)
	sue := e.browser()
	sue.login("sue@acme.test")
	w := e.newVisitor()
	res := w.post("/widget/conversations", url.Values{"body": {"Bonjour, ma commande ?"}, "email": {"zoe@client.test"}, "lang": {"fr-FR"}})
	require.Equal(t, http.StatusOK, res.StatusCode)
	pid, _ := res.doc.Find("#w-thread-view").Attr("data-pid")
	reply := func(body string) {
		t.Helper()
		require.Equal(t, http.StatusOK, sue.post("/conversations/"+pid+"/messages", url.Values{"body": {body}}, "HX-Request", "true").StatusCode)
	}
	reply("Elle part aujourd'hui.")
	e.allMail()
	e.makeDue("customer_email")
	msgs := smtp.Messages()
	require.Len(t, msgs, 1)
	require.Equal(t, "Support vous a répondu", msgs[0].Subject)
	i := strings.Index(msgs[0].Text, e.srv.URL+"/chat/")
	require.GreaterOrEqual(t, i, 0)
	link := strings.Fields(msgs[0].Text[i:])[0]

	tab := browserTabFor(t)
	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS("#w-thread-view")),
	))
	waitText(t, tab, "#w-thread", "Elle part aujourd'hui.")
	require.Equal(t, "/widget/frame", jsText(t, tab, "location.pathname"))
	require.Empty(t, jsText(t, tab, "location.hash"), "the visitor token leaves the address bar")

	// A reply while the page is open shows live and is reported read.
	reply("Livraison demain.")
	waitText(t, tab, "#w-thread", "Livraison demain.")
	var last int64
	require.NoError(t, e.db.Raw(`SELECT last_message_id FROM conversations WHERE public_id = ?`, pid).Scan(&last).Error)
	var read int64
	wait.For(t, 20*time.Second, func() bool {
		require.NoError(t, e.db.Raw(`SELECT customer_last_read_message_id FROM conversations WHERE public_id = ?`, pid).Scan(&read).Error)
		return read == last
	}, "the read receipt never arrived (last message %d)", last)
	e.allMail()
	e.makeDue("customer_email")
	require.Len(t, smtp.Messages(), 1, "seen in the browser: not emailed")

	// The customer answers from the page.
	require.NoError(t, chromedp.Do(tab,
		browsertest.Type("#w-body", "Merci !"),
		pressEnter,
	))
	waitText(t, tab, "#w-thread", "Merci !")

	// A reload keeps them in their chat: the conversation is listed.
	require.NoError(t, chromedp.Do(tab, chromedp.Reload()))
	waitText(t, tab, "#view", "Merci !")
	waitText(t, deskTab(t, e, "sue@acme.test"), "body", "Merci !")
}

// TestBrowserJobsPage: River's UI runs under Parley's CSP and shows a
// failed email job to an admin.
func TestBrowserJobsPage(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e, smtp := mailEnv(t)
	e.user("Ada Admin", "ada@acme.test", models.RoleAdmin, false)
	ana := e.user("Ana", "ana@nowhere.test", models.RoleAgent, true)
	e.emailPrefs(ana, models.DeliveryImmediate, 5)
	smtp.RejectRecipients(func(string) bool { return true }, smtptest.Permanent)
	e.newVisitor().start("Hello")
	e.allMail()

	tab := deskTab(t, e, "ada@acme.test")
	shows := func(s string) string {
		return `(document.getElementById('root') || {innerText: ''}).innerText.indexOf(` + strconv.Quote(s) + `) >= 0`
	}
	// The nav leads there with a full page load (the UI is its own app).
	require.Equal(t, "false", jsText(t, tab, `document.querySelector('a.nav-link[href="/admin/jobs"]').getAttribute('hx-boost')`))
	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate(e.srv.URL+"/admin/jobs"),
		until(shows("Cancelled")), // the app rendered: its state filters are listed
		chromedp.Navigate(e.srv.URL+"/admin/jobs/jobs?state=cancelled"),
		until(shows("agent_email")),
	))
}
