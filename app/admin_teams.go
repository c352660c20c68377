package app

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

func (a *App) listTeams(c echo.Context) error {
	return a.renderTeams(c, http.StatusOK, views.NewForm(nil, nil))
}

func (a *App) renderTeams(c echo.Context, status int, f views.Form) error {
	teams, err := models.ListTeams(ctxOf(c), a.db)
	if err != nil {
		return err
	}
	return a.render(c, status, views.TeamsPage(teams, f))
}

func (a *App) createTeam(c echo.Context) error {
	name := c.FormValue("name")
	t, err := models.CreateTeam(ctxOf(c), a.db, name)
	if isValidation(err) {
		return a.renderTeams(c, http.StatusUnprocessableEntity, views.NewForm(map[string]string{"name": name}, err))
	}
	if err != nil {
		return err
	}
	a.toast(c, "success", tr(c, "teams.created", map[string]any{"Name": t.Name}))
	return a.redirect(c, fmt.Sprintf("/admin/teams/%d", t.ID))
}

func (a *App) showTeam(c echo.Context) error {
	return a.renderTeam(c, http.StatusOK, nil, nil)
}

// renderTeam shows a team page; form carries a rejected rename.
func (a *App) renderTeam(c echo.Context, status int, values map[string]string, formErr error) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	t, err := models.FindTeam(ctxOf(c), a.db, id)
	if err != nil {
		return err
	}
	users, err := models.ListUsers(ctxOf(c), a.db)
	if err != nil {
		return err
	}
	member := map[int64]bool{}
	for _, m := range t.Members {
		member[m.ID] = true
	}
	var candidates []models.User
	for _, u := range users {
		if u.Active && !member[u.ID] {
			candidates = append(candidates, u)
		}
	}
	if values == nil {
		values = map[string]string{"name": t.Name}
	}
	return a.render(c, status, views.TeamPage(t, candidates, views.NewForm(values, formErr)))
}

func (a *App) renameTeam(c echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	name := c.FormValue("name")
	if err := models.RenameTeam(ctxOf(c), a.db, id, name); err != nil {
		if isValidation(err) {
			return a.renderTeam(c, http.StatusUnprocessableEntity, map[string]string{"name": name}, err)
		}
		return err
	}
	a.toast(c, "success", tr(c, "teams.saved"))
	return a.redirect(c, fmt.Sprintf("/admin/teams/%d", id))
}

func (a *App) deleteTeam(c echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if err := models.DeleteTeam(ctxOf(c), a.db, id); err != nil {
		return err
	}
	a.toast(c, "success", tr(c, "teams.deleted"))
	return a.redirect(c, "/admin/teams")
}

func (a *App) addTeamMember(c echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	userID, _ := strconv.ParseInt(c.FormValue("user_id"), 10, 64)
	if err := models.AddTeamMember(ctxOf(c), a.db, id, userID); err != nil {
		return err
	}
	a.toast(c, "success", tr(c, "teams.member_added"))
	return a.redirect(c, fmt.Sprintf("/admin/teams/%d", id))
}

func (a *App) removeTeamMember(c echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	userID, err := idParam(c, "user")
	if err != nil {
		return err
	}
	if err := models.RemoveTeamMember(ctxOf(c), a.db, id, userID); err != nil {
		return err
	}
	a.toast(c, "success", tr(c, "teams.member_removed"))
	return a.redirect(c, fmt.Sprintf("/admin/teams/%d", id))
}
