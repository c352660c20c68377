package jobs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Email is one message to one person.
type Email struct {
	To        string // address
	ToName    string
	Subject   string
	Text      string // the text/plain part
	HTML      string // the text/html part
	MessageID string // "<…@…>", derived from the idempotency key
	Language  string // Content-Language
}

// Mailer sends an email. Send returns a *PermanentError when retrying can
// never succeed (the recipient is refused), any other error when a retry
// may.
type Mailer interface {
	Send(ctx context.Context, e Email) error
}

// PermanentError is a delivery that must not be retried.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return "permanent: " + e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// SMTPConfig is how to reach the outgoing mail server.
type SMTPConfig struct {
	Host     string
	Port     int
	Username string
	Password string
	From     string // "Name <address>" or an address
	TLS      string // "starttls", "tls" or "none"
	// Timeout bounds connecting and each command; 0 means 20 seconds.
	Timeout time.Duration
}

// SMTPMailer sends through an SMTP server with go-mail, one connection per
// email (Parley's volume is small; a pool would hide a dead server).
type SMTPMailer struct {
	cfg  SMTPConfig
	from *mail.Address
}

// NewSMTPMailer checks the configuration and returns a mailer.
func NewSMTPMailer(cfg SMTPConfig) (*SMTPMailer, error) {
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("SMTP From %q: %w", cfg.From, err)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 20 * time.Second
	}
	return &SMTPMailer{cfg: cfg, from: from}, nil
}

// Send delivers e. A malformed address or a 5xx refusal of the recipient is
// a *PermanentError; connection failures and 4xx answers are not.
func (m *SMTPMailer) Send(ctx context.Context, e Email) error {
	to, err := mail.ParseAddress(e.To)
	if err != nil {
		return &PermanentError{Err: fmt.Errorf("recipient address %q: %w", e.To, err)}
	}
	msg := gomail.NewMsg()
	if err := msg.FromFormat(m.from.Name, m.from.Address); err != nil {
		return &PermanentError{Err: fmt.Errorf("from address: %w", err)}
	}
	if err := msg.AddToFormat(e.ToName, to.Address); err != nil {
		return &PermanentError{Err: fmt.Errorf("recipient address %q: %w", e.To, err)}
	}
	msg.Subject(e.Subject)
	if e.MessageID != "" {
		msg.SetMessageIDWithValue(trimAngles(e.MessageID))
	}
	msg.SetDate()
	if e.Language != "" {
		msg.SetGenHeader("Content-Language", e.Language)
	}
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, e.Text)
	msg.AddAlternativeString(gomail.TypeTextHTML, e.HTML)

	opts := []gomail.Option{gomail.WithPort(m.cfg.Port), gomail.WithTimeout(m.cfg.Timeout)}
	switch m.cfg.TLS {
	case "tls":
		opts = append(opts, gomail.WithSSL())
	case "none":
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if m.cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(m.cfg.Username), gomail.WithPassword(m.cfg.Password))
	}
	c, err := gomail.NewClient(m.cfg.Host, opts...)
	if err != nil {
		return fmt.Errorf("SMTP client: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		var se *gomail.SendError
		if errors.As(err, &se) && se.Reason == gomail.ErrSMTPRcptTo && !se.IsTemp() && se.ErrorCode() >= 500 {
			return &PermanentError{Err: fmt.Errorf("send to %s: %w", to.Address, err)}
		}
		return fmt.Errorf("send to %s via %s:%d: %w", to.Address, m.cfg.Host, m.cfg.Port, err)
	}
	return nil
}

func trimAngles(s string) string {
	if len(s) > 2 && s[0] == '<' && s[len(s)-1] == '>' {
		return s[1 : len(s)-1]
	}
	return s
}

// messageID derives a stable Message-ID from an idempotency key: if a send
// is repeated after a crash between the server's acceptance and our commit,
// mail clients see the same id twice and show one message.
func messageID(key, host string) string {
	sum := sha256.Sum256([]byte(key))
	if host == "" {
		host = "parley.invalid"
	}
	return "<" + hex.EncodeToString(sum[:16]) + "@" + host + ">"
}
