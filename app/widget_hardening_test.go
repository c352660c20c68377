package app

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// A chat link opens its own conversation only: the visitor it starts cannot
// read, list, stream or write in the customer's other conversations, nor
// start new ones or change the customer's contact details.
func TestChatLinkScopedToItsConversation(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	ana := e.user("Ana", "ana@example.com", models.RoleAgent, true)
	owner := e.newVisitor()
	res := owner.post("/widget/conversations", url.Values{"body": {"About order A"}, "email": {"zoe@client.test"}})
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	pidA, _ := res.doc.Find("#w-thread-view").Attr("data-pid")
	pidB := owner.start("Private matter B")

	convA, err := models.FindConversationForUser(ctx, e.db, ana, pidA)
	require.NoError(t, err)
	convB, err := models.FindConversationForUser(ctx, e.db, ana, pidB)
	require.NoError(t, err)
	tok, err := models.ChatLinkToken(ctx, e.db, convA, time.Now().Add(time.Hour))
	require.NoError(t, err)
	res = e.browser().get("/chat/" + url.PathEscape(tok))
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.body)
	loc, err := url.Parse(res.Header.Get("Location"))
	require.NoError(t, err)
	var boot struct{ T, C string }
	require.NoError(t, json.Unmarshal([]byte(loc.Fragment), &boot))
	link := &widgetClient{e: e, b: e.browser(), token: boot.T}

	// Conversation A: readable and writable.
	res = link.get("/widget/conversations/" + pidA)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.body, "About order A")
	require.Equal(t, http.StatusOK, link.post("/widget/conversations/"+pidA+"/messages", url.Values{"body": {"Thanks for the email"}}).StatusCode)

	// Conversation B: the same 404 as anyone else's.
	assert.Equal(t, http.StatusNotFound, link.get("/widget/conversations/"+pidB).StatusCode)
	assert.Equal(t, http.StatusNotFound, link.post("/widget/conversations/"+pidB+"/messages", url.Values{"body": {"sneaky"}}).StatusCode)
	assert.Equal(t, http.StatusNotFound, link.post("/widget/conversations/"+pidB+"/read", url.Values{"up_to": {"1"}}).StatusCode)
	assert.Zero(t, e.countMessages(pidB, "sneaky"))
	assert.Equal(t, http.StatusNotFound, link.get("/widget/events?visitor="+url.QueryEscape(link.token)+"&since=0&conv="+pidB).StatusCode)

	// Home lists A alone and offers no new conversation.
	home := link.get("/widget/home")
	require.Equal(t, http.StatusOK, home.StatusCode)
	assert.Equal(t, 1, home.doc.Find("#w-convs li").Length())
	assert.NotContains(t, home.body, "Private matter B")
	assert.Zero(t, home.doc.Find("#w-start").Length())
	assert.Equal(t, http.StatusNotFound, link.post("/widget/conversations", url.Values{"body": {"new one"}}).StatusCode)
	// Nor may it change who the customer is.
	assert.Equal(t, http.StatusNotFound, link.post("/widget/contact", url.Values{"email": {"mallory@evil.test"}}).StatusCode)
	require.Equal(t, http.StatusNoContent, link.post("/widget/api/identify", url.Values{"email": {"mallory@evil.test"}, "name": {"Mallory"}}).StatusCode)
	var email string
	require.NoError(t, e.db.Raw("SELECT email FROM customers WHERE id = ?", *convA.CustomerID).Scan(&email).Error)
	assert.Equal(t, "zoe@client.test", email)

	// The home stream carries A's news and nothing of B's.
	s := link.stream(t, e.horizon(), "")
	_, err = factory.Write1(e.db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{User: ana}, convB, models.MessageText, "Secret answer about B")
	})
	require.NoError(t, err)
	_, err = factory.Write1(e.db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{User: ana}, convA, models.MessageText, "Answer about A")
	})
	require.NoError(t, err)
	e.app.rt.Ring()
	txt := s.waitFor("Answer about A")
	assert.NotContains(t, txt, "Secret answer about B")
	assert.NotContains(t, txt, pidB)

	// The customer's own browser still sees both.
	assert.Equal(t, 2, owner.get("/widget/home").doc.Find("#w-convs li").Length())
}

