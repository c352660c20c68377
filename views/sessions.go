package views

import (
	"context"
	"strings"
	"time"

	"github.com/parleydesk/parley/models"
)

type sessionsKey struct{}

type sessionsConf struct {
	base string
	sms  bool
}

// WithSessionsConf returns ctx carrying what the support-session panel
// needs of the configuration: how browsers reach Parley (the join link is
// shown absolute, to be copied) and whether SMS is configured.
func WithSessionsConf(ctx context.Context, base string, sms bool) context.Context {
	return context.WithValue(ctx, sessionsKey{}, sessionsConf{base: strings.TrimRight(base, "/"), sms: sms})
}

func sessionsConfOf(ctx context.Context) sessionsConf {
	c, _ := ctx.Value(sessionsKey{}).(sessionsConf)
	return c
}

// SupportLink is the join link of a support key: absolute when the page
// was given the base URL (WithSessionsConf), else a path.
func SupportLink(ctx context.Context, key string) string {
	return sessionsConfOf(ctx).base + "/s/" + key
}

// inviteLine is an invitation's state for the team.
func inviteLine(ctx context.Context, inv models.SupportInvitation) string {
	d := map[string]any{"To": inv.Address, "Error": inv.Error}
	sms := inv.Channel == models.InviteSMS
	switch {
	case inv.Status == "sent" && sms:
		return T(ctx, "sessions.invite_sent_sms", d)
	case inv.Status == "sent":
		return T(ctx, "sessions.invite_sent_email", d)
	case inv.Status == "failed" && sms:
		return T(ctx, "sessions.invite_failed_sms", d)
	case inv.Status == "failed":
		return T(ctx, "sessions.invite_failed_email", d)
	case sms:
		return T(ctx, "sessions.invite_queued_sms", d)
	}
	return T(ctx, "sessions.invite_queued_email", d)
}

// supportKeyText shows a key in two groups of three digits, easier to read
// out over the phone; customers may type it with or without the space.
func supportKeyText(key string) string {
	if len(key) == models.SupportKeyLen {
		return key[:3] + " " + key[3:]
	}
	return key
}

// sessionState is a support session's state for the team.
func sessionState(ctx context.Context, s *models.SupportSession) string {
	switch {
	case s.EndedAt != nil:
		return T(ctx, "sessions.state_ended")
	case s.JoinedAt != nil:
		return T(ctx, "sessions.state_joined")
	case !s.Live(now()):
		return T(ctx, "sessions.state_expired")
	}
	return T(ctx, "sessions.state_waiting")
}

// sessionSystemText is a support session's status line for the team.
func sessionSystemText(ctx context.Context, m *models.Message) (string, bool) {
	by, _ := m.EventData["by"].(string)
	switch m.Event {
	case models.SysSessionCreated:
		return T(ctx, "sessions.system_created", map[string]any{"By": by}), true
	case models.SysSessionEnded:
		return T(ctx, "sessions.system_ended", map[string]any{"By": by}), true
	case models.SysInviteSent, models.SysInviteFailed:
		ch, _ := m.EventData["channel"].(string)
		if ch != models.InviteSMS {
			ch = models.InviteEmail
		}
		to, _ := m.EventData["to"].(string)
		msg, _ := m.EventData["error"].(string)
		status := "sent"
		if m.Event == models.SysInviteFailed {
			status = "failed"
		}
		return inviteLine(ctx, models.SupportInvitation{Channel: ch, Address: to, Error: msg, Status: status}), true
	case models.SysSessionJoined:
		via, _ := m.EventData["via"].(string)
		browser, _ := m.EventData["browser"].(string)
		os, _ := m.EventData["os"].(string)
		where := T(ctx, "sessions.via_key")
		if via == models.ChannelLink {
			where = T(ctx, "sessions.via_link")
		}
		device := strings.TrimSpace(strings.Join([]string{browser, os}, " · "))
		if browser == "" || os == "" {
			device = strings.Trim(device, " ·")
		}
		if device == "" {
			device = T(ctx, "session.unknown")
		}
		return T(ctx, "sessions.system_joined", map[string]any{"Via": where, "Device": device}), true
	}
	return "", false
}

// sessionCustomerLine is a support session's status line for the customer.
func sessionCustomerLine(ctx context.Context, m *models.Message) (string, bool) {
	if m.Event == models.SysSessionEnded {
		return T(ctx, "sessions.widget_ended"), true
	}
	return "", false
}

// SessionInviteSubject is the subject of a SessionInviteMail.
func SessionInviteSubject(ctx context.Context, m SessionInviteMail) string {
	return oneLine(T(ctx, "sessions.mail_subject", map[string]any{"Desk": m.Desk}))
}

func sessionInviteIntro(ctx context.Context, m SessionInviteMail) string {
	if m.Agent == "" {
		return T(ctx, "sessions.mail_intro_desk", map[string]any{"Desk": m.Desk})
	}
	return T(ctx, "sessions.mail_intro", map[string]any{"Agent": m.Agent, "Desk": m.Desk})
}

// SessionInviteText is the text/plain part of a SessionInviteMail.
func SessionInviteText(ctx context.Context, m SessionInviteMail) string {
	return sessionInviteIntro(ctx, m) + "\n\n" +
		T(ctx, "sessions.join") + ": " + m.Link + "\n\n" +
		T(ctx, "sessions.mail_or_key", map[string]any{"URL": m.SupportURL}) + " " + supportKeyText(m.Key) + "\n\n" +
		T(ctx, "sessions.mail_expires", map[string]any{"Count": m.Minutes}) + "\n"
}

// SessionInviteSMS is the text of an SMS invitation: short, one link.
func SessionInviteSMS(ctx context.Context, m SessionInviteMail) string {
	return oneLine(T(ctx, "sessions.sms_text", map[string]any{"Desk": m.Desk, "Link": m.Link, "Key": supportKeyText(m.Key)}))
}

func now() time.Time { return time.Now() }
