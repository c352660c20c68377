package app

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

func (a *App) showAccount(c echo.Context) error {
	return a.renderAccount(c, http.StatusOK, views.NewForm(nil, nil), nil)
}

// setLanguage stores the user's language and returns to the page they were on.
func (a *App) setLanguage(c echo.Context) error {
	u := currentUser(c)
	if err := models.SetLocale(ctxOf(c), a.db, u.ID, c.FormValue("locale")); err != nil {
		return err
	}
	lang := c.FormValue("locale")
	if lang == "" {
		lang = views.MatchLanguage(c.Request().Header.Get("Accept-Language"))
	}
	a.toast(c, "success", views.T(views.WithLanguage(ctxOf(c), lang), "account.language_saved"))
	back := "/account"
	if ref, err := url.Parse(c.Request().Referer()); err == nil && ref.Host == c.Request().Host && ref.Path != "" {
		back = safeNext(ref.RequestURI())
	}
	return a.redirect(c, back)
}

// changePassword checks the current password, sets the new one (which ends
// every session of the user) and signs this browser in again.
func (a *App) changePassword(c echo.Context) error {
	u := currentUser(c)
	if err := a.write(ctxOf(c), func(tx models.Tx) error {
		return models.ChangePassword(ctxOf(c), tx, u, c.FormValue("current_password"), c.FormValue("password"))
	}); err != nil {
		if isValidation(err) {
			return a.renderAccount(c, http.StatusUnprocessableEntity, views.NewForm(nil, err), nil)
		}
		return err
	}
	if err := a.startSession(c, u); err != nil {
		return err
	}
	a.toast(c, "success", tr(c, "account.password_changed"))
	return a.redirect(c, "/account")
}

// composerFormKey carries a refused composer settings form to renderAccount,
// which shows it with its error instead of the saved settings.
const composerFormKey = "composer_prefs_form"

// saveComposerPrefs stores the user's text size and spellcheck choice; a
// size that is not offered is a 422 with the page and the message beside
// the field, nothing stored.
func (a *App) saveComposerPrefs(c echo.Context) error {
	u := currentUser(c)
	size, spell := c.FormValue("font_size"), c.FormValue("spellcheck") == "on"
	err := a.write(ctxOf(c), func(tx models.Tx) error {
		return models.SetComposerPrefs(ctxOf(c), tx.DB(), u.ID, size, spell)
	})
	if isValidation(err) {
		c.Set(composerFormKey, views.NewForm(map[string]string{"font_size": size, "spellcheck": c.FormValue("spellcheck")}, err))
		return a.renderAccount(c, http.StatusUnprocessableEntity, views.NewForm(nil, nil), nil)
	}
	if err != nil {
		return err
	}
	a.toast(c, "success", tr(c, "composer.prefs_saved"))
	return a.redirect(c, "/account#composer-prefs")
}

// setNotifySound mutes or unmutes the user's new-conversation chime.
func (a *App) setNotifySound(c echo.Context) error {
	u := currentUser(c)
	on := c.FormValue("on") == "true"
	if err := models.SetNotifySound(ctxOf(c), a.db, u.ID, on); err != nil {
		return err
	}
	msg := "desk.sound_saved_off"
	if on {
		msg = "desk.sound_saved_on"
	}
	a.toast(c, "success", tr(c, msg))
	if views.Req(ctxOf(c)).Fragment {
		return a.render(c, http.StatusOK, views.SoundToggle(on, false))
	}
	return a.redirect(c, back(c, "/account"))
}
