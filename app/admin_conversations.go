package app

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// showConversationSettings is the admin page of how conversations are
// handled (auto-close).
func (a *App) showConversationSettings(c echo.Context) error {
	return a.renderConversationSettings(c, http.StatusOK, nil, nil)
}

func (a *App) renderConversationSettings(c echo.Context, status int, values map[string]string, formErr error) error {
	s, err := models.GetSettings(ctxOf(c), a.db)
	if err != nil {
		return err
	}
	if values == nil {
		values = views.AutoCloseValues(s)
	}
	if _, ok := values["support_key_minutes"]; !ok {
		m, err := models.SupportKeyMinutes(ctxOf(c), a.db)
		if err != nil {
			return err
		}
		values["support_key_minutes"] = strconv.Itoa(m)
	}
	changes, err := models.RecentDeskStatusChanges(ctxOf(c), a.db, 10)
	if err != nil {
		return err
	}
	return a.render(c, status, views.AdminConversationsPage(views.AdminConversations{Settings: s, Form: views.NewForm(values, formErr), DeskChanges: changes}))
}

// saveConversationSettings stores the auto-close delay (empty: off).
func (a *App) saveConversationSettings(c echo.Context) error {
	in := models.AutoCloseInput{Amount: c.FormValue("auto_close_amount"), Unit: c.FormValue("auto_close_unit")}
	err := models.SetAutoClose(ctxOf(c), a.db, in)
	if isValidation(err) {
		return a.renderConversationSettings(c, http.StatusUnprocessableEntity,
			map[string]string{"auto_close_amount": in.Amount, "auto_close_unit": in.Unit}, err)
	}
	if err != nil {
		return err
	}
	a.toast(c, "success", tr(c, "notify.auto_close_saved"))
	return a.redirect(c, "/admin/conversations")
}

// saveTypingPreview turns on or off the preview of the customer's draft that
// agents see while the customer types (off by default).
func (a *App) saveTypingPreview(c echo.Context) error {
	if err := models.SetTypingPreview(ctxOf(c), a.db, c.FormValue("typing_preview") == "1"); err != nil {
		return err
	}
	a.toast(c, "success", tr(c, "typing.preview_saved"))
	return a.redirect(c, "/admin/conversations")
}

// saveSupportKeyMinutes stores how long an unused support key works.
func (a *App) saveSupportKeyMinutes(c echo.Context) error {
	minutes := c.FormValue("support_key_minutes")
	err := models.SetSupportKeyMinutes(ctxOf(c), a.db, minutes)
	if isValidation(err) {
		s, serr := models.GetSettings(ctxOf(c), a.db)
		if serr != nil {
			return serr
		}
		values := views.AutoCloseValues(s)
		values["support_key_minutes"] = minutes
		return a.renderConversationSettings(c, http.StatusUnprocessableEntity, values, err)
	}
	if err != nil {
		return err
	}
	a.toast(c, "success", tr(c, "sessions.key_minutes_saved"))
	return a.redirect(c, "/admin/conversations")
}
