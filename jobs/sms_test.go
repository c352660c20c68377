package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The Twilio-compatible sender makes the Messages API's request (path,
// basic auth, form) against a real HTTP server, and tells the provider's
// refusals (permanent, with its message) from its failures (retried).
func TestTwilioSender(t *testing.T) {
	t.Parallel()
	var answer func(w http.ResponseWriter)
	var got struct {
		path, user, pass, ctype, to, from, body, idem string
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.path = r.Method + " " + r.URL.Path
		got.user, got.pass, _ = r.BasicAuth()
		got.ctype = r.Header.Get("Content-Type")
		got.idem = r.Header.Get("I-Twilio-Idempotency-Token")
		require.NoError(t, r.ParseForm())
		got.to, got.from, got.body = r.PostForm.Get("To"), r.PostForm.Get("From"), r.PostForm.Get("Body")
		answer(w)
	}))
	defer srv.Close()
	s := &TwilioSender{BaseURL: srv.URL + "/", AccountSID: "AC123", AuthToken: "secret", From: "+15005550006"}
	ctx := context.Background()
	m := SMS{To: "+5511987654321", Body: "Acme support chat: http://x/s/123456 (key 123 456)", Key: "session_invite:7"}

	answer = func(w http.ResponseWriter) {
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"sid":"SM1","status":"queued"}`)
	}
	require.NoError(t, s.SendSMS(ctx, m))
	assert.Equal(t, "POST /2010-04-01/Accounts/AC123/Messages.json", got.path)
	assert.Equal(t, "AC123", got.user)
	assert.Equal(t, "secret", got.pass)
	assert.Equal(t, "application/x-www-form-urlencoded", got.ctype)
	assert.Equal(t, "+5511987654321", got.to)
	assert.Equal(t, "+15005550006", got.from)
	assert.Equal(t, m.Body, got.body)
	assert.Equal(t, "session_invite:7", got.idem)

	// A 4xx is for good, with the provider's message.
	answer = func(w http.ResponseWriter) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"code":21614,"message":"'To' number is not a valid mobile number","status":400}`)
	}
	err := s.SendSMS(ctx, m)
	var perm *PermanentError
	require.ErrorAs(t, err, &perm)
	assert.Contains(t, err.Error(), "'To' number is not a valid mobile number")
	// 5xx and 429 are retried.
	for _, code := range []int{http.StatusInternalServerError, http.StatusServiceUnavailable, http.StatusTooManyRequests} {
		answer = func(w http.ResponseWriter) { w.WriteHeader(code) }
		err = s.SendSMS(ctx, m)
		require.Error(t, err, code)
		assert.False(t, errors.As(err, &perm), "%d is retried", code)
	}
}

// A provider that does not answer in time is a retry, not a stuck job.
func TestSMSTimeoutIsRetried(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	s := &TwilioSender{BaseURL: srv.URL, AccountSID: "AC1", AuthToken: "t", From: "+15005550006", Client: &http.Client{Timeout: 200 * time.Millisecond}}
	err := s.SendSMS(context.Background(), SMS{To: "+5511987654321", Body: "hi"})
	require.Error(t, err)
	var perm *PermanentError
	assert.False(t, errors.As(err, &perm))
}

// The webhook sender posts JSON signed with HMAC-SHA256 over the timestamp
// and the body; the gateway in the test checks the signature as a real one
// would.
func TestWebhookSender(t *testing.T) {
	t.Parallel()
	const secret = "0123456789abcdef-secret"
	var payload map[string]string
	var status int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ts := r.Header.Get("X-Parley-Timestamp")
		sec, err := strconv.ParseInt(ts, 10, 64)
		if err != nil || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute ||
			r.Header.Get("X-Parley-Signature") != WebhookSignature(secret, ts, body) ||
			r.Header.Get("Content-Type") != "application/json" || r.Method != http.MethodPost {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"bad signature"}`)
			return
		}
		require.NoError(t, json.Unmarshal(body, &payload))
		assert.Equal(t, payload["id"], r.Header.Get("Idempotency-Key"))
		w.WriteHeader(status)
	}))
	defer srv.Close()
	ctx := context.Background()
	m := SMS{To: "+33612345678", Body: "Assistance Acme : http://x/s/123456", Key: "session_invite:9"}

	status = http.StatusAccepted
	require.NoError(t, (&WebhookSender{URL: srv.URL, Secret: secret}).SendSMS(ctx, m))
	assert.Equal(t, map[string]string{"to": m.To, "body": m.Body, "id": m.Key}, payload)

	err := (&WebhookSender{URL: srv.URL, Secret: "another-secret-entirely"}).SendSMS(ctx, m)
	var perm *PermanentError
	require.ErrorAs(t, err, &perm, "a wrong signature is refused for good")
	assert.Contains(t, err.Error(), "bad signature")

	stale := func() time.Time { return time.Now().Add(-time.Hour) }
	require.ErrorAs(t, (&WebhookSender{URL: srv.URL, Secret: secret, Now: stale}).SendSMS(ctx, m), &perm, "a replayed timestamp is refused")

	status = http.StatusBadGateway
	err = (&WebhookSender{URL: srv.URL, Secret: secret}).SendSMS(ctx, m)
	require.Error(t, err)
	assert.False(t, errors.As(err, &perm))
}
