package views

import (
	"context"
	"fmt"

	"github.com/a-h/templ"
	"github.com/parleydesk/parley/models"
)

func ariaBool(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// currentAttr marks the navigation link for the page being shown.
func currentAttr(path, href string) string {
	if path == href || (href != "/" && len(path) > len(href) && path[:len(href)] == href && path[len(href)] == '/') {
		return "page"
	}
	return "false"
}

func agentFormTitle(ctx context.Context, u *models.User) string {
	if u == nil {
		return T(ctx, "agents.new")
	}
	return u.Name
}

func agentFormAction(u *models.User) templ.SafeURL {
	if u == nil {
		return "/admin/agents"
	}
	return templ.SafeURL(fmt.Sprintf("/admin/agents/%d", u.ID))
}