// A retried widget post (same Idempotency-Key, e.g. after a connection cut
// before the answer) stores the message once and gets the same answer; a
// retried start opens one conversation.
func TestWidgetPostIdempotencyKey(t *testing.T) {
	t.Parallel()
	e := setup(t)
	w := e.newVisitor()
	start := url.Values{"body": {"First question"}, "idempotency_key": {"start-key-0001"}}
	first := w.post("/widget/conversations", start)
	require.Equal(t, http.StatusOK, first.StatusCode, first.body)
	pid, _ := first.doc.Find("#w-thread-view").Attr("data-pid")
	again := w.post("/widget/conversations", start)
	require.Equal(t, http.StatusOK, again.StatusCode, again.body)
	pid2, _ := again.doc.Find("#w-thread-view").Attr("data-pid")
	assert.Equal(t, pid, pid2, "the retried start shows the conversation it opened")
	var convs int64
	require.NoError(t, e.db.Raw("SELECT count(*) FROM conversations WHERE customer_id = ?", w.visitor().CustomerID).Scan(&convs).Error)
	assert.EqualValues(t, 1, convs)

	post := func(body, key string) *response {
		req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/widget/conversations/"+pid+"/messages",
			strings.NewReader(url.Values{"body": {body}}.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("HX-Request", "true")
		req.Header.Set(visitorHeader, w.token)
		req.Header.Set(idempotencyKeyHeader, key)
		return w.b.do(req)
	}
	r1 := post("Is it shipped?", "0f8c2a1e-msg-1")
	require.Equal(t, http.StatusOK, r1.StatusCode, r1.body)
	r2 := post("Is it shipped?", "0f8c2a1e-msg-1")
	require.Equal(t, http.StatusOK, r2.StatusCode, r2.body)
	assert.Equal(t, r1.body, r2.body, "the same answer")
	assert.EqualValues(t, 1, e.countMessages(pid, "Is it shipped?"))
	// Another key is another message, even with the same words.
	require.Equal(t, http.StatusOK, post("Is it shipped?", "0f8c2a1e-msg-2").StatusCode)
	assert.EqualValues(t, 2, e.countMessages(pid, "Is it shipped?"))
	// A malformed key is refused before anything is stored.
	assert.Equal(t, http.StatusBadRequest, post("bad key", "no spaces allowed").StatusCode)
	assert.Zero(t, e.countMessages(pid, "bad key"))
}

// The desk's posts (replies, notes, teammate chats) take the same key.
func TestDeskPostIdempotencyKey(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ana", "ana@example.com", models.RoleAgent, true)
	bob := e.user("Bob", "bob@example.com", models.RoleAgent, true)
	b := e.browser()
	b.login("ana@example.com")
	pid := e.newVisitor().start("Hello")

	for _, kind := range []string{models.MessageText, models.MessageNote} {
		v := url.Values{"body": {"Looking into it (" + kind + ")"}, "kind": {kind}}
		key := "desk-key-" + kind
		r1 := b.post("/conversations/"+pid+"/messages", v, "HX-Request", "true", idempotencyKeyHeader, key)
		require.Equal(t, http.StatusOK, r1.StatusCode, r1.body)
		r2 := b.post("/conversations/"+pid+"/messages", v, "HX-Request", "true", idempotencyKeyHeader, key)
		require.Equal(t, http.StatusOK, r2.StatusCode, r2.body)
		assert.EqualValues(t, 1, e.countMessages(pid, v.Get("body")), kind)
	}
	// A plain form (no JavaScript) may send it as a field.
	v := url.Values{"body": {"Plain form"}, "idempotency_key": {"desk-plain-form-1"}}
	require.Equal(t, http.StatusSeeOther, b.post("/conversations/"+pid+"/messages", v).StatusCode)
	require.Equal(t, http.StatusSeeOther, b.post("/conversations/"+pid+"/messages", v).StatusCode)
	assert.EqualValues(t, 1, e.countMessages(pid, "Plain form"))

	// A teammate chat goes through the same post.
	conv, _, err := factory.Write2(e.db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartInternalConversation(context.Background(), tx, bob, []int64{mustUser(t, e, "ana@example.com").ID}, "lunch?")
	})
	require.NoError(t, err)
	tv := url.Values{"body": {"Sure"}}
	for range 2 {
		res := b.post("/conversations/"+conv.PublicID+"/messages", tv, "HX-Request", "true", idempotencyKeyHeader, "teammate-key-1")
		require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	}
	assert.EqualValues(t, 1, e.countMessages(conv.PublicID, "Sure"))
}

func mustUser(t *testing.T, e *testEnv, email string) *models.User {
	t.Helper()
	var u models.User
	require.NoError(t, e.db.Where("email = ?", email).Take(&u).Error)
	return &u
}

// While the desk is away, starting a conversation needs an email (the only
// way the answer can reach the visitor), said beside the field; online it
// stays optional.
func TestWidgetStartNeedsEmailWhileAway(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	ana := e.user("Ana", "ana@example.com", models.RoleAdmin, true)
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error { return models.SetOnline(ctx, tx, ana.ID, false) }))
	w := e.newVisitor()

	home := w.get("/widget/home")
	require.Equal(t, http.StatusOK, home.StatusCode)
	email := home.doc.Find("#w-f-email")
	_, required := email.Attr("required")
	assert.True(t, required)
	assert.Contains(t, home.text("#w-h-email"), "leave your email so our answer reaches you")
	assert.Zero(t, home.doc.Find(`label[for="w-f-email"] .w-optional`).Length())

	for _, bad := range []string{"", "not-an-email"} {
		res := w.post("/widget/conversations", url.Values{"body": {"Where is my parcel?"}, "email": {bad}})
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, res.body)
		assert.NotEmpty(t, res.text("#w-e-email"), "the reason, beside the field")
		assert.Equal(t, "Where is my parcel?", res.text("#w-start-body"), "what was typed is kept")
	}
	var convs int64
	require.NoError(t, e.db.Raw("SELECT count(*) FROM conversations").Scan(&convs).Error)
	assert.Zero(t, convs)
	res := w.post("/widget/conversations", url.Values{"body": {"Where is my parcel?"}, "email": {"zoe@client.test"}})
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)

	// Online: optional, as before.
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error { return models.SetOnline(ctx, tx, ana.ID, true) }))
	other := e.newVisitor()
	home = other.get("/widget/home")
	_, required = home.doc.Find("#w-f-email").Attr("required")
	assert.False(t, required)
	other.start("No email, online")
}
