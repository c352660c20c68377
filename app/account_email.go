package app

import (
	"net/http"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// renderAccount renders the account page with its extra sections; email is
// the email preferences form to show (nil: the saved preferences).
func (a *App) renderAccount(c echo.Context, status int, pw views.Form, email *views.Form) error {
	u := currentUser(c)
	if email == nil {
		p, err := models.GetEmailPrefs(ctxOf(c), a.db, u.ID)
		if err != nil {
			return err
		}
		f := views.EmailPrefsForm(p)
		email = &f
	}
	composer := views.ComposerPrefsForm(u)
	if f, ok := c.Get(composerFormKey).(views.Form); ok {
		composer = f
	}
	return a.render(c, status, views.AccountPage(u, pw, []templ.Component{
		views.ComposerPrefsSection(composer),
		views.EmailPrefsSection(views.EmailPrefsView{Form: *email, Enabled: a.emailEnabled()}),
	}...))
}

// saveEmailPrefs stores which events email the user, and how.
func (a *App) saveEmailPrefs(c echo.Context) error {
	in := models.EmailPrefsInput{
		NewConversation: c.FormValue("new_conversation") != "",
		Assigned:        c.FormValue("assigned") != "",
		Message:         c.FormValue("message") != "",
		Delivery:        c.FormValue("delivery"),
		DigestMinutes:   c.FormValue("digest_minutes"),
	}
	_, err := models.SaveEmailPrefs(ctxOf(c), a.db, currentUser(c).ID, in)
	if isValidation(err) {
		f := views.NewForm(map[string]string{
			"new_conversation": c.FormValue("new_conversation"), "assigned": c.FormValue("assigned"),
			"message": c.FormValue("message"), "delivery": in.Delivery, "digest_minutes": in.DigestMinutes,
		}, err)
		return a.renderAccount(c, http.StatusUnprocessableEntity, views.NewForm(nil, nil), &f)
	}
	if err != nil {
		return err
	}
	a.toast(c, "success", tr(c, "mail.prefs_saved"))
	return a.redirect(c, "/account#email")
}
