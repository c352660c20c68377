package views

import (
	"context"
	"net/url"
	"strconv"

	"github.com/parleydesk/parley/models"
)

// availabilityOf is an agent's availability, away unless online.
func availabilityOf(a string) string {
	if a == models.AvailabilityOnline {
		return models.AvailabilityOnline
	}
	return models.AvailabilityAway
}

// otherAvailability is what the switch sets: the other state.
func otherAvailability(a string) string {
	if availabilityOf(a) == models.AvailabilityOnline {
		return models.AvailabilityAway
	}
	return models.AvailabilityOnline
}

func availabilityText(ctx context.Context, a string) string {
	if availabilityOf(a) == models.AvailabilityOnline {
		return T(ctx, "teams.availability_online")
	}
	return T(ctx, "teams.availability_away")
}

// loadText is an agent's open conversations, out of their capacity if
// they have one.
func loadText(ctx context.Context, load, capacity int) string {
	if capacity == 0 {
		return T(ctx, "teams.load", map[string]any{"Count": load})
	}
	return T(ctx, "teams.load_of", map[string]any{"Count": load, "Max": capacity})
}

// agentOption names an agent in the transfer menu, saying when they are
// away.
func agentOption(ctx context.Context, u models.User) string {
	if availabilityOf(u.Availability) == models.AvailabilityAway {
		return T(ctx, "teams.agent_away", map[string]any{"Name": u.Name})
	}
	return u.Name
}

// listPath is a list's page (the section's path).
func listPath(q models.InboxQuery) string {
	if q.Section == models.SectionCustomers {
		return "/inbox"
	}
	return "/mine"
}

// teamFilterHidden are the list's other parameters, which the team filter's
// GET form keeps (its first page: no cursor).
func teamFilterHidden(l ListState) url.Values {
	q := l.Query
	q.Before, q.Team = nil, 0
	v := q.Values()
	v.Del("list")
	return v
}

// ruleText says what a routing rule tests, in the viewer's language.
func ruleText(ctx context.Context, r *models.RoutingRule) string {
	var parts []string
	switch r.URLMatch {
	case models.URLContains:
		parts = append(parts, T(ctx, "teams.rule_url_contains", map[string]any{"Value": r.URLValue}))
	case models.URLPrefix:
		parts = append(parts, T(ctx, "teams.rule_url_prefix", map[string]any{"Value": r.URLValue}))
	}
	if r.Language != "" {
		parts = append(parts, T(ctx, "teams.rule_language", map[string]any{"Value": r.Language}))
	}
	switch len(parts) {
	case 0:
		return T(ctx, "teams.rule_any")
	case 1:
		return parts[0]
	}
	return T(ctx, "teams.rule_and", map[string]any{"A": parts[0], "B": parts[1]})
}

type capacityFormKey struct{}

// WithCapacityForm carries the capacity form (values and errors) to the
// agent page, whose other forms come as arguments.
func WithCapacityForm(ctx context.Context, f Form) context.Context {
	return context.WithValue(ctx, capacityFormKey{}, f)
}

// CapacityForm is the form WithCapacityForm carried, or the agent's
// current capacity ("" for no limit).
func CapacityForm(ctx context.Context, u *models.User) Form {
	if f, ok := ctx.Value(capacityFormKey{}).(Form); ok {
		return f
	}
	v := ""
	if u.Capacity > 0 {
		v = strconv.Itoa(u.Capacity)
	}
	return NewForm(map[string]string{"capacity": v}, nil)
}

// teamLineText is a team status line (routed, transferred, auto-assigned).
func teamLineText(ctx context.Context, m *models.Message) (string, bool) {
	str := func(k string) string { s, _ := m.EventData[k].(string); return s }
	d := map[string]any{"By": str("by"), "To": str("to"), "Team": str("team")}
	switch m.Event {
	case models.SysRouted:
		return T(ctx, "teams.system_routed", d), true
	case models.SysAutoAssigned:
		return T(ctx, "teams.system_auto_assigned", d), true
	case models.SysTransferred:
		if str("to") != "" {
			return T(ctx, "teams.system_transferred_agent", d), true
		}
		return T(ctx, "teams.system_transferred_team", d), true
	}
	return "", false
}

type transferFormKey struct{}

// WithTransferForm carries a refused transfer (values and errors) to the
// conversation page.
func WithTransferForm(ctx context.Context, f Form) context.Context {
	return context.WithValue(ctx, transferFormKey{}, f)
}

// TransferFormOf is the form WithTransferForm carried, or an empty one.
func TransferFormOf(ctx context.Context) Form {
	f, _ := ctx.Value(transferFormKey{}).(Form)
	return f
}
