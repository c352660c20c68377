package app

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/jobs"
	"github.com/parleydesk/parley/models"
)

// startSession creates a support session as the signed-in agent b and
// returns its conversation's public id and its key, read from the page.
func startSession(t *testing.T, b *browser, request string) (pid, key string) {
	t.Helper()
	res := b.post("/sessions", url.Values{"request": {request}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.body)
	loc := res.Header.Get("Location")
	require.True(t, strings.HasPrefix(loc, "/conversations/"), loc)
	page := b.get(loc)
	require.Equal(t, http.StatusOK, page.StatusCode)
	key, ok := page.doc.Find("#support-key").Attr("data-key")
	require.True(t, ok, page.body)
	return strings.TrimPrefix(loc, "/conversations/"), key
}

func TestSupportSessionDeskRoutes(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ann", "ann@example.com", models.RoleAgent, true)
	e.user("Pat", "pat@example.com", models.RoleAgent, false)
	e.user("Ada", "ada@example.com", models.RoleAdmin, false)

	// Signed out: to the sign-in page.
	anon := e.browser()
	res := anon.get("/sessions/new")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res = anon.post("/sessions", nil)
	assert.Contains(t, res.Header.Get("Location"), "/login")
	var n int64
	require.NoError(t, e.db.Raw("SELECT count(*) FROM support_sessions").Scan(&n).Error)
	require.Zero(t, n)

	// Staff without customer support (an admin too): 403, and no link.
	for _, email := range []string{"pat@example.com", "ada@example.com"} {
		b := e.browser()
		b.login(email)
		assert.Zero(t, b.get("/inbox").doc.Find("#nav-new-session").Length()+b.get("/mine").doc.Find("#nav-new-session").Length(), email)
		assert.Equal(t, http.StatusForbidden, b.get("/sessions/new").StatusCode, email)
		assert.Equal(t, http.StatusForbidden, b.post("/sessions", url.Values{"request": {"hi"}}).StatusCode, email)
	}

	ann := e.browser()
	ann.login("ann@example.com")
	assert.Equal(t, "/sessions/new", ann.get("/mine").doc.Find("#nav-new-session").AttrOr("href", ""))
	assert.Equal(t, http.StatusOK, ann.get("/sessions/new").StatusCode)
	// CSRF.
	res = ann.post("/sessions", url.Values{"_csrf": {"forged"}, "request": {"hi"}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	// Too long a request: 422 with the form, nothing stored.
	res = ann.post("/sessions", url.Values{"request": {strings.Repeat("x", models.MaxSessionRequestLen+1)}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.NotEmpty(t, res.text("#e-request"))
	require.NoError(t, e.db.Raw("SELECT count(*) FROM support_sessions").Scan(&n).Error)
	require.Zero(t, n)

	// The session page: key, absolute link, the request escaped.
	pid, key := startSession(t, ann, `<img src=x onerror=alert(1)> please`)
	page := ann.get("/conversations/" + pid)
	assert.Regexp(t, `^[0-9]{6}$`, key)
	assert.Equal(t, e.srv.URL+"/s/"+key, page.doc.Find("#support-link").AttrOr("value", ""))
	assert.NotContains(t, page.body, "<img src=x")
	assert.Contains(t, page.text("#messages"), "<img src=x onerror=alert(1)> please")
	assert.Equal(t, "waiting", page.doc.Find("#support-session").AttrOr("data-state", ""))

	// Ending: agents only, with CSRF; the key stops working.
	pat := e.browser()
	pat.login("pat@example.com")
	assert.Equal(t, http.StatusForbidden, pat.post("/sessions/"+pid+"/end", nil).StatusCode)
	assert.Equal(t, http.StatusForbidden, ann.post("/sessions/"+pid+"/end", url.Values{"_csrf": {"forged"}}).StatusCode)
	res = ann.post("/sessions/"+pid+"/end", nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.body)
	page = ann.get("/conversations/" + pid)
	assert.Equal(t, "ended", page.doc.Find("#support-session").AttrOr("data-state", ""))
	assert.Zero(t, page.doc.Find("#end-session").Length())
	assert.Contains(t, page.text("#messages"), "Ann ended the support session")

	cust := e.browser()
	cust.get("/support")
	res = cust.post("/support", url.Values{"key": {key}})
	assert.Equal(t, http.StatusGone, res.StatusCode)
	assert.Contains(t, res.text(".alert-error"), "already used, or the session has ended")
	assert.Equal(t, http.StatusGone, cust.get("/s/"+key).StatusCode)
	// Not a support session: 404.
	assert.Equal(t, http.StatusNotFound, ann.post("/sessions/00000000-0000-0000-0000-000000000000/end", nil).StatusCode)
}

func TestSupportSessionJoin(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{widgetLimits: &WidgetLimits{IPSupportKeys: 1000}})
	e.user("Ann", "ann@example.com", models.RoleAgent, true)
	ann := e.browser()
	ann.login("ann@example.com")

	// The support page, in the browser's language.
	cust := e.browser()
	res := cust.get("/support", "Accept-Language", "pt-BR,pt;q=0.9")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "Entrar em uma sessão de suporte", res.text("h1"))
	res = cust.get("/support", "Accept-Language", "fr-CA")
	assert.Equal(t, "Rejoindre une session d’assistance", res.text("h1"))

	// Typed on the support page (with a space): the chat opens full-page.
	pid, key := startSession(t, ann, "Hello, I'm Ann")
	res = cust.post("/support", url.Values{"_csrf": {"forged"}, "key": {key}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode, "CSRF")
	res = cust.post("/support", url.Values{"key": {key[:3] + " " + key[3:]}},
		"User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.body)
	loc := res.Header.Get("Location")
	require.True(t, strings.HasPrefix(loc, "/widget/frame?view=page"), loc)
	boot, err := url.PathUnescape(loc[strings.Index(loc, "#")+1:])
	require.NoError(t, err)
	assert.Contains(t, boot, pid)
	// Used once.
	res = cust.post("/support", url.Values{"key": {key}})
	assert.Equal(t, http.StatusGone, res.StatusCode)

	// The desk sees the arrival and the session's details.
	page := ann.get("/conversations/" + pid)
	assert.Contains(t, page.text("#messages"), "Customer joined on the support page (Safari 17 · iOS")
	assert.Equal(t, "joined", page.doc.Find("#support-session").AttrOr("data-state", ""))
	assert.Equal(t, "Support key", page.text("#session-block summary span"))

	// Through the link: a page with one button (GET uses nothing), then POST.
	pid2, key2 := startSession(t, ann, "")
	link := e.browser()
	res = link.get("/s/" + key2)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "/s/"+key2, res.doc.Find("#join-form").AttrOr("action", ""))
	assert.Equal(t, http.StatusOK, link.get("/s/"+key2).StatusCode, "still unused")
	res = link.post("/s/"+key2, nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.body)
	assert.Contains(t, ann.get("/conversations/"+pid2).text("#messages"), "through the link")
	assert.Equal(t, http.StatusGone, link.get("/s/"+key2).StatusCode)
	assert.Equal(t, http.StatusGone, link.post("/s/"+key2, nil).StatusCode)

	// Wrong and malformed keys: 404 with the reason.
	for _, k := range []string{"000000", "12345", "abcdef", strings.Repeat("9", 200)} {
		if k == key || k == key2 {
			continue
		}
		res = cust.post("/support", url.Values{"key": {k}})
		assert.Equal(t, http.StatusNotFound, res.StatusCode, k)
		assert.Contains(t, res.text(".alert-error"), "not valid", k)
	}
	assert.Equal(t, http.StatusNotFound, cust.get("/s/abc").StatusCode)

	// Expired: 410 with the reason, on both routes.
	_, key3 := startSession(t, ann, "")
	require.NoError(t, e.db.Exec("UPDATE support_sessions SET expires_at = now() - interval '1 second' WHERE key = ?", key3).Error)
	res = cust.post("/support", url.Values{"key": {key3}})
	assert.Equal(t, http.StatusGone, res.StatusCode)
	assert.Contains(t, res.text(".alert-error"), "expired")
	res = cust.get("/s/" + key3)
	assert.Equal(t, http.StatusGone, res.StatusCode)
	assert.Contains(t, res.text(".alert-error"), "expired")
}

func TestSupportKeyGuessingIsRateLimited(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{widgetLimits: &WidgetLimits{IPSupportKeys: 5}})
	guesser := e.browser()
	guesser.get("/support")
	ip := []string{"X-Forwarded-For", "203.0.113.7"}
	for i := range 5 {
		res := guesser.post("/support", url.Values{"key": {"000000"}}, ip...)
		require.Equal(t, http.StatusNotFound, res.StatusCode, i)
	}
	res := guesser.post("/support", url.Values{"key": {"000000"}}, ip...)
	require.Equal(t, http.StatusTooManyRequests, res.StatusCode)
	assert.NotEmpty(t, res.Header.Get("Retry-After"))
	assert.Contains(t, res.text(".alert-error"), "Too many attempts")
	// The join link spends the same allowance.
	assert.Equal(t, http.StatusTooManyRequests, guesser.get("/s/000000", ip...).StatusCode)
	// Another address is not affected.
	assert.Equal(t, http.StatusNotFound, guesser.post("/support", url.Values{"key": {"000000"}}, "X-Forwarded-For", "203.0.113.8").StatusCode)
}

// Admins set how long unused keys work; new sessions' keys follow it.
func TestSupportKeyLifetimeSetting(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	e.user("Ann", "ann@example.com", models.RoleAgent, true)
	ann := e.browser()
	ann.login("ann@example.com")
	assert.Equal(t, http.StatusForbidden, ann.post("/admin/conversations/support-key", url.Values{"support_key_minutes": {"5"}}).StatusCode)

	ada := e.browser()
	ada.login("ada@example.com")
	page := ada.get("/admin/conversations")
	assert.Equal(t, "30", page.doc.Find("#f-support_key_minutes").AttrOr("value", ""), "the default")
	for _, bad := range []string{"0", "1441", "ten", ""} {
		res := ada.post("/admin/conversations/support-key", url.Values{"support_key_minutes": {bad}})
		assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, bad)
		assert.NotEmpty(t, res.text("#e-support_key_minutes"), bad)
	}
	assert.Equal(t, http.StatusForbidden, ada.post("/admin/conversations/support-key", url.Values{"_csrf": {"x"}, "support_key_minutes": {"5"}}).StatusCode)
	require.Equal(t, http.StatusSeeOther, ada.post("/admin/conversations/support-key", url.Values{"support_key_minutes": {"5"}}).StatusCode)
	assert.Equal(t, "5", ada.get("/admin/conversations").doc.Find("#f-support_key_minutes").AttrOr("value", ""))

	pid, _ := startSession(t, ann, "")
	var left float64
	require.NoError(t, e.db.Raw(`SELECT extract(epoch FROM s.expires_at - now()) FROM support_sessions s
		JOIN conversations c ON c.id = s.conversation_id WHERE c.public_id = ?`, pid).Scan(&left).Error)
	assert.InDelta(t, 300, left, 10)
}

// The SMS provider's configuration: off by default, each provider's
// variables checked and named when wrong.
func TestLoadConfigSMS(t *testing.T) {
	t.Parallel()
	c, err := LoadConfig(env(nil))
	require.NoError(t, err)
	assert.Empty(t, c.SMS.Provider)
	assert.Nil(t, newSMSSender(c.SMS))

	c, err = LoadConfig(env(map[string]string{"PARLEY_SMS_PROVIDER": "Twilio", "PARLEY_TWILIO_ACCOUNT_SID": "AC1",
		"PARLEY_TWILIO_AUTH_TOKEN": "t", "PARLEY_TWILIO_FROM": "+15005550006", "PARLEY_SMS_REGION": "br"}))
	require.NoError(t, err)
	assert.Equal(t, "https://api.twilio.com", c.SMS.TwilioBaseURL)
	assert.Equal(t, "BR", c.SMS.Region)
	assert.IsType(t, &jobs.TwilioSender{}, newSMSSender(c.SMS))

	c, err = LoadConfig(env(map[string]string{"PARLEY_SMS_PROVIDER": "webhook", "PARLEY_SMS_WEBHOOK_URL": "https://gw.example/sms",
		"PARLEY_SMS_WEBHOOK_SECRET": "0123456789abcdef"}))
	require.NoError(t, err)
	assert.IsType(t, &jobs.WebhookSender{}, newSMSSender(c.SMS))

	for _, tc := range []struct {
		name string
		vars map[string]string
	}{
		{"PARLEY_SMS_PROVIDER", map[string]string{"PARLEY_SMS_PROVIDER": "pigeon"}},
		{"PARLEY_TWILIO_ACCOUNT_SID", map[string]string{"PARLEY_SMS_PROVIDER": "twilio", "PARLEY_TWILIO_AUTH_TOKEN": "t", "PARLEY_TWILIO_FROM": "+1"}},
		{"PARLEY_TWILIO_BASE_URL", map[string]string{"PARLEY_SMS_PROVIDER": "twilio", "PARLEY_TWILIO_BASE_URL": "ftp://x",
			"PARLEY_TWILIO_ACCOUNT_SID": "a", "PARLEY_TWILIO_AUTH_TOKEN": "t", "PARLEY_TWILIO_FROM": "+1"}},
		{"PARLEY_SMS_WEBHOOK_URL", map[string]string{"PARLEY_SMS_PROVIDER": "webhook", "PARLEY_SMS_WEBHOOK_SECRET": "0123456789abcdef"}},
		{"PARLEY_SMS_WEBHOOK_SECRET", map[string]string{"PARLEY_SMS_PROVIDER": "webhook", "PARLEY_SMS_WEBHOOK_URL": "https://gw.example",
			"PARLEY_SMS_WEBHOOK_SECRET": "short"}},
	} {
		name := tc.name
		_, err := LoadConfig(env(tc.vars))
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), name)
	}
}
