package views

import (
	"context"
	"strings"
	"time"

	"github.com/parleydesk/parley/models"
)

type baseURLKey struct{}

// WithBaseURL returns ctx carrying how browsers reach Parley, for the
// absolute links pages show to be copied (a support session's join link).
func WithBaseURL(ctx context.Context, base string) context.Context {
	return context.WithValue(ctx, baseURLKey{}, strings.TrimRight(base, "/"))
}

// SupportLink is the join link of a support key: absolute when the page
// was given the base URL (WithBaseURL), else a path.
func SupportLink(ctx context.Context, key string) string {
	base, _ := ctx.Value(baseURLKey{}).(string)
	return base + "/s/" + key
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
	case !s.Live(time.Now()):
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
