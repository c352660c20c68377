package app

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/parleydesk/parley/models"
	"github.com/parleydesk/parley/views"
)

// Canned replies: the /canned page (list, search, new, edit, delete) and the
// composer's '#' picker (the list as a fragment, and the resolved text of
// the chosen reply). Who sees and manages which reply is models'
// CanUseCanned / CanManageCanned.

// cannedFormBodyLimit fits a canned reply's fields (a body of 5,000
// characters of up to 4 bytes, each 12 once form-encoded, a 2,000-byte URL)
// with room to spare, so a body somewhat over the limit gets its 422 beside
// the field rather than a 413.
const cannedFormBodyLimit = 128 << 10

// listCanned is the Canned replies page.
func (a *App) listCanned(c echo.Context) error {
	q := c.QueryParam("q")
	rs, err := models.ListCanned(ctxOf(c), a.db, currentUser(c), models.CannedQuery{Search: q})
	if err != nil {
		return err
	}
	return a.render(c, http.StatusOK, views.CannedPage(rs, q))
}

// cannedInput reads the canned reply form. The scope select says
// "personal", "desk" or "team-<id>".
func cannedInput(c echo.Context) models.CannedInput {
	in := models.CannedInput{Title: c.FormValue("title"), Shortcut: c.FormValue("shortcut"),
		Body: c.FormValue("body"), URL: c.FormValue("url"), Scope: c.FormValue("scope")}
	if id, ok := strings.CutPrefix(in.Scope, "team-"); ok {
		in.Scope = models.CannedTeam
		in.TeamID, _ = strconv.ParseInt(id, 10, 64)
	}
	return in
}

func cannedValues(c echo.Context) map[string]string {
	return map[string]string{"title": c.FormValue("title"), "shortcut": c.FormValue("shortcut"),
		"body": c.FormValue("body"), "url": c.FormValue("url"), "scope": c.FormValue("scope")}
}

// renderCannedForm shows the new (r nil) or edit form.
func (a *App) renderCannedForm(c echo.Context, status int, r *models.CannedReply, f views.Form) error {
	u := currentUser(c)
	teams, err := models.CannedTeams(ctxOf(c), a.db, u)
	if err != nil {
		return err
	}
	return a.render(c, status, views.CannedFormPage(views.CannedForm{Reply: r, Teams: teams, CanDesk: u.IsAdmin(), Form: f}))
}

func (a *App) newCanned(c echo.Context) error {
	return a.renderCannedForm(c, http.StatusOK, nil, views.NewForm(map[string]string{"scope": models.CannedPersonal}, nil))
}

func (a *App) createCanned(c echo.Context) error {
	r, err := models.CreateCanned(ctxOf(c), a.db, currentUser(c), cannedInput(c))
	if isValidation(err) {
		return a.renderCannedForm(c, http.StatusUnprocessableEntity, nil, views.NewForm(cannedValues(c), err))
	}
	if err != nil {
		return err
	}
	a.toast(c, "success", tr(c, "canned.created", map[string]any{"Title": r.Title}))
	return a.redirect(c, "/canned")
}

// managedCanned finds the route's reply for the current user: not found if
// they may not use it, forbidden if they may use but not manage it.
func (a *App) managedCanned(c echo.Context) (*models.CannedReply, error) {
	id, err := idParam(c, "id")
	if err != nil {
		return nil, err
	}
	r, manage, err := models.FindCanned(ctxOf(c), a.db, currentUser(c), id)
	if err != nil {
		return nil, err
	}
	if !manage {
		return nil, models.ErrForbidden
	}
	return r, nil
}

func (a *App) editCanned(c echo.Context) error {
	r, err := a.managedCanned(c)
	if err != nil {
		return err
	}
	return a.renderCannedForm(c, http.StatusOK, r, views.NewForm(views.CannedFormValues(r), nil))
}

func (a *App) updateCanned(c echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	r, err := models.UpdateCanned(ctxOf(c), a.db, currentUser(c), id, cannedInput(c))
	if isValidation(err) {
		old, _, ferr := models.FindCanned(ctxOf(c), a.db, currentUser(c), id)
		if ferr != nil {
			return ferr
		}
		return a.renderCannedForm(c, http.StatusUnprocessableEntity, old, views.NewForm(cannedValues(c), err))
	}
	if err != nil {
		return err
	}
	a.toast(c, "success", tr(c, "canned.saved", map[string]any{"Title": r.Title}))
	return a.redirect(c, "/canned")
}

func (a *App) deleteCanned(c echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if err := models.DeleteCanned(ctxOf(c), a.db, currentUser(c), id); err != nil {
		return err
	}
	a.toast(c, "success", tr(c, "canned.deleted"))
	return a.redirect(c, "/canned")
}

// cannedPicker is the composer's picker list, fetched once per conversation
// page by static/canned.js, which filters it as the agent types: a desk's
// replies number in the tens or hundreds, so filtering in the page answers
// every keystroke at once, with no request per key.
func (a *App) cannedPicker(c echo.Context) error {
	if _, err := a.conversation(c); err != nil {
		return err
	}
	rs, err := models.ListCanned(ctxOf(c), a.db, currentUser(c), models.CannedQuery{Limit: 500})
	if err != nil {
		return err
	}
	return a.render(c, http.StatusOK, views.CannedPicker(rs))
}

// cannedText is the answer to inserting a canned reply: its text resolved
// for this agent and conversation, and its scripted URL.
type cannedText struct {
	Text string `json:"text"`
	URL  string `json:"url"`
}

// useCanned resolves a canned reply's placeholders for the conversation
// (customer fields only for those who may see customer data) and counts the
// use: a POST, since it writes. A conversation the agent cannot see, or a
// reply they may not use, is a 404.
func (a *App) useCanned(c echo.Context) error {
	conv, err := a.conversation(c)
	if err != nil {
		return err
	}
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	r, text, err := models.UseCanned(ctxOf(c), a.db, currentUser(c), conv, id)
	if errors.Is(err, models.ErrNotFound) {
		return echo.ErrNotFound
	}
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, cannedText{Text: text, URL: r.URL})
}
