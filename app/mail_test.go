package app

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/parleydesk/parley/internal/smtptest"
	"github.com/parleydesk/parley/internal/wait"
	"github.com/parleydesk/parley/jobs"
	"github.com/parleydesk/parley/models"
)

// mailEnv is an instance working its jobs and sending email to a real SMTP
// server running inside the test. Delays (digests, customer continuity) are
// long; tests make jobs due with makeDue instead of waiting.
func mailEnv(t *testing.T, config ...map[string]string) (*testEnv, *smtptest.Server) {
	t.Helper()
	return mailEnvWith(t, envOpts{}, config...)
}

func mailEnvWith(t *testing.T, o envOpts, config ...map[string]string) (*testEnv, *smtptest.Server) {
	t.Helper()
	s := smtptest.Start(t)
	cfg := map[string]string{
		"PARLEY_SMTP_HOST": s.Host, "PARLEY_SMTP_PORT": strconv.Itoa(s.Port), "PARLEY_SMTP_TLS": "none",
		"PARLEY_SMTP_FROM": "Acme Support <support@acme.test>", "PARLEY_CUSTOMER_EMAIL_DELAY": "1h",
	}
	for _, c := range config {
		for k, v := range c {
			cfg[k] = v
		}
	}
	o.startJobs, o.config = true, cfg
	return setup(t, o), s
}

// jobRow is what a test reads of a River job.
type jobRow struct {
	ID        int64
	Kind      string
	State     string
	Attempt   int
	Errors    string
	Args      string
	Finalized bool
}

// jobsOf lists the jobs of a kind, oldest first.
func (e *testEnv) jobsOf(kind string) []jobRow {
	e.t.Helper()
	var rows []jobRow
	require.NoError(e.t, e.db.Raw(`
		SELECT id, kind, state, attempt, COALESCE(array_to_json(errors)::text, '') AS errors, args::text AS args,
		       finalized_at IS NOT NULL AS finalized
		FROM river_job WHERE kind = ? ORDER BY id`, kind).Scan(&rows).Error)
	return rows
}

// waitJobs waits until no job of the kinds is waiting to run now: each is
// finished, or scheduled for later.
func (e *testEnv) waitJobs(kinds ...string) {
	e.t.Helper()
	wait.For(e.t, 30*time.Second, func() bool {
		var busy int64
		require.NoError(e.t, e.db.Raw(`
			SELECT count(*) FROM river_job WHERE kind IN ? AND (state IN ('available', 'running', 'pending')
			  OR (state IN ('scheduled', 'retryable') AND scheduled_at <= now()))`, kinds).Scan(&busy).Error)
		return busy == 0
	}, "jobs %v still busy", kinds)
}

// makeDue runs the kind's scheduled and retryable jobs now (as if their
// delay or backoff had passed) and waits for them.
func (e *testEnv) makeDue(kind string) {
	e.t.Helper()
	require.NoError(e.t, e.db.Exec(`
		UPDATE river_job SET state = 'available', scheduled_at = now()
		WHERE kind = ? AND state IN ('scheduled', 'retryable')`, kind).Error)
	e.waitJobs(kind)
}

// allMail waits for the fan-out and the immediate sends of the writes so
// far.
func (e *testEnv) allMail() {
	e.t.Helper()
	e.waitJobs("mail_event", "agent_email", "customer_email")
}

func (e *testEnv) emailPrefs(u *models.User, delivery string, minutes int) {
	e.t.Helper()
	_, err := models.SaveEmailPrefs(context.Background(), e.db, u.ID, models.EmailPrefsInput{
		NewConversation: true, Assigned: true, Message: true, Delivery: delivery, DigestMinutes: strconv.Itoa(minutes)})
	require.NoError(e.t, err)
}

func (e *testEnv) setLocale(u *models.User, lang string) {
	e.t.Helper()
	require.NoError(e.t, models.SetLocale(context.Background(), e.db, u.ID, lang))
}

