package app

import (
	"bufio"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/models"
)

// privateDesk is a customer conversation (the customer left an email) with
// Ana (assigned), Bob (wrote) and Cat (follows) in it, and Dan, a support
// agent outside it; each signed in.
type privateDesk struct {
	e                  *testEnv
	w                  *widgetClient
	pid                string
	ana, bob, cat, dan *models.User
	anaB, bobB, catB   *browser
	danB               *browser
}

func newPrivateDesk(t *testing.T, e *testEnv) *privateDesk {
	t.Helper()
	d := &privateDesk{e: e}
	d.ana = e.user("Ana", "ana@acme.test", models.RoleAgent, true)
	d.bob = e.user("Bob", "bob@acme.test", models.RoleAgent, true)
	d.cat = e.user("Cat", "cat@acme.test", models.RoleAgent, true)
	d.dan = e.user("Dan", "dan@acme.test", models.RoleAgent, true)
	login := func(email string) *browser {
		b := e.browser()
		b.login(email)
		return b
	}
	d.anaB, d.bobB, d.catB, d.danB = login("ana@acme.test"), login("bob@acme.test"), login("cat@acme.test"), login("dan@acme.test")
	d.w = e.newVisitor()
	res := d.w.post("/widget/conversations", url.Values{"body": {"Where is my parcel?"}, "email": {"zoe@client.test"}, "name": {"Zoe"}})
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	d.pid, _ = res.doc.Find("#w-thread-view").Attr("data-pid")
	require.NotEmpty(t, d.pid)
	require.Equal(t, http.StatusNoContent, d.anaB.post("/conversations/"+d.pid+"/assign", url.Values{"assignee_id": {idStr(d.ana.ID)}}, "HX-Request", "true").StatusCode)
	require.Equal(t, http.StatusOK, d.bobB.post("/conversations/"+d.pid+"/messages", url.Values{"body": {"Bob looking"}}, "HX-Request", "true").StatusCode)
	require.Equal(t, http.StatusNoContent, d.catB.post("/conversations/"+d.pid+"/follow", url.Values{"follow": {"true"}}, "HX-Request", "true").StatusCode)
	return d
}

// send posts from the composer as htmx does.
func (d *privateDesk) send(b *browser, values url.Values) *response {
	d.e.t.Helper()
	return b.post("/conversations/"+d.pid+"/messages", values, "HX-Request", "true")
}

func (d *privateDesk) stored() (n int64) {
	d.e.t.Helper()
	require.NoError(d.e.t, d.e.db.Raw("SELECT (SELECT count(*) FROM messages) + (SELECT count(*) FROM message_recipients)").Scan(&n).Error)
	return n
}

