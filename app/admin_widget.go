package app

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

func (a *App) showWidgetSettings(c echo.Context) error {
	return a.renderWidgetSettings(c, http.StatusOK, nil, nil)
}

// renderWidgetSettings shows the settings page; values and formErr carry a
// rejected form.
func (a *App) renderWidgetSettings(c echo.Context, status int, values map[string]string, formErr error) error {
	s, err := models.GetSettings(ctxOf(c), a.db)
	if err != nil {
		return err
	}
	if values == nil {
		values = views.SettingsValues(ctxOf(c), s)
	}
	return a.render(c, status, views.AdminWidgetPage(views.AdminWidget{
		Settings: s, Form: views.NewForm(values, formErr), BaseURL: a.cfg.BaseURL.String(),
	}))
}

// saveWidgetSettings stores the widget settings; open widgets hear of it
// through the event log and update at once.
func (a *App) saveWidgetSettings(c echo.Context) error {
	in := models.SettingsInput{
		DeskName: c.FormValue("desk_name"), BrandColor: c.FormValue("brand_color"),
		Greeting: c.FormValue("greeting"), OnlineMessage: c.FormValue("online_message"),
		OfflineMessage: c.FormValue("offline_message"), AllowedOrigins: c.FormValue("allowed_origins"),
		RequireSignedIdentity: c.FormValue("require_signed_identity") != "",
		DemoEnabled:           c.FormValue("demo_enabled") != "",
	}
	err := a.write(ctxOf(c), func(tx models.Tx) error {
		return models.UpdateSettings(ctxOf(c), tx, in)
	})
	if isValidation(err) {
		values := map[string]string{
			"desk_name": in.DeskName, "brand_color": in.BrandColor, "greeting": in.Greeting,
			"online_message": in.OnlineMessage, "offline_message": in.OfflineMessage,
			"allowed_origins":         in.AllowedOrigins,
			"require_signed_identity": c.FormValue("require_signed_identity"), "demo_enabled": c.FormValue("demo_enabled"),
		}
		return a.renderWidgetSettings(c, http.StatusUnprocessableEntity, values, err)
	}
	if err != nil {
		return err
	}
	a.toast(c, "success", tr(c, "admin_widget.saved"))
	return a.redirect(c, "/admin/widget")
}

// rotateWidgetSecret replaces the identity secret (the form asks first).
func (a *App) rotateWidgetSecret(c echo.Context) error {
	if _, err := models.RotateWidgetSecret(ctxOf(c), a.db); err != nil {
		return err
	}
	a.toast(c, "success", tr(c, "admin_widget.rotated"))
	return a.redirect(c, "/admin/widget#widget-identity")
}