// A new customer conversation emails the support agents who want it, at
// once, in each one's language, with both parts and a link to the
// conversation; an agent who turned email off gets nothing.
func TestAgentEmailImmediateTranslated(t *testing.T) {
	t.Parallel()
	e, smtp := mailEnv(t)
	ana := e.user("Ana Souza", "ana@acme.test", models.RoleAgent, true)
	e.setLocale(ana, "pt-BR")
	e.emailPrefs(ana, models.DeliveryImmediate, 5)
	bob := e.user("Bob", "bob@acme.test", models.RoleAgent, true)
	e.emailPrefs(bob, models.DeliveryOff, 5)
	e.user("Cleo", "cleo@acme.test", models.RoleAgent, false) // not on customer support

	w := e.newVisitor()
	res := w.post("/widget/conversations", url.Values{"body": {"Where is my order?"}, "name": {"Zoe Client"}})
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	pid, _ := res.doc.Find("#w-thread-view").Attr("data-pid")

	smtp.WaitFor(t, 1, 30*time.Second)
	e.allMail()
	msgs := smtp.Messages()
	require.Len(t, msgs, 1, "only Ana wants email")
	m := msgs[0]
	require.Equal(t, []string{"ana@acme.test"}, m.To)
	require.Equal(t, "support@acme.test", m.From)
	require.Contains(t, m.Header.Get("From"), "Acme Support")
	require.Equal(t, "[Suporte] Nova conversa de Zoe Client", m.Subject)
	require.Equal(t, "pt-BR", m.Header.Get("Content-Language"))
	link := e.srv.URL + "/conversations/" + pid
	require.Contains(t, m.Text, "Olá, Ana Souza!")
	require.Contains(t, m.Text, "Zoe Client iniciou uma nova conversa.")
	require.Contains(t, m.Text, "Where is my order?")
	require.Contains(t, m.Text, link)
	require.Contains(t, m.HTML, `href="`+link+`"`)
	require.Contains(t, m.HTML, "Abrir a conversa")
	require.Contains(t, m.HTML, `<html lang="pt-BR">`)
	host, _, _ := net.SplitHostPort(strings.TrimPrefix(e.srv.URL, "http://"))
	require.Regexp(t, `^<[0-9a-f]{32}@`+host+`>$`, m.MessageID)

	// The link works for Ana.
	b := e.browser()
	b.login("ana@acme.test")
	require.Equal(t, http.StatusOK, b.get("/conversations/"+pid).StatusCode)
}

// An assignment emails the new assignee (not whoever assigned it), and
// only the reasons they chose.
func TestAgentEmailAssigned(t *testing.T) {
	t.Parallel()
	e, smtp := mailEnv(t)
	ana := e.user("Ana", "ana@acme.test", models.RoleAgent, true)
	_, err := models.SaveEmailPrefs(context.Background(), e.db, ana.ID, models.EmailPrefsInput{Assigned: true, Delivery: models.DeliveryImmediate})
	require.NoError(t, err)
	bob := e.user("Bob", "bob@acme.test", models.RoleAgent, true)
	e.emailPrefs(bob, models.DeliveryImmediate, 5)
	w := e.newVisitor()
	res := w.post("/widget/conversations", url.Values{"body": {"Help"}, "name": {"Zoe"}})
	pid, _ := res.doc.Find("#w-thread-view").Attr("data-pid")
	smtp.WaitFor(t, 1, 30*time.Second)
	e.allMail()
	require.Len(t, smtp.Messages(), 1, "Bob hears of the new conversation; Ana did not ask to")
	require.Equal(t, []string{"bob@acme.test"}, smtp.Messages()[0].To)

	b := e.browser()
	b.login("bob@acme.test")
	require.Less(t, b.post("/conversations/"+pid+"/assign", url.Values{"assignee_id": {strconv.FormatInt(ana.ID, 10)}}, "HX-Request", "true").StatusCode, 300)
	smtp.WaitFor(t, 2, 30*time.Second)
	e.allMail()
	msgs := smtp.Messages()
	require.Len(t, msgs, 2)
	require.Equal(t, []string{"ana@acme.test"}, msgs[1].To)
	require.Equal(t, "[Support] Assigned to you: Zoe", msgs[1].Subject)
	require.Contains(t, msgs[1].Text, "The conversation with Zoe was assigned to you.")
}

