package views

import (
	"context"
	"strconv"

	"github.com/parleydesk/parley/models"
)

// cobrowseSystemText is a co-browsing status line as staff see it.
func cobrowseSystemText(ctx context.Context, m *models.Message) (string, bool) {
	by, _ := m.EventData["by"].(string)
	if by == "" {
		by = T(ctx, "desk.customer")
	}
	switch m.Event {
	case models.SysCobrowseRequested:
		return T(ctx, "cobrowse.system_requested", map[string]any{"By": by}), true
	case models.SysCobrowseAccepted:
		return T(ctx, "cobrowse.system_accepted", map[string]any{"By": by}), true
	case models.SysCobrowseDeclined:
		return T(ctx, "cobrowse.system_declined", map[string]any{"By": by}), true
	case models.SysCobrowseStarted:
		return T(ctx, "cobrowse.system_started"), true
	case models.SysCobrowseEnded:
		if sys, _ := m.EventData["by_system"].(bool); sys {
			// Ended by the reaper (models/rtc_reap.go).
			if r, _ := m.EventData["reason"].(string); r == models.ReasonNoAnswer {
				return T(ctx, "rtc2.cobrowse_unanswered"), true
			}
			return T(ctx, "rtc2.cobrowse_abandoned"), true
		}
		return T(ctx, "cobrowse.system_ended", map[string]any{"By": by}), true
	}
	return "", false
}

// cobrowseCustomerLine is a co-browsing status line as the customer sees
// it: every step of what is asked of them and what runs.
func cobrowseCustomerLine(ctx context.Context, m *models.Message) (string, bool) {
	switch m.Event {
	case models.SysCobrowseRequested:
		return T(ctx, "cobrowse.widget_requested"), true
	case models.SysCobrowseAccepted:
		return T(ctx, "cobrowse.widget_accepted"), true
	case models.SysCobrowseDeclined:
		return T(ctx, "cobrowse.widget_declined"), true
	case models.SysCobrowseStarted:
		return T(ctx, "cobrowse.widget_started"), true
	case models.SysCobrowseEnded:
		return T(ctx, "cobrowse.widget_ended"), true
	}
	return "", false
}

func cobrowseBase(pid string) string { return "/conversations/" + pid + "/cobrowse" }

func cobrowseURL(pid string, s *models.CobrowseSession, action string) string {
	return cobrowseBase(pid) + "/" + s.PublicID + "/" + action
}

func widgetCobrowseURL(pid string, s *models.CobrowseSession, action string) string {
	return "/widget/conversations/" + pid + "/cobrowse/" + s.PublicID + "/" + action
}

func cobrowseState(s *models.CobrowseSession) string {
	if s == nil {
		return ""
	}
	return s.State
}

func cobrowsePID(s *models.CobrowseSession) string {
	if s == nil {
		return ""
	}
	return s.PublicID
}

func cobrowseItoa(n int64) string { return strconv.FormatInt(n, 10) }