// widgetStreamFrom opens the visitor's stream resuming from a Last-Event-ID
// header, as a reconnecting EventSource does.
func widgetStreamFrom(t *testing.T, w *widgetClient, lastEventID uint64, conv string) *testStream {
	t.Helper()
	q := url.Values{"visitor": {w.token}, "conv": {conv}}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.e.srv.URL+"/widget/events?"+q.Encode(), nil)
	require.NoError(t, err)
	req.Header.Set("Last-Event-ID", uintStr(lastEventID))
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode)
	s := &testStream{t: t, status: res.StatusCode, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer res.Body.Close()
		r := bufio.NewReader(res.Body)
		for {
			line, err := r.ReadString('\n')
			s.mu.Lock()
			s.buf.WriteString(line)
			s.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return s
}

// The composer offers the teammates in the conversation (but the viewer) as
// recipients; a private message's bad input is a 422 with the message beside
// its field, the text kept, and nothing stored; a good one comes back as the
// composer in the same mode, to the same teammates.
func TestPrivateMessageHTTPRules(t *testing.T) {
	t.Parallel()
	e := setup(t)
	d := newPrivateDesk(t, e)

	page := d.anaB.get("/conversations/" + d.pid)
	require.Equal(t, http.StatusOK, page.StatusCode)
	require.Equal(t, 1, page.doc.Find(`#composer input[name=kind][value=private]`).Length(), "a To… mode beside Reply and Note")
	var offered []string
	page.doc.Find(`#composer-to input[name=to]`).Each(func(_ int, s *goquery.Selection) {
		offered = append(offered, strings.TrimSpace(s.Parent().Text()))
	})
	require.Equal(t, []string{"Bob", "Cat"}, offered, "teammates in the conversation, not Ana herself nor Dan")

	start := d.stored()
	for _, tc := range []struct {
		name, body, field, text string
		to                      []string
	}{
		{"empty", "  ", "body", "Write a message first.", []string{idStr(d.bob.ID)}},
		{"oversized", strings.Repeat("é", models.MaxMessageLen+1), "body", "", []string{idStr(d.bob.ID)}},
		{"no recipient", "psst", "to", "Pick at least one teammate to write to.", nil},
		{"agent not in the conversation", "psst", "to", "Only teammates in this conversation can receive a private message.", []string{idStr(d.bob.ID), idStr(d.dan.ID)}},
		{"not an id", "psst", "to", "Only teammates in this conversation can receive a private message.", []string{"bob"}},
	} {
		res := d.send(d.anaB, url.Values{"kind": {"private"}, "body": {tc.body}, "to": tc.to})
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, tc.name)
		form := res.doc.Find("form#composer")
		require.Equal(t, 1, form.Length(), tc.name)
		msg := form.Find("#e-" + tc.field)
		require.Equal(t, 1, msg.Length(), "%s: the message beside %s", tc.name, tc.field)
		if tc.text != "" {
			require.Equal(t, tc.text, strings.TrimSpace(msg.Text()), tc.name)
		}
		if tc.field == "to" {
			require.Equal(t, 1, form.Find("#composer-to.has-error").Length(), tc.name)
		}
		_, private := form.Find(`input[name=kind][value=private]`).Attr("checked")
		require.True(t, private, "%s: still in the To… mode", tc.name)
		if tc.name == "agent not in the conversation" {
			_, bob := form.Find(`input[name=to][value="` + idStr(d.bob.ID) + `"]`).Attr("checked")
			require.True(t, bob, "the choice is kept")
			require.Equal(t, "psst", form.Find("textarea[name=body]").Text(), "the text is kept")
		}
		require.Equal(t, start, d.stored(), "%s: nothing stored", tc.name)
	}
	// Without htmx: the whole page, 422, the message beside the field.
	res := d.anaB.post("/conversations/"+d.pid+"/messages", url.Values{"kind": {"private"}, "body": {"psst"}, "to": {idStr(d.dan.ID)}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	require.Equal(t, 1, res.doc.Find("#composer #e-to").Length())
	require.Equal(t, start, d.stored())
	// Dan, outside the conversation, is offered no one (he is not "in" it)
	// and may not pick Ana's teammates' conversation members either.
	res = d.send(d.danB, url.Values{"kind": {"private"}, "body": {"hi"}, "to": {idStr(d.dan.ID)}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)

	// A good one: the composer comes back empty, in the To… mode, to Bob.
	res = d.send(d.anaB, url.Values{"kind": {"private"}, "body": {"Bob, refund approved"}, "to": {idStr(d.bob.ID)}})
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	_, private := res.doc.Find(`input[name=kind][value=private]`).Attr("checked")
	require.True(t, private)
	_, bob := res.doc.Find(`input[name=to][value="` + idStr(d.bob.ID) + `"]`).Attr("checked")
	require.True(t, bob)
	require.Empty(t, res.doc.Find("textarea[name=body]").Text())
	require.Equal(t, start+2, d.stored(), "the message and its one recipient")

	// Back to Reply with Bob still ticked (the boxes hide, they stay
	// checked): a reply, to everyone, with no recipients.
	res = d.send(d.anaB, url.Values{"kind": {"message"}, "body": {"Hello Zoe"}, "to": {idStr(d.bob.ID)}})
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	require.Equal(t, start+3, d.stored())
	var kind string
	require.NoError(t, e.db.Raw("SELECT kind FROM messages WHERE body = 'Hello Zoe'").Scan(&kind).Error)
	require.Equal(t, models.MessageText, kind)

	// Ana and Bob see it marked; Cat and Dan do not see it at all.
	for _, b := range []*browser{d.anaB, d.bobB} {
		page := b.get("/conversations/" + d.pid)
		m := page.doc.Find("#messages article.msg-private")
		require.Equal(t, 1, m.Length())
		require.Equal(t, "Private to Bob", strings.TrimSpace(m.Find("[data-private-to]").Text()))
		require.Contains(t, m.Find(".msg-body").Text(), "Bob, refund approved")
	}
	for _, b := range []*browser{d.catB, d.danB} {
		page := b.get("/conversations/" + d.pid)
		require.Equal(t, http.StatusOK, page.StatusCode)
		require.NotContains(t, page.body, "refund approved")
		require.Zero(t, page.doc.Find(".msg-private").Length())
	}

	// Its per-message menu exists only for its author and recipient: for
	// anyone else (an admin too) it is not found, and cannot be changed.
	var id int64
	require.NoError(t, e.db.Raw("SELECT id FROM messages WHERE kind = 'private'").Scan(&id).Error)
	msg := "/conversations/" + d.pid + "/messages/" + idStr(id)
	e.user("Eve Admin", "eve@acme.test", models.RoleAdmin, true)
	eveB := e.browser()
	eveB.login("eve@acme.test")
	for _, b := range []*browser{d.catB, d.danB, eveB} {
		for _, path := range []string{msg, msg + "/author", msg + "/edit", msg + "/history"} {
			res := b.get(path, "HX-Request", "true")
			require.Equal(t, http.StatusNotFound, res.StatusCode, path)
			require.NotContains(t, res.body, "refund approved", path)
		}
		require.Equal(t, http.StatusNotFound, b.post(msg+"/edit", url.Values{"body": {"hijacked"}}, "HX-Request", "true").StatusCode)
		require.Equal(t, http.StatusNotFound, b.post(msg+"/delete", nil, "HX-Request", "true").StatusCode)
	}
	res = d.bobB.get(msg, "HX-Request", "true")
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, res.body, "refund approved")
	// Its author edits it: still private, still only for Bob.
	res = d.anaB.post(msg+"/edit", url.Values{"body": {"Bob, refund approved (50%)"}}, "HX-Request", "true")
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	require.Equal(t, "Private to Bob", strings.TrimSpace(res.doc.Find("[data-private-to]").Text()))
	require.Contains(t, d.bobB.get("/conversations/"+d.pid).body, "refund approved (50%)")
	require.NotContains(t, d.catB.get("/conversations/"+d.pid).body, "refund approved")
}

// A private message never reaches anyone it is not for: not the customer
// (widget thread and its pages, the widget stream live and replayed from a
// Last-Event-ID, the customer's email, transcripts), not another agent (their thread,
// Load earlier pages, desk stream live and replayed, inbox rows and unread
// badges, notifications, agent emails). Its recipient gets it everywhere,
// marked private. No transcript carries it, the customer's or the staff's
// (there is no other export of conversations).
func TestPrivateMessageNeverLeaks(t *testing.T) {
	t.Parallel()
	e, smtp := mailEnv(t)
	d := newPrivateDesk(t, e)
	for _, u := range []*models.User{d.ana, d.bob, d.cat, d.dan} {
		e.emailPrefs(u, models.DeliveryImmediate, 5)
	}
	e.allMail()
	const secret = "SECRET-PRIVATE-4242"
	ctx := context.Background()
	before := e.horizon()

	// Everyone is watching: the customer's widget, Bob, Cat and Dan.
	widget := d.w.stream(t, before, d.pid)
	bobPage := d.bobB.get("/conversations/" + d.pid)
	bobStream := d.bobB.streamFor(bobPage)
	catPage := d.catB.get("/conversations/" + d.pid)
	catStream := d.catB.streamFor(catPage)
	danStream := d.danB.streamFor(d.danB.get("/inbox"))

	require.Equal(t, http.StatusOK, d.send(d.anaB, url.Values{"kind": {"private"}, "body": {secret}, "to": {idStr(d.bob.ID)}}).StatusCode)
	// Its author edits it (the stream re-renders it for who may see it).
	var privateID int64
	require.NoError(t, e.db.Raw("SELECT id FROM messages WHERE kind = 'private'").Scan(&privateID).Error)
	res := d.anaB.post("/conversations/"+d.pid+"/messages/"+idStr(privateID)+"/edit", url.Values{"body": {secret + " EDITED"}}, "HX-Request", "true")
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	require.Equal(t, http.StatusOK, d.send(d.anaB, url.Values{"kind": {"message"}, "body": {"Public reply after"}}).StatusCode)

	// Bob sees it live, marked.
	_, m := bobStream.has("article.msg-private")
	require.Contains(t, m.Text(), secret)
	require.Contains(t, m.Find("[data-private-to]").Text(), "Private to Bob")
	bobStream.waitFor("the edit", func(ev sseEvent, _ *goquery.Document) bool { return strings.Contains(ev.data, secret+" EDITED") })
	// Nobody else does, though they get what came after it.
	require.Contains(t, widget.waitFor("Public reply after"), "Public reply after")
	catStream.waitFor("the public reply", func(ev sseEvent, _ *goquery.Document) bool { return strings.Contains(ev.data, "Public reply after") })
	danStream.waitFor("the row update", func(ev sseEvent, _ *goquery.Document) bool { return strings.Contains(ev.data, "Public reply after") })
	require.NotContains(t, widget.text(), secret)
	require.NotContains(t, catStream.everything(), secret)
	require.NotContains(t, danStream.everything(), secret)

	// Replays: the widget from a Last-Event-ID and from since=, Cat's desk
	// stream from before it.
	for _, s := range []*testStream{widgetStreamFrom(t, d.w, before, d.pid), d.w.stream(t, before, "")} {
		txt := s.waitFor("Public reply after")
		require.NotContains(t, txt, secret)
	}
	catReplay := d.catB.stream("/desk/events?view=conversation&c=" + d.pid + "&since=" + uintStr(before))
	catReplay.waitFor("the replayed reply", func(ev sseEvent, _ *goquery.Document) bool { return strings.Contains(ev.data, "Public reply after") })
	require.NotContains(t, catReplay.everything(), secret)
	bobReplay := d.bobB.stream("/desk/events?view=conversation&c=" + d.pid + "&since=" + uintStr(before))
	bobReplay.waitFor("the replayed private message", func(ev sseEvent, _ *goquery.Document) bool { return strings.Contains(ev.data, secret) })

	// Pages: the widget thread (and its earlier page), Cat's and Dan's
	// thread, a Load earlier page, inbox lists.
	for _, res := range []*response{
		d.w.get("/widget/conversations/" + d.pid),
		d.w.get("/widget/conversations/" + d.pid + "?before=999999999"),
		d.catB.get("/conversations/" + d.pid),
		d.catB.get("/conversations/"+d.pid+"?before=999999999", "HX-Request", "true"),
		d.catB.get("/conversations/" + d.pid + "?before=999999999"),
		d.danB.get("/conversations/" + d.pid),
		d.catB.get("/inbox"),
		d.catB.get("/mine"),
		d.catB.get("/notifications"),
		d.danB.get("/inbox"),
	} {
		require.Less(t, res.StatusCode, 400, res.Request.URL.String())
		require.NotContains(t, res.body, secret, res.Request.URL.String())
	}
	res = d.bobB.get("/conversations/"+d.pid+"?before=999999999", "HX-Request", "true")
	require.Contains(t, res.body, secret, "the recipient's Load earlier page has it")

	// Transcripts: the customer's saved one (its signed link under the
	// widget thread) and the staff's .txt and print view, even for its
	// author and recipient.
	thread := d.w.get("/widget/conversations/" + d.pid)
	link, ok := thread.doc.Find("#w-transcript-link").Attr("href")
	require.True(t, ok, "the widget offers its transcript")
	transcripts := []*response{d.w.get(link)}
	for _, b := range []*browser{d.anaB, d.bobB, d.catB} {
		transcripts = append(transcripts, b.get("/conversations/"+d.pid+"/transcript.txt"), b.get("/conversations/"+d.pid+"/transcript"))
	}
	for _, res := range transcripts {
		require.Equal(t, http.StatusOK, res.StatusCode, res.Request.URL.String())
		require.Contains(t, res.body, "Public reply after", res.Request.URL.String())
		require.NotContains(t, res.body, secret, res.Request.URL.String())
	}

	// Unread: the private message makes the conversation unread for Bob only.
	unreadOf := func(u *models.User) int {
		row, err := models.InboxRowFor(ctx, e.db, u, mustConvID(t, e, d.pid))
		require.NoError(t, err)
		return row.Unread
	}
	require.NoError(t, e.db.Exec(`UPDATE conversation_users SET last_read_message_id = ? WHERE user_id IN (?, ?)`, privateID-1, d.bob.ID, d.cat.ID).Error)
	require.Equal(t, 2, unreadOf(d.bob), "the private message and the reply after it")
	require.Equal(t, 1, unreadOf(d.cat), "the reply only")

	// Notifications and emails.
	// (Bob's own notification may be the grouped one of the reply after it:
	// models' TestPrivateMessageNotifiesRecipients checks what he is told.)
	e.makeDue("notify")
	n, _ := bellOf(t, e, d.bob)
	require.Positive(t, n, "Bob is told")
	for _, u := range []*models.User{d.ana, d.cat, d.dan} {
		_, list := bellOf(t, e, u)
		for _, x := range list {
			require.NotContains(t, x.Text("preview"), secret, u.Name)
			require.False(t, x.Flag("private"), u.Name)
		}
	}
	e.allMail()
	e.makeDue("agent_email")
	e.makeDue("customer_email")
	mails := smtp.Messages()
	require.NotEmpty(t, mails)
	bobGot, customerGot := false, false
	for _, m := range mails {
		body := m.Text + m.HTML + m.Subject
		switch {
		case len(m.To) == 1 && m.To[0] == "bob@acme.test":
			bobGot = bobGot || strings.Contains(body, secret)
			if strings.Contains(body, secret) {
				require.Contains(t, m.Text, "Ana (private): "+secret)
			}
		default:
			require.NotContains(t, body, secret, "email to %v", m.To)
		}
		if len(m.To) == 1 && m.To[0] == "zoe@client.test" {
			customerGot = true
			require.Contains(t, m.Text, "Public reply after")
		}
	}
	require.True(t, bobGot, "the recipient is emailed it")
	require.True(t, customerGot, "the customer was emailed the reply, without it")
}

func mustConvID(t *testing.T, e *testEnv, pid string) int64 {
	t.Helper()
	var id int64
	require.NoError(t, e.db.Raw("SELECT id FROM conversations WHERE public_id = ?", pid).Scan(&id).Error)
	return id
}

func bellOf(t *testing.T, e *testEnv, u *models.User) (int, []models.Notification) {
	t.Helper()
	ctx := context.Background()
	n, err := models.CountUnreadNotifications(ctx, e.db, u)
	require.NoError(t, err)
	list, err := models.ListNotifications(ctx, e.db, u, 0, 50)
	require.NoError(t, err)
	return n, list
}