// A digest waits, then sends what is still unread as one email; what was
// read meanwhile is not sent, and nothing at all when everything was read.
func TestAgentEmailDigest(t *testing.T) {
	t.Parallel()
	e, smtp := mailEnv(t)
	ana := e.user("Ana", "ana@acme.test", models.RoleAgent, true)
	e.emailPrefs(ana, models.DeliveryDigest, 10)
	b := e.browser()
	b.login("ana@acme.test")

	w := e.newVisitor()
	pid := w.start("Hello")
	e.allMail()
	// Ana answers: she is now in the conversation (and hears of its messages).
	require.Equal(t, http.StatusOK, b.post("/conversations/"+pid+"/messages", url.Values{"body": {"Hi, how can I help?"}}, "HX-Request", "true").StatusCode)
	for _, body := range []string{"My parcel is late", "Order 1234", "Still there?"} {
		require.Equal(t, http.StatusOK, w.post("/widget/conversations/"+pid+"/messages", url.Values{"body": {body}}).StatusCode)
	}
	e.allMail()
	require.Empty(t, smtp.Messages(), "a digest waits")
	pending := e.jobsOf("agent_email")
	require.Len(t, pending, 4, "the new conversation and three messages")
	for _, j := range pending {
		require.Equal(t, "scheduled", j.State)
	}

	e.makeDue("agent_email")
	msgs := smtp.Messages()
	require.Len(t, msgs, 1, "one email for the burst")
	m := msgs[0]
	require.Equal(t, []string{"ana@acme.test"}, m.To)
	require.Equal(t, "[Support] New message from "+w.visitor().Customer.DisplayName(), m.Subject)
	require.Contains(t, m.Text, "3 new messages in the conversation with")
	for _, body := range []string{"My parcel is late", "Order 1234", "Still there?"} {
		require.Contains(t, m.Text, body)
		require.Contains(t, m.HTML, body)
	}
	require.NotContains(t, m.Text, "started a new conversation", "Ana answered it: the new conversation was read")

	// Read before the delay: nothing is sent.
	require.Equal(t, http.StatusOK, w.post("/widget/conversations/"+pid+"/messages", url.Values{"body": {"Hello again"}}).StatusCode)
	e.allMail()
	require.Equal(t, http.StatusNoContent, b.post("/conversations/"+pid+"/read", nil, "HX-Request", "true").StatusCode)
	e.makeDue("agent_email")
	require.Len(t, smtp.Messages(), 1, "read meanwhile: no email")
	for _, j := range e.jobsOf("agent_email") {
		require.Equal(t, "completed", j.State)
	}
}

// A job that runs again never sends a second copy: the fan-out inserted
// twice for the same event (as after a crash before River recorded it
// done), and a send that failed and was retried.
func TestEmailExactlyOnce(t *testing.T) {
	t.Parallel()
	e, smtp := mailEnv(t)
	ana := e.user("Ana", "ana@acme.test", models.RoleAgent, true)
	e.emailPrefs(ana, models.DeliveryImmediate, 5)

	w := e.newVisitor()
	w.start("First")
	smtp.WaitFor(t, 1, 30*time.Second)
	e.allMail()
	require.Len(t, smtp.Messages(), 1)

	// Run the same event's fan-out again, twice.
	fan := e.jobsOf("mail_event")
	require.Len(t, fan, 1)
	var args jobs.MailEventArgs
	require.NoError(t, json.Unmarshal([]byte(fan[0].Args), &args))
	require.Len(t, args.Events, 2, "the new conversation and its first message")
	for range 2 {
		require.NoError(t, models.Transaction(context.Background(), e.db, func(tx *gorm.DB) error {
			return e.app.InsertJobsTx(context.Background(), tx, []river.InsertManyParams{{Args: args}})
		}))
	}
	// And the send job itself, for the same event and recipient.
	require.NoError(t, models.Transaction(context.Background(), e.db, func(tx *gorm.DB) error {
		return e.app.InsertJobsTx(context.Background(), tx, []river.InsertManyParams{{Args: jobs.AgentEmailArgs{EventID: args.Events[0].ID, UserID: ana.ID}}})
	}))
	e.allMail()
	require.Len(t, smtp.Messages(), 1, "no second copy")
	require.Len(t, e.jobsOf("agent_email"), 2)

	// The server refuses the next one for now (451): the job retries, the
	// error is recorded, and the retry sends exactly one copy.
	smtp.RejectData(func() error { return smtptest.Temporary })
	w2 := e.newVisitor()
	w2.start("Second")
	e.allMail()
	require.Len(t, smtp.Messages(), 1)
	var failed jobRow
	for _, j := range e.jobsOf("agent_email") {
		if j.State == "retryable" {
			failed = j
		}
	}
	require.GreaterOrEqual(t, failed.Attempt, 1, "failed and waiting for its retry")
	require.Contains(t, failed.Errors, "Try again later")
	smtp.RejectData(nil)
	e.makeDue("agent_email")
	require.Len(t, smtp.Messages(), 2)
	e.makeDue("agent_email")
	require.Len(t, smtp.Messages(), 2, "no duplicate after more runs")
	var n int64
	require.NoError(t, e.db.Raw(`SELECT count(*) FROM email_deliveries`).Scan(&n).Error)
	require.EqualValues(t, 2, n)
}

