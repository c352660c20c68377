package app

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/models"
)

func TestCSVSafe(t *testing.T) {
	t.Parallel()
	got := CSVSafe([]string{"=1+1", "+33 1", "-2", "@SUM(A1)", "\tx", "\rx", "plain", "", "a=b", "2026-12-04"})
	assert.Equal(t, []string{"'=1+1", "'+33 1", "'-2", "'@SUM(A1)", "'\tx", "'\rx", "plain", "", "a=b", "2026-12-04"}, got)
}

func TestSessionReportRoutes(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ann", "ann@example.com", models.RoleAgent, true)
	e.user("Pat", "pat@example.com", models.RoleAgent, false)
	rita := e.user("Rita", "rita@example.com", models.RoleAgent, false)
	e.user("Ada", "ada@example.com", models.RoleAdmin, false)
	ctx := context.Background()

	ann := e.browser()
	ann.login("ann@example.com")
	pid, key := startSession(t, ann, "")
	team, err := models.CreateTeam(ctx, e.db, "=SUM(A1)")
	require.NoError(t, err)
	require.NoError(t, e.db.Exec("UPDATE conversations SET team_id = ? WHERE public_id = ?", team.ID, pid).Error)

	// Signed out: to the sign-in page.
	anon := e.browser()
	res := anon.get("/reports/sessions")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Contains(t, res.Header.Get("Location"), "/login")

	// Agents without the permission: 403, page and export, and no link.
	for _, email := range []string{"ann@example.com", "pat@example.com", "rita@example.com"} {
		b := e.browser()
		b.login(email)
		assert.Zero(t, b.get("/mine").doc.Find("#nav-session-report").Length(), email)
		assert.Equal(t, http.StatusForbidden, b.get("/reports/sessions").StatusCode, email)
		res := b.get("/reports/sessions.csv")
		assert.Equal(t, http.StatusForbidden, res.StatusCode, email)
		assert.NotContains(t, res.body, key, email)
	}

	// An admin reads it (without customer data: no names, no chat logs).
	ada := e.browser()
	ada.login("ada@example.com")
	assert.Equal(t, "/reports/sessions", ada.get("/mine").doc.Find("#nav-session-report").AttrOr("href", ""))
	res = ada.get("/reports/sessions")
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	row := res.doc.Find("#session-" + pid)
	require.Equal(t, 1, row.Length(), res.body)
	assert.Contains(t, row.Text(), key)
	assert.Contains(t, row.Text(), "Ann")
	assert.Contains(t, row.Text(), "Not joined yet")
	assert.Zero(t, row.Find(".report-chat-log").Length(), "chat logs need customer data rights")
	assert.Equal(t, 1, res.doc.Find("#report-chart svg").Length())
	assert.Equal(t, 30, res.doc.Find("#report-chart .bar").Length())

	// An admin gives Rita the permission; the box needs the CSRF token and
	// the admin role.
	path := fmt.Sprintf("/admin/agents/%d/reports", rita.ID)
	res = ada.post(path, url.Values{"can_view_reports": {"on"}, "_csrf": {"forged"}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	res = ann.post(path, url.Values{"can_view_reports": {"on"}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	got, err := models.FindUser(ctx, e.db, rita.ID)
	require.NoError(t, err)
	require.False(t, got.CanViewReports, "nothing stored")
	edit := ada.get(fmt.Sprintf("/admin/agents/%d/edit", rita.ID))
	require.Equal(t, 1, edit.doc.Find("#agent-reports #f-can-view-reports").Length())
	res = ada.post(path, url.Values{"can_view_reports": {"on"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.body)
	assert.Equal(t, 1, ada.get("/admin/agents").doc.Find(fmt.Sprintf("#agent-%d-reports", rita.ID)).Length())
	rb := e.browser()
	rb.login("rita@example.com")
	assert.Equal(t, http.StatusOK, rb.get("/reports/sessions").StatusCode)
	assert.Equal(t, http.StatusOK, rb.get("/reports/sessions.csv").StatusCode)
	// ... and takes it back.
	res = ada.post(path, url.Values{})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, http.StatusForbidden, rb.get("/reports/sessions").StatusCode)

	// A support agent with the permission sees the customer and the chat log.
	ann2, err := models.FindUserByEmail(ctx, e.db, "ann@example.com")
	require.NoError(t, err)
	require.Equal(t, http.StatusSeeOther, ada.post(fmt.Sprintf("/admin/agents/%d/reports", ann2.ID), url.Values{"can_view_reports": {"on"}}).StatusCode)
	res = ann.get("/reports/sessions")
	require.Equal(t, http.StatusOK, res.StatusCode)
	link := res.doc.Find("#session-"+pid+" .report-chat-log").AttrOr("href", "")
	assert.Equal(t, "/conversations/"+pid+"/transcript", link)
	assert.Equal(t, http.StatusOK, ann.get(link).StatusCode)

	// Bad input: the page with the reason beside the filter, 422.
	for q, want := range map[string]struct{ field, text string }{
		"from=2026-13-01":                {"from", "is not a date"},
		"to=tomorrow":                    {"to", "is not a date"},
		"from=2026-11-02&to=2026-11-01":  {"to", "before the start date"},
		"agent=999999":                   {"agent", "No such agent"},
		"agent=ann":                      {"agent", "No such agent"},
		"team=999999":                    {"team", "No such team"},
		"channel=fax":                    {"channel", "Choose widget"},
		"before=12-x":                    {"report", "not valid"},
		"sort=duration":                  {"report", "Unknown filter"},
		"from=%3Cscript%3Ex%3C%2Fscript": {"from", "is not a date"},
	} {
		res := ann.get("/reports/sessions?" + q)
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, q)
		sel := "#e-" + want.field
		if want.field == "report" {
			sel = ".alert-error"
		}
		assert.Contains(t, res.text(sel), want.text, q)
		assert.Zero(t, res.doc.Find("#report-rows").Length(), "nothing listed: %s", q)
		assert.NotContains(t, res.body, "<script>x", q)
		res = ann.get("/reports/sessions.csv?" + q)
		assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, q)
		assert.True(t, strings.HasPrefix(res.Header.Get("Content-Type"), "text/html"), q)
	}
	// The typed date comes back as typed.
	res = ann.get("/reports/sessions?from=2026-02-30")
	assert.Equal(t, "2026-02-30", res.doc.Find("#report-from").AttrOr("value", ""))

	// Filters narrow the page.
	assert.Equal(t, 1, ann.get("/reports/sessions?channel=key").doc.Find("#session-"+pid).Length())
	assert.Zero(t, ann.get("/reports/sessions?channel=widget").doc.Find("#session-"+pid).Length())
	assert.Equal(t, 1, ann.get(fmt.Sprintf("/reports/sessions?team=%d", team.ID)).doc.Find("#session-"+pid).Length())
	assert.Equal(t, 1, ann.get(fmt.Sprintf("/reports/sessions?agent=%d", ann2.ID)).doc.Find("#session-"+pid).Length())

	// The export: every row, spreadsheet formulas defused.
	res = ann.get(fmt.Sprintf("/reports/sessions.csv?team=%d", team.ID))
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "text/csv; charset=utf-8", res.Header.Get("Content-Type"))
	assert.Contains(t, res.Header.Get("Content-Disposition"), "attachment;")
	assert.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
	recs, err := csv.NewReader(strings.NewReader(res.body)).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 2, res.body)
	assert.Equal(t, reportCSVColumns, recs[0])
	rec := map[string]string{}
	for i, k := range recs[0] {
		rec[k] = recs[1][i]
	}
	assert.Equal(t, "'=SUM(A1)", rec["team"], "formula injection")
	assert.Equal(t, "key", rec["channel"])
	assert.Equal(t, key, rec["key"])
	assert.Equal(t, "Ann", rec["agent"])
	assert.Equal(t, "waiting", rec["state"])
	assert.True(t, strings.HasSuffix(rec["chat_log"], "/conversations/"+pid+"/transcript"), rec["chat_log"])
}
