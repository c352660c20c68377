package app

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/jobs"
	"github.com/parleydesk/parley/models"
)

// fakeTwilio is a Twilio-compatible Messages API in the test process: it
// checks each request and answers with next.
type fakeTwilio struct {
	*httptest.Server
	mu   sync.Mutex
	sent []url.Values
	next func(w http.ResponseWriter)
}

func startFakeTwilio(t *testing.T) *fakeTwilio {
	f := &fakeTwilio{next: func(w http.ResponseWriter) {
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"sid":"SM1","status":"queued"}`)
	}}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, _ := r.BasicAuth()
		if r.URL.Path != "/2010-04-01/Accounts/AC42/Messages.json" || user != "AC42" || pass != "tok" {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"code":20003,"message":"Authenticate"}`)
			return
		}
		require.NoError(t, r.ParseForm())
		f.mu.Lock()
		f.sent = append(f.sent, r.PostForm)
		next := f.next
		f.mu.Unlock()
		next(w)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeTwilio) messages() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.sent...)
}

func TestSessionInvitations(t *testing.T) {
	t.Parallel()
	tw := startFakeTwilio(t)
	e, smtp := mailEnv(t, map[string]string{
		"PARLEY_SMS_PROVIDER": "twilio", "PARLEY_TWILIO_BASE_URL": tw.URL, "PARLEY_TWILIO_ACCOUNT_SID": "AC42",
		"PARLEY_TWILIO_AUTH_TOKEN": "tok", "PARLEY_TWILIO_FROM": "+15005550006", "PARLEY_SMS_REGION": "BR",
	})
	e.user("Ann Agent", "ann@example.com", models.RoleAgent, true)
	e.user("Pat", "pat@example.com", models.RoleAgent, false)
	ann := e.browser()
	ann.login("ann@example.com")
	pid, key := startSession(t, ann, "")
	page := ann.get("/conversations/" + pid)
	require.Equal(t, 1, page.doc.Find("#invite-email").Length())
	require.Equal(t, 1, page.doc.Find("#invite-sms").Length())
	invite := func(b *browser, v url.Values) *response {
		return b.post("/sessions/"+pid+"/invite", v)
	}
	countInvites := func() (n int64) {
		require.NoError(t, e.db.Raw("SELECT count(*) FROM support_invitations").Scan(&n).Error)
		return n
	}

	// Refused: not an agent, CSRF, bad addresses, bad channel or language.
	pat := e.browser()
	pat.login("pat@example.com")
	assert.Equal(t, http.StatusForbidden, invite(pat, url.Values{"channel": {"email"}, "email": {"zoe@client.test"}}).StatusCode)
	assert.Equal(t, http.StatusForbidden, invite(ann, url.Values{"_csrf": {"x"}, "channel": {"email"}, "email": {"zoe@client.test"}}).StatusCode)
	for _, v := range []url.Values{
		{"channel": {"email"}, "email": {"zoe"}},
		{"channel": {"email"}, "email": {"Zoe <zoe@client.test>"}},
		{"channel": {"sms"}, "phone": {"123"}},
		{"channel": {"sms"}, "phone": {"+44 20"}},
	} {
		res := invite(ann, v)
		assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "%v", v)
	}
	assert.Equal(t, http.StatusBadRequest, invite(ann, url.Values{"channel": {"fax"}}).StatusCode)
	assert.Equal(t, http.StatusBadRequest, invite(ann, url.Values{"channel": {"email"}, "email": {"zoe@client.test"}, "lang": {"xx"}}).StatusCode)
	require.Zero(t, countInvites(), "nothing half-stored")

	// By email, in the language chosen, with the link and the key.
	res := invite(ann, url.Values{"channel": {"email"}, "email": {"zoe@client.test"}, "lang": {"pt-BR"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.body)
	e.waitJobs("session_invite")
	msgs := smtp.Messages()
	require.Len(t, msgs, 1)
	assert.Equal(t, "zoe@client.test", msgs[0].To[0])
	assert.Equal(t, "Sua sessão de suporte com Suporte", msgs[0].Subject)
	assert.Contains(t, msgs[0].Text, e.srv.URL+"/s/"+key)
	assert.Contains(t, msgs[0].Text, key[:3]+" "+key[3:])
	assert.Contains(t, msgs[0].HTML, `href="`+e.srv.URL+"/s/"+key+`"`)

	// By SMS through the Twilio-compatible API: the national number is normalised.
	res = invite(ann, url.Values{"channel": {"sms"}, "phone": {"(11) 98765-4321"}, "lang": {"en"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.body)
	e.waitJobs("session_invite")
	sent := tw.messages()
	require.Len(t, sent, 1)
	assert.Equal(t, "+5511987654321", sent[0].Get("To"))
	assert.Equal(t, "+15005550006", sent[0].Get("From"))
	assert.Contains(t, sent[0].Get("Body"), e.srv.URL+"/s/"+key)

	// The provider refuses: the agent sees its message.
	tw.mu.Lock()
	tw.next = func(w http.ResponseWriter) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"code":21614,"message":"'To' number is not a valid mobile number"}`)
	}
	tw.mu.Unlock()
	require.Equal(t, http.StatusSeeOther, invite(ann, url.Values{"channel": {"sms"}, "phone": {"+55 11 3333-4444"}}).StatusCode)
	e.waitJobs("session_invite")

	// The provider is down: retried by the job, then shown as failed.
	tw.mu.Lock()
	tw.next = func(w http.ResponseWriter) {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"message":"Service unavailable"}`)
	}
	tw.mu.Unlock()
	require.Equal(t, http.StatusSeeOther, invite(ann, url.Values{"channel": {"sms"}, "phone": {"+55 21 98888-7777"}}).StatusCode)
	e.waitJobs("session_invite")
	for range jobs.InviteMaxAttempts - 1 {
		e.makeDue("session_invite")
	}
	require.Len(t, tw.messages(), 2+jobs.InviteMaxAttempts)

	page = ann.get("/conversations/" + pid)
	thread := page.text("#messages")
	assert.Contains(t, thread, "The SMS to +5521988887777 failed: SMS provider answered 503: Service unavailable")
	assert.Contains(t, thread, "Invitation sent by email to zoe@client.test")
	assert.Contains(t, thread, "Invitation sent by SMS to +5511987654321")
	assert.Contains(t, thread, "The SMS to +551133334444 failed: SMS provider answered 400: 'To' number is not a valid mobile number")
	items := page.doc.Find("#support-invites li")
	require.Equal(t, 4, items.Length())
	assert.Equal(t, 2, page.doc.Find("#support-invites .support-invite-failed").Length())
	assert.Equal(t, 2, page.doc.Find("#support-invites .support-invite-sent time").Length(), "sent at")

	// Once the key is used, no more invitations.
	cust := e.browser()
	cust.get("/support")
	require.Equal(t, http.StatusSeeOther, cust.post("/support", url.Values{"key": {key}}).StatusCode)
	res = invite(ann, url.Values{"channel": {"email"}, "email": {"zoe@client.test"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.True(t, strings.Contains(res.body, "no longer works"), res.body)
}

// Without an SMS provider, the desk offers no SMS and refuses one.
func TestSessionInvitationsWithoutSMS(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ann Agent", "ann@example.com", models.RoleAgent, true)
	ann := e.browser()
	ann.login("ann@example.com")
	pid, _ := startSession(t, ann, "")
	assert.Zero(t, ann.get("/conversations/"+pid).doc.Find("#invite-sms").Length())
	assert.Equal(t, http.StatusNotFound, ann.post("/sessions/"+pid+"/invite", url.Values{"channel": {"sms"}, "phone": {"+5511987654321"}}).StatusCode)
}
