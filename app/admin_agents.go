package app

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

func (a *App) adminHome(c echo.Context) error { return a.redirect(c, "/admin/agents") }

func (a *App) listAgents(c echo.Context) error {
	users, err := models.ListUsers(ctxOf(c), a.db)
	if err != nil {
		return err
	}
	return a.render(c, http.StatusOK, views.AgentsPage(users))
}

func (a *App) newAgent(c echo.Context) error {
	form := views.NewForm(map[string]string{"role": "agent", "customer_support": "on"}, nil)
	return a.render(c, http.StatusOK, views.AgentForm(nil, form, views.Form{}))
}

// agentInput reads the agent form; the checkbox is absent when unticked.
func agentInput(c echo.Context) (models.UserInput, map[string]string) {
	in := models.UserInput{
		Name: c.FormValue("name"), Email: c.FormValue("email"), Password: c.FormValue("password"),
		Role: models.Role(c.FormValue("role")), CustomerSupport: c.FormValue("customer_support") != "",
	}
	values := map[string]string{"name": in.Name, "email": in.Email, "role": string(in.Role)}
	if in.CustomerSupport {
		values["customer_support"] = "on"
	}
	return in, values
}

func (a *App) createAgent(c echo.Context) error {
	in, values := agentInput(c)
	u, err := models.CreateUser(ctxOf(c), a.db, in)
	if isValidation(err) {
		return a.render(c, http.StatusUnprocessableEntity, views.AgentForm(nil, views.NewForm(values, err), views.Form{}))
	}
	if err != nil {
		return err
	}
	reqLog(c).Info("agent created", "agent_id", u.ID, "by", currentUser(c).ID)
	a.toast(c, "success", tr(c, "agents.created", map[string]any{"Name": u.Name}))
	return a.redirect(c, "/admin/agents")
}

func (a *App) findAgent(c echo.Context) (*models.User, error) {
	id, err := idParam(c, "id")
	if err != nil {
		return nil, err
	}
	return models.FindUser(ctxOf(c), a.db, id)
}

func userValues(u *models.User) map[string]string {
	v := map[string]string{"name": u.Name, "email": u.Email, "role": string(u.Role)}
	if u.CustomerSupport {
		v["customer_support"] = "on"
	}
	return v
}

func (a *App) editAgent(c echo.Context) error {
	u, err := a.findAgent(c)
	if err != nil {
		return err
	}
	return a.render(c, http.StatusOK, views.AgentForm(u, views.NewForm(userValues(u), nil), views.Form{}))
}

func (a *App) updateAgent(c echo.Context) error {
	u, err := a.findAgent(c)
	if err != nil {
		return err
	}
	in, values := agentInput(c)
	if err := a.write(ctxOf(c), func(tx models.Tx) error {
		_, err := models.UpdateUser(ctxOf(c), tx, u.ID, in)
		return err
	}); err != nil {
		if isValidation(err) {
			return a.render(c, http.StatusUnprocessableEntity, views.AgentForm(u, views.NewForm(values, err), views.Form{}))
		}
		return err
	}
	a.toast(c, "success", tr(c, "agents.saved"))
	return a.redirect(c, "/admin/agents")
}

func (a *App) setAgentPassword(c echo.Context) error {
	u, err := a.findAgent(c)
	if err != nil {
		return err
	}
	if err := a.write(ctxOf(c), func(tx models.Tx) error {
		return models.SetPassword(ctxOf(c), tx, u.ID, c.FormValue("password"))
	}); err != nil {
		if isValidation(err) {
			return a.render(c, http.StatusUnprocessableEntity, views.AgentForm(u, views.NewForm(userValues(u), nil), views.NewForm(nil, err)))
		}
		return err
	}
	if u.ID == currentUser(c).ID {
		if err := a.startSession(c, u); err != nil { // an admin resetting their own password stays signed in here
			return err
		}
	}
	a.toast(c, "success", tr(c, "agents.password_set", map[string]any{"Name": u.Name}))
	return a.redirect(c, fmt.Sprintf("/admin/agents/%d/edit", u.ID))
}

func (a *App) deactivateAgent(c echo.Context) error {
	u, err := a.findAgent(c)
	if err != nil {
		return err
	}
	if err := a.write(ctxOf(c), func(tx models.Tx) error {
		return models.DeactivateUser(ctxOf(c), tx, currentUser(c).ID, u.ID)
	}); err != nil {
		if isValidation(err) {
			return a.render(c, http.StatusUnprocessableEntity, views.AgentForm(u, views.NewForm(userValues(u), err), views.Form{}))
		}
		return err
	}
	reqLog(c).Info("agent deactivated", "agent_id", u.ID, "by", currentUser(c).ID)
	a.toast(c, "success", tr(c, "agents.deactivated_toast", map[string]any{"Name": u.Name}))
	return a.redirect(c, "/admin/agents")
}

func (a *App) reactivateAgent(c echo.Context) error {
	u, err := a.findAgent(c)
	if err != nil {
		return err
	}
	if err := models.ReactivateUser(ctxOf(c), a.db, u.ID); err != nil {
		return err
	}
	a.toast(c, "success", tr(c, "agents.reactivated_toast", map[string]any{"Name": u.Name}))
	return a.redirect(c, "/admin/agents")
}

// setAgentReports lets an agent read the reports (the Sessions report), or
// stops it: the "Reports" box on the agent's page (admins read them
// anyway).
func (a *App) setAgentReports(c echo.Context) error {
	u, err := a.findAgent(c)
	if err != nil {
		return err
	}
	on := c.FormValue("can_view_reports") != ""
	if err := a.write(ctxOf(c), func(tx models.Tx) error {
		return models.SetReportAccess(ctxOf(c), tx, u.ID, on)
	}); err != nil {
		return err
	}
	reqLog(c).Info("agent report access", "agent_id", u.ID, "on", on, "by", currentUser(c).ID)
	a.toast(c, "success", tr(c, "sessrep.access_saved", map[string]any{"Name": u.Name}))
	return a.redirect(c, fmt.Sprintf("/admin/agents/%d/edit", u.ID))
}
