package views

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/parleydesk/parley/models"
)

// rtcKindName names a kind of media session ("Screen sharing", "Call" …).
func rtcKindName(ctx context.Context, kind string) string {
	switch kind {
	case models.RTCScreen:
		return T(ctx, "rtc.kind_screen")
	case models.RTCAgentScreen:
		return T(ctx, "rtc.kind_agent_screen")
	case models.RTCAudio:
		return T(ctx, "rtc.kind_audio")
	case models.RTCVideo:
		return T(ctx, "rtc.kind_video")
	}
	return kind
}

// rtcDuration is a session's length as "m:ss" (or "h:mm:ss").
func rtcDuration(d time.Duration) string {
	s := int64(d / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// rtcReason says why a session ended or was declined ("" when nothing
// special: a plain hang-up or decline).
func rtcReason(ctx context.Context, reason string) string {
	switch reason {
	case "cancelled":
		return T(ctx, "rtc.reason_cancelled")
	case "no_answer":
		return T(ctx, "rtc.reason_no_answer")
	case "failed":
		return T(ctx, "rtc.reason_failed")
	case "left":
		return T(ctx, "rtc.reason_left")
	case "denied":
		return T(ctx, "rtc.reason_denied")
	case "unsupported":
		return T(ctx, "rtc.reason_unsupported")
	case models.ReasonAbandoned:
		return T(ctx, "rtc2.reason_abandoned")
	}
	return ""
}

// rtcOutcome is a session's line in the panel's history.
func rtcOutcome(ctx context.Context, s *models.RTCSession) string {
	switch s.State {
	case models.RTCRequested, models.RTCAccepted, models.RTCStarted:
		return rtcDeskState(ctx, s)
	case models.RTCDeclined:
		if r := rtcReason(ctx, s.EndReason); r != "" {
			return T(ctx, "rtc.outcome_declined") + " (" + r + ")"
		}
		return T(ctx, "rtc.outcome_declined")
	}
	out := T(ctx, "rtc.outcome_ended")
	if s.StartedAt != nil {
		out += " · " + rtcDuration(s.Duration())
	}
	if r := rtcReason(ctx, s.EndReason); r != "" {
		out += " (" + r + ")"
	}
	return out
}

// rtcDeskState is the running session's state, as the desk shows it.
func rtcDeskState(ctx context.Context, s *models.RTCSession) string {
	data := map[string]any{"Kind": rtcKindName(ctx, s.Kind), "By": s.UserName}
	switch {
	case s.ByCustomer && s.State == models.RTCRequested:
		return T(ctx, "rtc2.state_ringing", data)
	case s.IsCall() && len(s.Members) > 1:
		data["Count"] = len(s.Members) + 1
		return T(ctx, "rtc2.state_conference", data)
	}
	switch s.State {
	case models.RTCRequested:
		return T(ctx, "rtc.state_requested", data)
	case models.RTCAccepted:
		return T(ctx, "rtc.state_accepted", data)
	}
	return T(ctx, "rtc.state_started", data)
}

// rtcStopLabel is the Stop button of a running session.
func rtcStopLabel(ctx context.Context, s *models.RTCSession) string {
	switch {
	case s.State == models.RTCRequested:
		return T(ctx, "rtc.cancel")
	case s.Kind == models.RTCAudio || s.Kind == models.RTCVideo:
		return T(ctx, "rtc.hang_up")
	}
	return T(ctx, "rtc.stop_sharing")
}

// rtcAsk is the request the customer answers.
func rtcAsk(ctx context.Context, s *models.RTCSession) string {
	data := map[string]any{"Name": s.UserName}
	switch s.Kind {
	case models.RTCScreen:
		return T(ctx, "rtc.ask_screen_customer", data)
	case models.RTCAgentScreen:
		return T(ctx, "rtc.ask_agent_screen", data)
	case models.RTCVideo:
		return T(ctx, "rtc.ask_video", data)
	}
	return T(ctx, "rtc.ask_audio", data)
}

// rtcAcceptLabel is the customer's Accept button for the request.
func rtcAcceptLabel(ctx context.Context, s *models.RTCSession) string {
	switch s.Kind {
	case models.RTCScreen:
		return T(ctx, "rtc.accept_screen")
	case models.RTCAgentScreen:
		return T(ctx, "rtc.accept_agent_screen")
	case models.RTCVideo:
		return T(ctx, "rtc.accept_video")
	}
	return T(ctx, "rtc.accept_audio")
}

// rtcLiveLabel is the customer's bar while a session runs: sharing their
// screen must always be plain to see.
func rtcLiveLabel(ctx context.Context, s *models.RTCSession) string {
	if s.State == models.RTCAccepted {
		return T(ctx, "rtc.connecting")
	}
	data := map[string]any{"Name": s.UserName}
	switch s.Kind {
	case models.RTCScreen:
		return T(ctx, "rtc.live_screen", data)
	case models.RTCAgentScreen:
		return T(ctx, "rtc.live_agent_screen", data)
	case models.RTCVideo:
		return T(ctx, "rtc.live_video", data)
	}
	return T(ctx, "rtc.live_audio", data)
}

// rtcSystemText is a media session's status line: for the team (customer
// false), or for the customer, where the agent's name is what the desk
// lets them see (models.CustomerLineActor).
func rtcSystemText(ctx context.Context, m *models.Message, customer bool, desk string) (string, bool) {
	kind, _ := m.EventData["kind"].(string)
	byCustomer, _ := m.EventData["by_customer"].(bool)
	bySystem, _ := m.EventData["by_system"].(bool)
	by, _ := m.EventData["by"].(string)
	if customer {
		by = models.CustomerLineActor(m, desk)
	}
	if byCustomer {
		if customer {
			by = T(ctx, "widget.you")
		} else {
			by = T(ctx, "desk.customer")
		}
	}
	data := map[string]any{"By": by, "Kind": rtcKindName(ctx, kind)}
	reason, _ := m.EventData["reason"].(string)
	why := ""
	if r := rtcReason(ctx, reason); r != "" {
		why = " (" + r + ")"
	}
	if bySystem && m.Event == models.SysRTCEnded {
		// The reaper (models/rtc_reap.go): a missed call, a request nobody
		// answered, a session everybody dropped out of.
		switch {
		case reason == models.ReasonNoAnswer && kind == models.RTCVideo:
			return T(ctx, "rtc2.line_missed_video"), true
		case reason == models.ReasonNoAnswer && kind == models.RTCAudio:
			return T(ctx, "rtc2.line_missed_call"), true
		case reason == models.ReasonNoAnswer:
			return T(ctx, "rtc2.line_unanswered", data), true
		}
		return T(ctx, "rtc2.line_abandoned", data), true
	}
	switch m.Event {
	case models.SysRTCJoined:
		return T(ctx, "rtc2.line_joined", data), true
	case models.SysRTCLeft:
		return T(ctx, "rtc2.line_left", data), true
	case models.SysRTCRequested:
		if byCustomer && customer {
			return T(ctx, "rtc2.line_you_called", data), true
		}
		if byCustomer {
			return T(ctx, "rtc2.line_customer_called", data), true
		}
		return T(ctx, "rtc.line_requested", data), true
	case models.SysRTCAccepted:
		return T(ctx, "rtc.line_accepted", data), true
	case models.SysRTCDeclined:
		return T(ctx, "rtc.line_declined", data) + why, true
	case models.SysRTCStarted:
		return T(ctx, "rtc.line_started", data), true
	case models.SysRTCEnded:
		var secs float64
		switch v := m.EventData["seconds"].(type) {
		case float64:
			secs = v
		case int64:
			secs = float64(v)
		}
		if secs > 0 {
			data["Duration"] = rtcDuration(time.Duration(secs) * time.Second)
			return T(ctx, "rtc.line_ended_after", data) + why, true
		}
		return T(ctx, "rtc.line_ended", data) + why, true
	}
	return "", false
}

// rtcPeers are the signalling names of everyone in s now (the customer
// first), for rtc.js's mesh.
func rtcPeers(s *models.RTCSession) string {
	peers := []string{models.PeerCustomer}
	seen := map[string]bool{}
	for _, m := range s.Members {
		peers = append(peers, m.Peer())
		seen[m.Peer()] = true
	}
	if p := s.AgentPeer(); p != "" && !seen[p] {
		peers = append(peers, p)
	}
	return strings.Join(peers, " ")
}

// rtcMemberNames are the names of the agents in a call.
func rtcMemberNames(s *models.RTCSession) string {
	names := make([]string, 0, len(s.Members))
	for _, m := range s.Members {
		names = append(names, m.Name)
	}
	return strings.Join(names, ", ")
}

// rtcCustomerName is the conversation's customer as the desk names them.
func rtcCustomerName(ctx context.Context, conv *models.Conversation) string {
	if conv.Customer != nil {
		if n := conv.Customer.DisplayName(); n != "" {
			return n
		}
	}
	return T(ctx, "desk.customer")
}

// rtcRingText is the desk's alert of a customer's call.
func rtcRingText(ctx context.Context, conv *models.Conversation, s *models.RTCSession) string {
	data := map[string]any{"Name": rtcCustomerName(ctx, conv)}
	if s.Kind == models.RTCVideo {
		return T(ctx, "rtc2.ringing_video", data)
	}
	return T(ctx, "rtc2.ringing", data)
}

func boolString(b bool) string { return strconv.FormatBool(b) }
