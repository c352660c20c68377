package jobs

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// SMS is one text message to one phone number (E.164).
type SMS struct {
	To   string
	Body string
	// Key identifies this message across retries (providers that honour an
	// idempotency key send it once).
	Key string
}

// SMSSender sends an SMS. Like Mailer, it returns a *PermanentError when a
// retry can never succeed (the provider refused the request: a 4xx other
// than 408 and 429), any other error when one may.
type SMSSender interface {
	SendSMS(ctx context.Context, m SMS) error
}

// smsClient is the HTTP client of the senders: a bounded wait, so a hung
// provider becomes a retry rather than a stuck job.
var smsClient = &http.Client{Timeout: 15 * time.Second}

// TwilioSender sends through a Twilio-compatible Messages API: one form
// POST to {BaseURL}/2010-04-01/Accounts/{AccountSID}/Messages.json with
// basic auth. BaseURL is configurable for compatible providers and tests.
type TwilioSender struct {
	BaseURL    string // https://api.twilio.com
	AccountSID string
	AuthToken  string
	From       string // a number in E.164, or a messaging service / sender id
	Client     *http.Client
}

// SendSMS posts m to the Messages API.
func (s *TwilioSender) SendSMS(ctx context.Context, m SMS) error {
	form := url.Values{"To": {m.To}, "From": {s.From}, "Body": {m.Body}}
	u := strings.TrimRight(s.BaseURL, "/") + "/2010-04-01/Accounts/" + url.PathEscape(s.AccountSID) + "/Messages.json"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return &PermanentError{Err: err}
	}
	req.SetBasicAuth(s.AccountSID, s.AuthToken)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if m.Key != "" {
		req.Header.Set("I-Twilio-Idempotency-Token", m.Key)
	}
	return doSMS(s.Client, req)
}

// WebhookSender posts each SMS as JSON to a gateway of one's own, signed
// with HMAC-SHA256 so the gateway can tell it came from Parley:
// X-Parley-Signature is "sha256=" + hex(HMAC(secret, timestamp + "." +
// body)) with X-Parley-Timestamp (Unix seconds), which lets the gateway
// refuse replays.
type WebhookSender struct {
	URL    string
	Secret string
	Client *http.Client
	Now    func() time.Time // time.Now if nil
}

// SendSMS posts m to the webhook.
func (s *WebhookSender) SendSMS(ctx context.Context, m SMS) error {
	body, err := json.Marshal(map[string]string{"to": m.To, "body": m.Body, "id": m.Key})
	if err != nil {
		return &PermanentError{Err: err}
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	ts := strconv.FormatInt(now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return &PermanentError{Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Parley-Timestamp", ts)
	req.Header.Set("X-Parley-Signature", WebhookSignature(s.Secret, ts, body))
	if m.Key != "" {
		req.Header.Set("Idempotency-Key", m.Key)
	}
	return doSMS(s.Client, req)
}

// WebhookSignature is the X-Parley-Signature of body sent at ts.
func WebhookSignature(secret, ts string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// doSMS sends req and maps the answer: 2xx is sent; a 4xx other than 408
// and 429 is permanent, with the provider's message; anything else
// (5xx, timeouts, connection errors) may be retried.
func doSMS(c *http.Client, req *http.Request) error {
	if c == nil {
		c = smsClient
	}
	res, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("SMS provider: %w", err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 8<<10))
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		return nil
	}
	err = fmt.Errorf("SMS provider answered %d: %s", res.StatusCode, providerMessage(b))
	if res.StatusCode >= 400 && res.StatusCode < 500 && res.StatusCode != http.StatusRequestTimeout && res.StatusCode != http.StatusTooManyRequests {
		return &PermanentError{Err: err}
	}
	return err
}

// providerMessage is the "message" (Twilio) or "error" of a JSON answer,
// or the start of the body.
func providerMessage(b []byte) string {
	var j struct {
		Message string `json:"message"`
		Error   string `json:"error"`
	}
	if json.Unmarshal(b, &j) == nil {
		if j.Message != "" {
			return j.Message
		}
		if j.Error != "" {
			return j.Error
		}
	}
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 200 {
		s = s[:200]
	}
	if s == "" {
		return "(no message)"
	}
	return s
}
