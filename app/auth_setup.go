package app

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// showSetup offers the one-time form for the first admin; once anyone
// exists the page is gone (404).
func (a *App) showSetup(c echo.Context) error {
	needs, err := models.NeedsSetup(ctxOf(c), a.db)
	if err != nil {
		return err
	}
	if !needs {
		return echo.ErrNotFound
	}
	return a.render(c, http.StatusOK, views.SetupPage(views.NewForm(nil, nil)))
}

func (a *App) createFirstAdmin(c echo.Context) error {
	in := models.UserInput{Name: c.FormValue("name"), Email: c.FormValue("email"), Password: c.FormValue("password")}
	u, err := models.CreateFirstAdmin(ctxOf(c), a.db, in)
	var ve *models.ValidationError
	switch {
	case errors.Is(err, models.ErrSetupDone):
		return echo.ErrNotFound
	case errors.As(err, &ve):
		form := views.NewForm(map[string]string{"name": in.Name, "email": in.Email}, err)
		return a.render(c, http.StatusUnprocessableEntity, views.SetupPage(form))
	case err != nil:
		return err
	}
	reqLog(c).Info("first admin created", "user_id", u.ID)
	if err := a.startSession(c, u); err != nil {
		return err
	}
	a.toast(c, "success", tr(c, "setup.welcome", map[string]any{"Name": u.Name}))
	return a.redirect(c, "/admin/agents")
}
