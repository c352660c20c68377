package views

import (
	"context"
	"strings"

	"github.com/parleydesk/parley/models"
)

// CannedForm is the new/edit canned reply page: the reply being edited (nil
// for a new one), the teams the user may file it under, whether desk-wide
// is offered (admins), and the form.
type CannedForm struct {
	Reply   *models.CannedReply
	Teams   []models.Team
	CanDesk bool
	Form    Form
}

// CannedScopeValue is the scope select's value for r: "personal", "desk"
// or "team-<id>" (the handler reads it back with ParseCannedScope).
func CannedScopeValue(r *models.CannedReply) string {
	if r.Scope == models.CannedTeam && r.TeamID != nil {
		return "team-" + idString(*r.TeamID)
	}
	return r.Scope
}

// CannedFormValues fills the form with r's fields.
func CannedFormValues(r *models.CannedReply) map[string]string {
	return map[string]string{"title": r.Title, "shortcut": r.Shortcut, "body": r.Body, "url": r.URL, "scope": CannedScopeValue(r)}
}

// cannedScopeText says who can use r.
func cannedScopeText(ctx context.Context, r *models.CannedReply) string {
	switch r.Scope {
	case models.CannedPersonal:
		return T(ctx, "canned.scope_personal")
	case models.CannedTeam:
		if r.Team != nil {
			return T(ctx, "canned.scope_team_named", map[string]any{"Team": r.Team.Name})
		}
		return T(ctx, "canned.scope_team")
	}
	return T(ctx, "canned.scope_desk")
}

// cannedPlaceholderList is the placeholders as they are typed.
func cannedPlaceholderList() string {
	return "{{" + strings.Join(models.Placeholders, "}}, {{") + "}}"
}

// cannedSearchText is what the picker filters on: title, shortcut and body.
func cannedSearchText(r *models.CannedReply) string {
	return strings.ToLower(r.Title + "\n#" + r.Shortcut + "\n" + r.Body)
}

// cannedPreview is the first line of a body, shortened.
func cannedPreview(body string) string {
	line, _, _ := strings.Cut(body, "\n")
	if r := []rune(line); len(r) > 90 {
		return string(r[:89]) + "…"
	}
	return line
}

func cannedFormTitle(ctx context.Context, d CannedForm) string {
	if d.Reply == nil {
		return T(ctx, "canned.new")
	}
	return T(ctx, "canned.edit")
}

func cannedFormAction(d CannedForm) string {
	if d.Reply == nil {
		return "/canned"
	}
	return "/canned/" + idString(d.Reply.ID)
}
