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
	return a.renderConversationForms(c, status, func(d *views.AdminConversations) {
		if values != nil {
			d.Form = views.NewForm(values, formErr)
		}
	})
}

// renderConversationForms renders the page with each form showing the
// stored settings, except what edit puts in (a refused form's input and
// errors).
func (a *App) renderConversationForms(c echo.Context, status int, edit func(*views.AdminConversations)) error {
	s, err := models.GetSettings(ctxOf(c), a.db)
	if err != nil {
		return err
	}
	minutes, err := models.SupportKeyMinutes(ctxOf(c), a.db)
	if err != nil {
		return err
	}
	changes, err := models.RecentDeskStatusChanges(ctxOf(c), a.db, 10)
	if err != nil {
		return err
	}
	use, err := models.DeskStorageUse(ctxOf(c), a.db)
	if err != nil {
		return err
	}
	d := views.AdminConversations{Settings: s, Form: views.NewForm(views.AutoCloseValues(s), nil),
		Files: views.NewForm(views.FileLimitsValues(s), nil), FilesUse: views.FilesUse{StorageUse: use, Store: a.files.Name()},
		Waiting:    views.NewForm(views.WaitingValues(s), nil),
		SupportKey: views.NewForm(map[string]string{"support_key_minutes": strconv.Itoa(minutes)}, nil), DeskChanges: changes}
	edit(&d)
	return a.render(c, status, views.AdminConversationsPage(d))
}

// saveWaitingThresholds stores when a customer's wait turns amber and red
// (whole minutes, red after amber); a refused input is a 422 beside the
// field and nothing is stored.
func (a *App) saveWaitingThresholds(c echo.Context) error {
	in := models.WaitingInput{Amber: c.FormValue("waiting_amber"), Red: c.FormValue("waiting_red")}
	err := a.write(ctxOf(c), func(tx models.Tx) error { return models.SetWaitingThresholds(ctxOf(c), tx, in) })
	if isValidation(err) {
		return a.renderConversationForms(c, http.StatusUnprocessableEntity, func(d *views.AdminConversations) {
			d.Waiting = views.NewForm(map[string]string{"waiting_amber": in.Amber, "waiting_red": in.Red}, err)
		})
	}
	if err != nil {
		return err
	}
	a.toast(c, "success", tr(c, "waiting.saved"))
	return a.redirect(c, "/admin/conversations")
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
		return a.renderConversationForms(c, http.StatusUnprocessableEntity, func(d *views.AdminConversations) {
			d.SupportKey = views.NewForm(map[string]string{"support_key_minutes": minutes}, err)
		})
	}
	if err != nil {
		return err
	}
	a.toast(c, "success", tr(c, "sessions.key_minutes_saved"))
	return a.redirect(c, "/admin/conversations")
}

// saveFileLimits stores the desk's file rules (size, types, files per
// message, retention); a refused input is a 422 beside the field and
// nothing is stored.
func (a *App) saveFileLimits(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	in := models.FileLimitsInput{MaxMB: c.FormValue("file_max_mb"), Types: form["file_types"],
		PerMessage: c.FormValue("files_per_message"), RetentionDays: c.FormValue("file_retention_days")}
	err = a.write(ctxOf(c), func(tx models.Tx) error { return models.SetFileLimits(ctxOf(c), tx, in) })
	if isValidation(err) {
		return a.renderConversationForms(c, http.StatusUnprocessableEntity, func(d *views.AdminConversations) {
			v := map[string]string{"file_max_mb": in.MaxMB, "files_per_message": in.PerMessage, "file_retention_days": in.RetentionDays}
			for _, t := range in.Types {
				v["type_"+t] = "on"
			}
			d.Files = views.NewForm(v, err)
		})
	}
	if err != nil {
		return err
	}
	a.toast(c, "success", tr(c, "files.saved"))
	return a.redirect(c, "/admin/conversations")
}
