package app

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// Admin → Service levels: admins set the desk's and a team's targets;
// negative, zero, fractional or oversized targets and unknown teams are a
// 422 beside the field with what was typed, and nothing is stored; agents
// may neither change them nor open the page.
func TestServiceLevelSettings(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	e.user("Ada Admin", "ada@example.com", models.RoleAdmin, true)
	team, err := models.CreateTeam(ctx, e.db, "Billing")
	require.NoError(t, err)
	tid := strconv.FormatInt(team.ID, 10)
	b := e.browser()
	b.login("ada@example.com")

	page := b.get("/admin/service-levels")
	require.Equal(t, http.StatusOK, page.StatusCode)
	assert.Equal(t, 2, page.doc.Find("#sla-targets tbody tr").Length(), "the desk and the team")

	for _, c := range []struct {
		team, first, next, field string
	}{
		{"", "-5", "", "sla_first"},
		{"", "0", "30", "sla_first"},
		{"", "10", "2.5", "sla_next"},
		{"", "10", "99999", "sla_next"},
		{"", "ten", "", "sla_first"},
		{"424242", "10", "30", "team"},
		{"billing", "10", "30", "team"},
	} {
		res := b.post("/admin/service-levels", url.Values{"team": {c.team}, "sla_first": {c.first}, "sla_next": {c.next}})
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "%+v", c)
		assert.NotEmpty(t, res.text("#e-"+c.field), "%+v", c)
		assert.Equal(t, "true", res.doc.Find("#f-"+c.field).AttrOr("aria-invalid", ""), "%+v", c)
		assert.Equal(t, c.first, res.doc.Find("#f-sla_first").AttrOr("value", "x"), "what was typed stays")
		assert.Equal(t, c.next, res.doc.Find("#f-sla_next").AttrOr("value", "x"))
	}
	p, err := models.LoadSLAPolicy(ctx, e.db)
	require.NoError(t, err)
	assert.Equal(t, models.SLATargets{}, p.For(&team.ID), "nothing stored")

	e.user("Pat", "pat@example.com", models.RoleAgent, true)
	pb := e.browser()
	pb.login("pat@example.com")
	assert.Equal(t, http.StatusForbidden, pb.get("/admin/service-levels").StatusCode)
	assert.Equal(t, http.StatusForbidden, pb.post("/admin/service-levels", url.Values{"sla_first": {"5"}}).StatusCode)

	res := b.post("/admin/service-levels", url.Values{"team": {tid}, "sla_first": {"5"}, "sla_next": {"30"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.body)
	res = b.post("/admin/service-levels", url.Values{"sla_first": {"60"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.body)
	page = b.get("/admin/service-levels")
	assert.Contains(t, page.text("#sla-row-"+tid), "5 min")
	assert.Contains(t, page.text("#sla-row-"+tid), "30 min")
	assert.Contains(t, page.text("#sla-row-0"), "60 min")
	p, err = models.LoadSLAPolicy(ctx, e.db)
	require.NoError(t, err)
	assert.Equal(t, models.SLATargets{First: 60 * 60e9}, p.For(nil))
}

// A waiting conversation shows its clock in the inbox row and on its page:
// time left, then overdue; an answer takes it away.
func TestServiceLevelClockShows(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	admin := e.user("Ada Admin", "ada@example.com", models.RoleAdmin, true)
	_, fresh := e.customerConversation("Fred", "just asked")
	_, late := e.customerConversation("Lou", "waited long")
	require.NoError(t, e.db.Exec("UPDATE conversations SET waiting_since = now() - interval '30 minutes' WHERE id = ?", late.ID).Error)
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error {
		return models.SetSLATargets(ctx, tx, admin, models.SLAInput{First: "20"})
	}))
	b := e.browser()
	b.login("ada@example.com")
	res := b.get("/inbox")
	require.Equal(t, http.StatusOK, res.StatusCode)
	fc := res.doc.Find("#row-" + fresh.PublicID + " .sla-clock")
	require.Equal(t, 1, fc.Length())
	assert.True(t, fc.HasClass("sla-ok"))
	assert.Contains(t, fc.Text(), "First reply due in")
	assert.NotEmpty(t, fc.AttrOr("data-sla-due", ""))
	lc := res.doc.Find("#row-" + late.PublicID + " .sla-clock")
	assert.True(t, lc.HasClass("sla-over"))
	assert.Contains(t, lc.Text(), "First reply overdue by")

	page := b.get("/conversations/" + late.PublicID)
	assert.True(t, page.doc.Find("#conv-sla .sla-clock").HasClass("sla-over"))
	_, err := factory.Write1(e.db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{User: admin}, late, models.MessageText, "Sorry!")
	})
	require.NoError(t, err)
	page = b.get("/conversations/" + late.PublicID)
	assert.Equal(t, 0, page.doc.Find("#conv-sla .sla-clock").Length(), "answered: no clock")
}

// Reports: admins and agents allowed to read reports (CanViewReports); the range and team are checked (422 beside the
// field, no report); the charts are inline SVG with a bar per day.
func TestReportsPage(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	e.user("Ada Admin", "ada@example.com", models.RoleAdmin, true)
	e.user("Pat", "pat@example.com", models.RoleAgent, true)
	e.customerConversation("Fred", "hello")
	team, err := models.CreateTeam(ctx, e.db, "Billing")
	require.NoError(t, err)

	pb := e.browser()
	pb.login("pat@example.com")
	assert.Equal(t, http.StatusForbidden, pb.get("/reports/service-levels").StatusCode)
	// An agent an admin allowed to read reports may.
	e.user("Rita", "rita@example.com", models.RoleAgent, true)
	require.NoError(t, e.db.Exec("UPDATE users SET can_view_reports = true WHERE email = 'rita@example.com'").Error)
	rb := e.browser()
	rb.login("rita@example.com")
	assert.Equal(t, http.StatusOK, rb.get("/reports/service-levels").StatusCode)

	b := e.browser()
	b.login("ada@example.com")
	res := b.get("/reports/service-levels")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, 4, res.doc.Find("figure.chart svg").Length())
	assert.Equal(t, models.DefaultReportDays, res.doc.Find("#chart-volume rect.chart-bar").Length(), "a bar per day")
	assert.Equal(t, "1", res.doc.Find("#report-total td").Eq(1).Text(), "today's conversation")
	assert.Equal(t, 2, res.doc.Find("#report-teams tbody tr").Length(), "no team, Billing")

	res = b.get("/reports/service-levels?from=2026-01-01&to=2026-01-07&team=" + strconv.FormatInt(team.ID, 10))
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, 7, res.doc.Find("#chart-breaches rect.chart-bar").Length())
	assert.Equal(t, 1, res.doc.Find("#report-teams tbody tr").Length())

	for _, c := range []struct{ query, field string }{
		{"from=2026-02-01&to=2026-01-01", "to"},
		{"from=2020-01-01&to=2026-01-01", "to"},
		{"from=yesterday", "from"},
		{"team=424242", "team"},
		{"team=%27%3B--", "team"},
		{"sort=volume", "from"},
	} {
		res := b.get("/reports/service-levels?" + c.query)
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, c.query)
		assert.NotEmpty(t, res.text("#e-"+c.field), c.query)
		assert.Equal(t, 0, res.doc.Find("figure.chart").Length(), c.query)
	}
}