// A recipient the server refuses for good (550) cancels the job at once,
// with the error kept for the jobs page; an unreachable server is retried.
// Neither makes the request that caused the email wait or fail.
func TestEmailFailures(t *testing.T) {
	t.Parallel()
	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		e, smtp := mailEnv(t)
		ana := e.user("Ana", "ana@nowhere.test", models.RoleAgent, true)
		e.emailPrefs(ana, models.DeliveryImmediate, 5)
		smtp.RejectRecipients(func(a string) bool { return a == "ana@nowhere.test" }, smtptest.Permanent)
		w := e.newVisitor()
		w.start("Hello")
		e.allMail()
		js := e.jobsOf("agent_email")
		require.Len(t, js, 1)
		require.Equal(t, "cancelled", js[0].State)
		require.Equal(t, 1, js[0].Attempt)
		require.Contains(t, js[0].Errors, "No such user here")
		require.Empty(t, smtp.Messages())
	})
	t.Run("unreachable", func(t *testing.T) {
		t.Parallel()
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		port := l.Addr().(*net.TCPAddr).Port
		require.NoError(t, l.Close()) // nobody listens there now
		e, _ := mailEnv(t, map[string]string{"PARLEY_SMTP_PORT": strconv.Itoa(port)})
		ana := e.user("Ana", "ana@acme.test", models.RoleAgent, true)
		e.emailPrefs(ana, models.DeliveryImmediate, 5)
		w := e.newVisitor()
		start := time.Now()
		w.start("Hello")
		require.Less(t, time.Since(start), 10*time.Second)
		e.allMail()
		js := e.jobsOf("agent_email")
		require.Len(t, js, 1)
		require.Equal(t, "retryable", js[0].State)
		require.Contains(t, js[0].Errors, "connection refused")
		// After its last attempt it ends as discarded, with its errors.
		require.NoError(t, e.db.Exec(`UPDATE river_job SET attempt = max_attempts - 1 WHERE id = ?`, js[0].ID).Error)
		e.makeDue("agent_email")
		js = e.jobsOf("agent_email")
		require.Equal(t, "discarded", js[0].State)
		require.Equal(t, jobs.MailMaxAttempts, js[0].Attempt)
	})
	t.Run("starttls required", func(t *testing.T) {
		t.Parallel()
		// The test server offers no STARTTLS: the default policy refuses to
		// send in clear text.
		e, smtp := mailEnv(t, map[string]string{"PARLEY_SMTP_TLS": "starttls"})
		ana := e.user("Ana", "ana@acme.test", models.RoleAgent, true)
		e.emailPrefs(ana, models.DeliveryImmediate, 5)
		e.newVisitor().start("Hello")
		e.allMail()
		js := e.jobsOf("agent_email")
		require.Len(t, js, 1)
		require.Equal(t, "retryable", js[0].State)
		require.Contains(t, strings.ToLower(js[0].Errors), "starttls")
		require.Empty(t, smtp.Messages())
	})
	t.Run("bad address", func(t *testing.T) {
		t.Parallel()
		e, smtp := mailEnv(t)
		w := e.newVisitor()
		pid := w.start("Hello")
		ana := e.user("Ana", "ana@acme.test", models.RoleAgent, true)
		e.emailPrefs(ana, models.DeliveryOff, 5)
		// A customer address that slipped in unvalidated.
		require.NoError(t, e.db.Exec(`UPDATE customers SET email = 'not an address' WHERE id = ?`, w.visitor().CustomerID).Error)
		b := e.browser()
		b.login("ana@acme.test")
		require.Equal(t, http.StatusOK, b.post("/conversations/"+pid+"/messages", url.Values{"body": {"Hi"}}, "HX-Request", "true").StatusCode)
		e.allMail()
		e.makeDue("customer_email")
		js := e.jobsOf("customer_email")
		require.Len(t, js, 1)
		require.Equal(t, "cancelled", js[0].State)
		require.Contains(t, js[0].Errors, "recipient address")
		require.Empty(t, smtp.Messages())
	})
}

