package app

import (
	"github.com/parleydesk/parley/jobs"
)

// newMailer builds the SMTP mailer of the configuration; nil (email
// disabled) when no SMTP host is set.
func newMailer(c SMTPConfig) (jobs.Mailer, error) {
	if c.Host == "" {
		return nil, nil
	}
	m, err := jobs.NewSMTPMailer(jobs.SMTPConfig{
		Host: c.Host, Port: c.Port, Username: c.Username, Password: c.Password, From: c.From, TLS: c.TLS,
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// emailEnabled reports whether Parley sends email.
func (a *App) emailEnabled() bool { return a.cfg.SMTP.Host != "" }
