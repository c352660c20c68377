package app

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// Only admins and support agents may switch the desk online or offline:
// others see its status but no switch, and a forged post is a 403 that
// changes nothing. A plain form post (no JavaScript) is asked to confirm on
// a page first; the confirmed switch is recorded for the admins' page.
func TestDeskSwitchPermissionConfirmationAndAudit(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ada Admin", "ada@example.com", models.RoleAdmin, false)
	e.user("Sue Support", "sue@example.com", models.RoleAgent, true)
	patUser := e.user("Pat Plain", "pat@example.com", models.RoleAgent, false)
	ada, sue, pat := e.browser(), e.browser(), e.browser()
	ada.login("ada@example.com")
	sue.login("sue@example.com")
	pat.login("pat@example.com")
	online := func() bool {
		s, err := models.GetSettings(context.Background(), e.db)
		require.NoError(t, err)
		return s.Online
	}

	page := pat.get("/mine")
	assert.Zero(t, page.doc.Find(`form#desk-online, #desk-online button, form[action="/desk/status"]`).Length(), "no switch for Pat")
	assert.Equal(t, "Desk online", page.text("#desk-online .switch-label"), "but the status")
	for _, v := range []url.Values{{"online": {"false"}}, {"online": {"false"}, "confirmed": {"1"}}} {
		res := pat.post("/desk/status", v)
		assert.Equal(t, http.StatusForbidden, res.StatusCode)
		res = pat.post("/desk/status", v, "HX-Request", "true")
		assert.Equal(t, http.StatusForbidden, res.StatusCode)
	}
	assert.True(t, online())
	assert.Error(t, factory.Write(e.db, func(tx models.Tx) error { return models.SetOnline(context.Background(), tx, patUser.ID, false) }), "the model refuses too")
	assert.True(t, online())

	// The switch asks (hx-confirm, translated) before htmx sends confirmed=1.
	page = sue.get("/inbox")
	form := page.doc.Find("form#desk-online")
	require.Equal(t, 1, form.Length())
	assert.Contains(t, form.AttrOr("hx-confirm", ""), "Set the whole desk offline?")
	assert.Equal(t, `{"confirmed":"1"}`, form.AttrOr("hx-vals", ""))

	// Without JavaScript the form posts unconfirmed: a page asks first.
	res := sue.post("/desk/status", url.Values{"online": {"false"}}, "Referer", e.srv.URL+"/inbox")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.text("#desk-status-question"), "Set the whole desk offline?")
	assert.True(t, online(), "nothing changed yet")
	confirm := res.doc.Find("form#desk-status-confirm")
	assert.Equal(t, "1", confirm.Find(`input[name="confirmed"]`).AttrOr("value", ""))
	assert.Equal(t, "/inbox", confirm.Find(`input[name="next"]`).AttrOr("value", ""))
	res = sue.post("/desk/status", url.Values{"online": {"false"}, "confirmed": {"1"}, "next": {"/inbox"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "/inbox", res.Header.Get("Location"))
	assert.False(t, online())

	res = ada.post("/desk/status", url.Values{"online": {"true"}, "confirmed": {"1"}}, "HX-Request", "true")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.True(t, online())

	// The admins' page says who switched it, newest first.
	res = ada.get("/admin/conversations")
	require.Equal(t, http.StatusOK, res.StatusCode)
	lines := res.doc.Find("#desk-status-changes li")
	require.Equal(t, 2, lines.Length())
	assert.Contains(t, lines.Eq(0).Text(), "Ada Admin set the desk online at ")
	assert.Contains(t, lines.Eq(1).Text(), "Sue Support set the desk offline at ")
}