// An agent's reply to a visitor who left an email and is gone: a burst of
// replies becomes one email, in the conversation's language, whose link
// reopens the conversation in the browser.
func TestCustomerEmailContinuity(t *testing.T) {
	t.Parallel()
	e, smtp := mailEnv(t)
	e.user("Ana", "ana@acme.test", models.RoleAgent, true)
	b := e.browser()
	b.login("ana@acme.test")
	w := e.newVisitor()
	res := w.post("/widget/conversations", url.Values{"body": {"Olá, preciso de ajuda"}, "email": {"zoe@client.test"}, "name": {"Zoe"}, "lang": {"pt-BR"}})
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	pid, _ := res.doc.Find("#w-thread-view").Attr("data-pid")

	for _, body := range []string{"Olá Zoe!", "Seu pedido saiu hoje.", "Chega amanhã."} {
		require.Equal(t, http.StatusOK, b.post("/conversations/"+pid+"/messages", url.Values{"body": {body}}, "HX-Request", "true").StatusCode)
	}
	// A note never reaches the customer.
	require.Equal(t, http.StatusOK, b.post("/conversations/"+pid+"/messages", url.Values{"body": {"internal remark"}, "kind": {"note"}}, "HX-Request", "true").StatusCode)
	e.allMail()
	require.Len(t, e.jobsOf("customer_email"), 3)
	require.Empty(t, smtp.Messages(), "the email waits for the visitor to read")

	e.makeDue("customer_email")
	msgs := smtp.Messages()
	require.Len(t, msgs, 1, "one email for the burst")
	m := msgs[0]
	require.Equal(t, []string{"zoe@client.test"}, m.To)
	require.Equal(t, "Suporte respondeu a você (3 mensagens)", m.Subject)
	require.Equal(t, "pt-BR", m.Header.Get("Content-Language"))
	for _, body := range []string{"Olá Zoe!", "Seu pedido saiu hoje.", "Chega amanhã."} {
		require.Contains(t, m.Text, body)
		require.Contains(t, m.HTML, body)
	}
	require.NotContains(t, m.Text+m.HTML, "internal remark")
	require.Contains(t, m.Text, "Olá, Zoe!")
	i := strings.Index(m.Text, e.srv.URL+"/chat/")
	require.GreaterOrEqual(t, i, 0, m.Text)
	link := strings.Fields(m.Text[i:])[0]
	require.Contains(t, m.HTML, `href="`+link+`"`)

	// The link opens the conversation in a fresh browser, as that customer.
	fresh := e.browser()
	res = fresh.get(strings.TrimPrefix(link, e.srv.URL))
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.body)
	loc, err := url.Parse(res.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, "/widget/frame", loc.Path)
	require.Equal(t, "pt-BR", loc.Query().Get("lang"))
	var boot struct{ T, C string }
	require.NoError(t, json.Unmarshal([]byte(loc.Fragment), &boot))
	require.Equal(t, pid, boot.C)
	other := &widgetClient{e: e, b: e.browser(), token: boot.T}
	res = other.get("/widget/conversations/" + pid)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, res.body, "Chega amanhã.")
	require.Equal(t, http.StatusOK, fresh.get("/widget/frame?lang=pt-BR").StatusCode)

	// Tampered or expired links are a plain 404.
	token := strings.TrimPrefix(link, e.srv.URL+"/chat/")
	parts := strings.Split(token, ".")
	require.Len(t, parts, 4)
	tampered := []string{
		parts[0] + "." + parts[1] + "." + strconv.Itoa(int(time.Now().Add(1000*time.Hour).Unix())) + "." + parts[3], // longer life
		parts[0] + "." + parts[1] + "1." + parts[2] + "." + parts[3],                                                // another customer
		parts[0] + "." + parts[1] + "." + parts[2] + "." + strings.Repeat("A", len(parts[3])),                       // forged signature
		"nonsense",
	}
	for _, tok := range tampered {
		require.Equal(t, http.StatusNotFound, e.browser().get("/chat/"+url.PathEscape(tok)).StatusCode, tok)
	}
	var conv models.Conversation
	require.NoError(t, e.db.Take(&conv, "public_id = ?", pid).Error)
	expired, err := models.ChatLinkToken(context.Background(), e.db, &conv, time.Now().Add(-time.Minute))
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, e.browser().get("/chat/"+expired).StatusCode)

	// More replies later make a second email with only the new ones.
	require.Equal(t, http.StatusOK, b.post("/conversations/"+pid+"/messages", url.Values{"body": {"Mais alguma coisa?"}}, "HX-Request", "true").StatusCode)
	e.allMail()
	e.makeDue("customer_email")
	msgs = smtp.Messages()
	require.Len(t, msgs, 2)
	require.Equal(t, "Suporte respondeu a você", msgs[1].Subject)
	require.Contains(t, msgs[1].Text, "Mais alguma coisa?")
	require.NotContains(t, msgs[1].Text, "Chega amanhã.")
}

