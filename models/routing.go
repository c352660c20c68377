package models

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Routing rules send a new customer conversation to a team's queue: the
// first rule (by position) whose every condition holds wins; a rule without
// conditions catches everything. The widget has no pre-chat choice (its
// form asks for a message, a name and an email only), so rules test what a
// conversation starts with: the page the widget was opened on and the
// browser's language.

// URL conditions of a routing rule.
const (
	URLContains = "contains" // the page URL contains the value
	// URLPrefix: the page URL starts with the value (https://… or
	// http://…), or its path does (a value starting with "/").
	URLPrefix = "prefix"
)

// MaxRoutingRules bounds the list: every new conversation reads it.
const MaxRoutingRules = 200

// RoutingRule is one routing rule, with its team's name.
type RoutingRule struct {
	ID        int64
	Position  int
	TeamID    int64
	TeamName  string `gorm:"->;-:migration"`
	URLMatch  string
	URLValue  string
	Language  string
	CreatedAt time.Time
}

// RoutingRuleInput is what the admin form sends.
type RoutingRuleInput struct {
	TeamID   int64
	URLMatch string
	URLValue string
	Language string
}

var languageTagRe = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$`)

// Matches reports whether conv meets every condition of r.
func (r *RoutingRule) Matches(conv *Conversation) bool {
	if r.Language != "" {
		lang := strings.ToLower(conv.Language)
		want := strings.ToLower(r.Language)
		if lang != want && !strings.HasPrefix(lang, want+"-") {
			return false
		}
	}
	if r.URLMatch == "" {
		return true
	}
	page := strings.ToLower(conv.PageURL)
	want := strings.ToLower(r.URLValue)
	switch r.URLMatch {
	case URLContains:
		return strings.Contains(page, want)
	case URLPrefix:
		if strings.HasPrefix(want, "/") {
			u, err := url.Parse(conv.PageURL)
			if err != nil || u.Host == "" {
				return false
			}
			return strings.HasPrefix(strings.ToLower(u.RequestURI()), want)
		}
		return strings.HasPrefix(page, want)
	}
	return false
}

// covers reports whether every conversation b matches is matched by a too,
// so that b, placed after a, can never match.
func (a *RoutingRule) covers(b *RoutingRule) bool {
	if a.Language != "" {
		al, bl := strings.ToLower(a.Language), strings.ToLower(b.Language)
		if bl == "" || (al != bl && !strings.HasPrefix(bl, al+"-")) {
			return false
		}
	}
	if a.URLMatch == "" {
		return true
	}
	if b.URLMatch == "" {
		return false
	}
	av, bv := strings.ToLower(a.URLValue), strings.ToLower(b.URLValue)
	switch {
	case a.URLMatch == URLContains:
		// Every URL containing b's value, or starting with it, contains a's.
		return strings.Contains(bv, av)
	case b.URLMatch == URLContains:
		return false
	case strings.HasPrefix(av, "/") == strings.HasPrefix(bv, "/"):
		return strings.HasPrefix(bv, av)
	case strings.HasPrefix(av, "/"):
		// a tests the path, b the whole URL: b's path part starts with it?
		rest := bv[strings.Index(bv, "://")+3:]
		if i := strings.Index(rest, "/"); i >= 0 {
			return strings.HasPrefix(rest[i:], av)
		}
	}
	return false
}

// normalize trims in and checks each condition can ever hold: a
// ValidationError names the field that never matches.
func (in *RoutingRuleInput) normalize() (*RoutingRule, error) {
	v := &ValidationError{}
	r := &RoutingRule{TeamID: in.TeamID, URLMatch: strings.TrimSpace(in.URLMatch),
		URLValue: strings.TrimSpace(in.URLValue), Language: strings.TrimSpace(in.Language)}
	if r.TeamID <= 0 {
		v.Add("team_id", "routing_team_unknown", nil)
	}
	switch r.URLMatch {
	case "":
		if r.URLValue != "" {
			v.Add("url_match", "routing_url_match_required", nil)
		}
	case URLContains, URLPrefix:
		switch {
		case r.URLValue == "":
			v.Add("url_value", "routing_url_value_required", nil)
		case len([]rune(r.URLValue)) > 2000 || strings.ContainsAny(r.URLValue, " \t\r\n"):
			// Pages are recorded as the browser's address, at most 2,000
			// characters, spaces escaped: this can never be in one.
			v.Add("url_value", "routing_url_never_matches", nil)
		case r.URLMatch == URLPrefix && !strings.HasPrefix(r.URLValue, "/") &&
			!strings.HasPrefix(strings.ToLower(r.URLValue), "https://") && !strings.HasPrefix(strings.ToLower(r.URLValue), "http://"):
			v.Add("url_value", "routing_prefix_never_matches", nil)
		}
	default:
		v.Add("url_match", "routing_url_match_invalid", nil)
	}
	if r.Language != "" && !languageTagRe.MatchString(r.Language) {
		v.Add("language", "routing_language_never_matches", nil)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return r, nil
}

// ListRoutingRules returns the rules in order, with their teams' names.
func ListRoutingRules(ctx context.Context, db *gorm.DB) ([]RoutingRule, error) {
	var rs []RoutingRule
	err := db.WithContext(ctx).Raw(`SELECT r.*, t.name AS team_name FROM routing_rules r JOIN teams t ON t.id = r.team_id
		ORDER BY r.position, r.id`).Scan(&rs).Error
	if err != nil {
		return nil, fmt.Errorf("list routing rules: %w", err)
	}
	return rs, nil
}

// lockRoutingRules serialises changes to the rules (rare: admins), so each
// change checks the order it leaves against every other rule.
func lockRoutingRules(tx *gorm.DB) error {
	return tx.Exec("LOCK TABLE routing_rules IN SHARE ROW EXCLUSIVE MODE").Error
}

// shadowed returns the first rule of rs (in order) that an earlier one
// covers, and that earlier rule.
func shadowed(rs []RoutingRule) (later, earlier *RoutingRule) {
	for j := range rs {
		for i := range j {
			if rs[i].covers(&rs[j]) {
				return &rs[j], &rs[i]
			}
		}
	}
	return nil, nil
}

// shadowError says which earlier rule makes a rule unreachable (1-based
// places, as the admin page numbers them).
func shadowError(rs []RoutingRule, earlier *RoutingRule) error {
	for i := range rs {
		if rs[i].ID == earlier.ID {
			return Invalid("rule", "routing_rule_shadowed", map[string]any{"Number": i + 1, "Team": earlier.TeamName})
		}
	}
	return Invalid("rule", "routing_rule_shadowed", map[string]any{"Number": 0, "Team": earlier.TeamName})
}

// CreateRoutingRule adds a rule at the end of the list. A rule naming a
// team that does not exist (deleted meanwhile), with a condition that can
// never hold, or that an earlier rule already catches entirely is a
// ValidationError, and nothing is stored.
func CreateRoutingRule(ctx context.Context, t Tx, by *User, in RoutingRuleInput) (*RoutingRule, error) {
	if !by.IsAdmin() {
		return nil, ErrForbidden
	}
	r, err := in.normalize()
	if err != nil {
		return nil, err
	}
	err = t.run(ctx, func(tx *gorm.DB) error {
		if err := lockRoutingRules(tx); err != nil {
			return err
		}
		// FOR KEY SHARE: the team cannot be deleted before this commits.
		if err := tx.Raw("SELECT name FROM teams WHERE id = ? FOR KEY SHARE", r.TeamID).Scan(&r.TeamName).Error; err != nil {
			return err
		}
		if r.TeamName == "" {
			return Invalid("team_id", "routing_team_unknown", nil)
		}
		rs, err := ListRoutingRules(ctx, tx)
		if err != nil {
			return err
		}
		if len(rs) >= MaxRoutingRules {
			return Invalid("rule", "routing_too_many", map[string]any{"Max": MaxRoutingRules})
		}
		r.Position = 1
		if len(rs) > 0 {
			r.Position = rs[len(rs)-1].Position + 1
		}
		if _, earlier := shadowed(append(rs, *r)); earlier != nil {
			return shadowError(rs, earlier)
		}
		if err := tx.Select("Position", "TeamID", "URLMatch", "URLValue", "Language").Create(r).Error; err != nil {
			return err
		}
		return appendEvent(t, Event{Data: RoutingEvent{RuleID: r.ID, Change: "added", ByUserID: by.ID}})
	})
	if err != nil {
		return nil, wrapUnlessDomain(err, "create routing rule")
	}
	return r, nil
}

// DeleteRoutingRule removes a rule.
func DeleteRoutingRule(ctx context.Context, t Tx, by *User, id int64) error {
	if !by.IsAdmin() {
		return ErrForbidden
	}
	err := t.run(ctx, func(tx *gorm.DB) error {
		if err := lockRoutingRules(tx); err != nil {
			return err
		}
		res := tx.Exec("DELETE FROM routing_rules WHERE id = ?", id)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return appendEvent(t, Event{Data: RoutingEvent{RuleID: id, Change: "deleted", ByUserID: by.ID}})
	})
	return wrapUnlessDomain(err, "delete routing rule %d", id)
}

// MoveRoutingRule swaps a rule with the one above (up) or below it. A move
// that would put a rule after one that catches all it would is a
// ValidationError; nothing moves.
func MoveRoutingRule(ctx context.Context, t Tx, by *User, id int64, up bool) error {
	if !by.IsAdmin() {
		return ErrForbidden
	}
	err := t.run(ctx, func(tx *gorm.DB) error {
		if err := lockRoutingRules(tx); err != nil {
			return err
		}
		rs, err := ListRoutingRules(ctx, tx)
		if err != nil {
			return err
		}
		i := -1
		for k := range rs {
			if rs[k].ID == id {
				i = k
			}
		}
		if i < 0 {
			return ErrNotFound
		}
		j := i + 1
		if up {
			j = i - 1
		}
		if j < 0 || j >= len(rs) {
			return nil // already first or last
		}
		rs[i], rs[j] = rs[j], rs[i]
		if _, earlier := shadowed(rs); earlier != nil {
			return shadowError(rs, earlier)
		}
		pi, pj := rs[j].Position, rs[i].Position // rs[j] is the moved rule
		if err := tx.Exec("UPDATE routing_rules SET position = ? WHERE id = ?", pj, rs[j].ID).Error; err != nil {
			return err
		}
		if err := tx.Exec("UPDATE routing_rules SET position = ? WHERE id = ?", pi, rs[i].ID).Error; err != nil {
			return err
		}
		return appendEvent(t, Event{Data: RoutingEvent{RuleID: id, Change: "moved", ByUserID: by.ID}})
	})
	return wrapUnlessDomain(err, "move routing rule %d", id)
}

// routeNewConversation applies the rules to a conversation being created
// in t: the first match puts it in its team's queue (a staff-only status
// line and a Transferred event), then auto-assign tries the team's agents.
func routeNewConversation(ctx context.Context, t Tx, conv *Conversation) error {
	rs, err := ListRoutingRules(ctx, t.db)
	if err != nil {
		return err
	}
	for i := range rs {
		if !rs[i].Matches(conv) {
			continue
		}
		return putInTeam(ctx, t, conv, nil, rs[i].TeamID, rs[i].TeamName, SysRouted)
	}
	return nil
}