// A visitor who reads the reply in the widget (opening the thread, or the
// frame's read receipt for a live message) gets no email; a visitor who
// left no email has nothing scheduled.
func TestCustomerEmailSkipped(t *testing.T) {
	t.Parallel()
	e, smtp := mailEnv(t)
	e.user("Ana", "ana@acme.test", models.RoleAgent, true)
	b := e.browser()
	b.login("ana@acme.test")
	reply := func(pid, body string) {
		t.Helper()
		require.Equal(t, http.StatusOK, b.post("/conversations/"+pid+"/messages", url.Values{"body": {body}}, "HX-Request", "true").StatusCode)
	}

	w := e.newVisitor()
	res := w.post("/widget/conversations", url.Values{"body": {"Hi"}, "email": {"zoe@client.test"}})
	pid, _ := res.doc.Find("#w-thread-view").Attr("data-pid")
	reply(pid, "Seen in the thread")
	// The thread shows it; the frame then sends its read receipt (the GET
	// itself moves nothing).
	require.Equal(t, http.StatusOK, w.get("/widget/conversations/"+pid).StatusCode)
	var shown int64
	require.NoError(t, e.db.Raw(`SELECT customer_last_read_message_id FROM conversations WHERE public_id = ?`, pid).Scan(&shown).Error)
	require.Zero(t, shown, "showing the thread is a read")
	require.NoError(t, e.db.Raw(`SELECT last_message_id FROM conversations WHERE public_id = ?`, pid).Scan(&shown).Error)
	require.Equal(t, http.StatusNoContent, w.post("/widget/conversations/"+pid+"/read", url.Values{"up_to": {strconv.FormatInt(shown, 10)}}).StatusCode)
	reply(pid, "Seen live")
	e.allMail()
	var last int64
	require.NoError(t, e.db.Raw(`SELECT last_message_id FROM conversations WHERE public_id = ?`, pid).Scan(&last).Error)
	require.Equal(t, http.StatusNoContent, w.post("/widget/conversations/"+pid+"/read", url.Values{"up_to": {strconv.FormatInt(last, 10)}}).StatusCode)
	// Another customer's conversation cannot be marked.
	intruder := e.newVisitor()
	require.Equal(t, http.StatusNotFound, intruder.post("/widget/conversations/"+pid+"/read", url.Values{"up_to": {"1"}}).StatusCode)

	e.makeDue("customer_email")
	require.Len(t, e.jobsOf("customer_email"), 2)
	require.Empty(t, smtp.Messages(), "read before the delay: no email")

	anon := e.newVisitor()
	pid2 := anon.start("No email here")
	reply(pid2, "Answer")
	e.allMail()
	require.Len(t, e.jobsOf("customer_email"), 2, "no job for a customer without email")
	require.Empty(t, smtp.Messages())
}

// Without an SMTP host nothing is emailed: writes insert no email job.
func TestEmailDisabled(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{startJobs: true})
	ana := e.user("Ana", "ana@acme.test", models.RoleAgent, true)
	e.emailPrefs(ana, models.DeliveryImmediate, 5)
	e.newVisitor().start("Hello")
	e.allMail()
	require.NotEmpty(t, e.jobsOf("notify"), "the write's other follow-ups are there")
	require.Empty(t, e.jobsOf("mail_event"))
	require.Empty(t, e.jobsOf("agent_email"))

	b := e.browser()
	b.login("ana@acme.test")
	res := b.get("/account")
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, 1, res.doc.Find("#email .alert").Length(), "the page says email is not set up")
}

// The account page's email section saves valid choices and re-renders
// invalid ones with a 422 and the message beside the field.
func TestEmailPrefsForm(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ana := e.user("Ana", "ana@acme.test", models.RoleAgent, true)
	b := e.browser()
	b.login("ana@acme.test")
	res := b.get("/account")
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "digest", res.doc.Find(`#email input[name=delivery][checked]`).AttrOr("value", ""))

	res = b.post("/account/email", url.Values{"delivery": {"digest"}, "digest_minutes": {"0"}, "assigned": {"on"}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	require.Contains(t, res.doc.Find("#email #e-digest_minutes").Text(), "from 1 to 1440")
	res = b.post("/account/email", url.Values{"delivery": {"sometimes"}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	require.NotEmpty(t, res.doc.Find("#email #e-delivery").Text())

	res = b.post("/account/email", url.Values{"delivery": {"immediate"}, "digest_minutes": {"15"}, "assigned": {"on"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.body)
	p, err := models.GetEmailPrefs(context.Background(), e.db, ana.ID)
	require.NoError(t, err)
	require.Equal(t, []any{false, true, false, "immediate", 15}, []any{p.NewConversation, p.Assigned, p.Message, p.Delivery, p.DigestMinutes})
	res = b.get("/account")
	require.Equal(t, "immediate", res.doc.Find(`#email input[name=delivery][checked]`).AttrOr("value", ""))
	require.Equal(t, 1, res.doc.Find(`#email input[name=assigned][checked]`).Length())
	require.Equal(t, 0, res.doc.Find(`#email input[name=message][checked]`).Length())
}

// A teammate chat emails its members (not its author), named by who wrote.
func TestAgentEmailTeammateChat(t *testing.T) {
	t.Parallel()
	e, smtp := mailEnv(t)
	ana := e.user("Ana", "ana@acme.test", models.RoleAgent, false)
	e.emailPrefs(ana, models.DeliveryImmediate, 5)
	bob := e.user("Bob Builder", "bob@acme.test", models.RoleAgent, false)
	e.emailPrefs(bob, models.DeliveryImmediate, 5)
	b := e.browser()
	b.login("bob@acme.test")
	res := b.post("/mine", url.Values{"members": {strconv.FormatInt(ana.ID, 10)}, "body": {"Lunch at noon?"}})
	require.Less(t, res.StatusCode, 400, res.body)
	smtp.WaitFor(t, 1, 30*time.Second)
	e.allMail()
	msgs := smtp.Messages()
	require.Len(t, msgs, 1)
	require.Equal(t, []string{"ana@acme.test"}, msgs[0].To)
	require.Equal(t, "[Support] New message from Bob Builder", msgs[0].Subject)
	require.Contains(t, msgs[0].Text, "Lunch at noon?")
	require.Contains(t, msgs[0].Text, e.srv.URL+"/conversations/")
}

// lostAck is a mailer whose first send reaches the server but reports a
// failure, as when the connection drops after the server accepted the
// message (or the process dies before recording it).
type lostAck struct {
	jobs.Mailer
	once sync.Once
}

func (l *lostAck) Send(ctx context.Context, m jobs.Email) error {
	err := l.Mailer.Send(ctx, m)
	lost := false
	l.once.Do(func() { lost = true })
	if err == nil && lost {
		return errors.New("connection lost after the server accepted the message")
	}
	return err
}

// The one window exactly-once cannot close: a send accepted by the server
// but not recorded is sent again on retry. Both copies carry the same
// Message-ID (derived from the idempotency key), which mail clients show
// as one message.
func TestEmailLostAcknowledgement(t *testing.T) {
	t.Parallel()
	e, smtp := mailEnvWith(t, envOpts{wrapMailer: func(m jobs.Mailer) jobs.Mailer { return &lostAck{Mailer: m} }})
	ana := e.user("Ana", "ana@acme.test", models.RoleAgent, true)
	e.emailPrefs(ana, models.DeliveryImmediate, 5)
	e.newVisitor().start("Hello")
	smtp.WaitFor(t, 1, 30*time.Second)
	e.makeDue("agent_email")
	e.allMail()
	msgs := smtp.Messages()
	require.Len(t, msgs, 2)
	require.Equal(t, msgs[0].MessageID, msgs[1].MessageID)
	require.Equal(t, msgs[0].Subject, msgs[1].Subject)
	js := e.jobsOf("agent_email")
	require.Len(t, js, 1)
	require.Equal(t, "completed", js[0].State)
	require.Equal(t, 2, js[0].Attempt)
}
