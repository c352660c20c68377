package app

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

func countRows(t *testing.T, e *testEnv, table string) int64 {
	t.Helper()
	var n int64
	require.NoError(t, e.db.Table(table).Count(&n).Error)
	return n
}

// Routing rules and capacities are the admins': agents get 403, forged
// posts 403; rules that can never match or name no team, and capacities
// below zero or not numbers, are 422s with the reason beside the field and
// nothing stored.
func TestRoutingAndCapacityAdminOnly(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	sam := e.user("Sam", "sam@example.com", models.RoleAgent, true)
	team, err := models.CreateTeam(context.Background(), e.db, "Billing")
	require.NoError(t, err)
	teamID := idStr(team.ID)
	capURL := "/admin/agents/" + idStr(sam.ID) + "/capacity"
	good := url.Values{"team_id": {teamID}, "url_match": {"prefix"}, "url_value": {"/pricing"}, "language": {""}}

	agent := e.browser()
	agent.login("sam@example.com")
	assert.Equal(t, http.StatusForbidden, agent.get("/admin/routing").StatusCode)
	assert.Equal(t, http.StatusForbidden, agent.post("/admin/routing", clone(good)).StatusCode)
	assert.Equal(t, http.StatusForbidden, agent.post(capURL, url.Values{"capacity": {"3"}}).StatusCode)

	admin := e.browser()
	admin.login("ada@example.com")
	forged := clone(good)
	forged.Set("_csrf", "forged")
	assert.Equal(t, http.StatusForbidden, admin.post("/admin/routing", forged).StatusCode, "CSRF")
	assert.Equal(t, http.StatusForbidden, admin.post(capURL, url.Values{"capacity": {"3"}, "_csrf": {"forged"}}).StatusCode, "CSRF")

	for _, tc := range []struct {
		field, value, errField string
	}{
		{"team_id", "999999", "team_id"}, // deleted or unknown
		{"team_id", "abc", "team_id"},
		{"url_value", "pricing", "url_value"}, // a prefix no address starts with
		{"url_value", "two words", "url_value"},
		{"url_value", "", "url_value"},
		{"language", "not a language", "language"},
	} {
		in := clone(good)
		in.Set(tc.field, tc.value)
		res := admin.post("/admin/routing", in)
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, tc.field+"="+tc.value)
		assert.NotEmpty(t, res.text("#e-"+tc.errField), "the reason beside %s", tc.errField)
	}
	assert.Zero(t, countRows(t, e, "routing_rules"), "nothing stored")

	res := admin.post("/admin/routing", clone(good))
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	page := admin.get("/admin/routing")
	assert.Contains(t, page.text("#routing-rules"), "/pricing")
	assert.Contains(t, page.text("#routing-rules"), "Billing")
	// The same page again could never match: the first rule catches it.
	res = admin.post("/admin/routing", clone(good))
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Contains(t, res.text(".alert-error"), "rule 1 (Billing)")
	assert.EqualValues(t, 1, countRows(t, e, "routing_rules"))

	for _, bad := range []string{"-1", "lots", "2.5"} {
		res := admin.post(capURL, url.Values{"capacity": {bad}})
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, bad)
		assert.NotEmpty(t, res.text("#agent-capacity #e-capacity"), bad)
		assert.Equal(t, bad, res.doc.Find("#f-capacity").AttrOr("value", ""), "the value stays")
	}
	var capacity int
	require.NoError(t, e.db.Raw("SELECT capacity FROM users WHERE id = ?", sam.ID).Scan(&capacity).Error)
	assert.Zero(t, capacity, "nothing stored")
	require.Equal(t, http.StatusSeeOther, admin.post(capURL, url.Values{"capacity": {"4"}}).StatusCode)
	require.NoError(t, e.db.Raw("SELECT capacity FROM users WHERE id = ?", sam.ID).Scan(&capacity).Error)
	assert.Equal(t, 4, capacity)
	assert.Equal(t, "4", admin.get("/admin/agents/"+idStr(sam.ID)+"/edit").doc.Find("#f-capacity").AttrOr("value", ""))
}

// Agents transfer from the conversation page (CSRF checked; bad targets
// are 422s beside the field, nothing stored); set their own availability;
// see a team's queue and My teams in the inbox.
func TestTransferAvailabilityAndTeamLists(t *testing.T) {
	t.Parallel()
	e := setup(t)
	samU := e.user("Sam", "sam@example.com", models.RoleAgent, true)
	bo := e.user("Bo", "bo@example.com", models.RoleAgent, true)
	e.user("Pat", "pat@example.com", models.RoleAgent, false)
	ctx := context.Background()
	team, err := models.CreateTeam(ctx, e.db, "Billing")
	require.NoError(t, err)
	require.NoError(t, models.AddTeamMember(ctx, e.db, team.ID, bo.ID))
	other, err := models.CreateTeam(ctx, e.db, "Sales")
	require.NoError(t, err)
	_, conv, _ := factory.Conversation(t, e.db, factory.ConversationOpts{Body: "My invoice is wrong"})
	_, elsewhere, _ := factory.Conversation(t, e.db, factory.ConversationOpts{Body: "Another question"})
	transfer := "/conversations/" + conv.PublicID + "/transfer"
	messages := func() int64 {
		var n int64
		require.NoError(t, e.db.Model(&models.Message{}).Where("conversation_id = ?", conv.ID).Count(&n).Error)
		return n
	}

	sam := e.browser()
	sam.login("sam@example.com")
	page := sam.get("/conversations/" + conv.PublicID)
	require.Equal(t, http.StatusOK, page.StatusCode)
	assert.Equal(t, 1, page.doc.Find(`#conv-transfer option[value="team:`+idStr(team.ID)+`"]`).Length())
	assert.Zero(t, page.doc.Find(`#conv-transfer option[value^="agent:"]`).Length(), "the agents load when the menu is used")
	menu := sam.get(page.doc.Find("#f-transfer-to").AttrOr("data-options", ""), "HX-Request", "true")
	assert.Equal(t, 1, menu.doc.Find(`option[value="team:`+idStr(team.ID)+`"]`).Length())
	assert.Contains(t, menu.text(`option[value="agent:`+idStr(bo.ID)+`"]`), "(away)")
	assert.Equal(t, "away", page.doc.Find("#my-availability button").AttrOr("data-availability", ""))

	before := messages()
	for _, to := range []string{"", "team:999999", "agent:999999", "team:x", "nowhere"} {
		res := sam.post(transfer, url.Values{"to": {to}, "note": {"see order 42"}}, "HX-Request", "true")
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, to)
		assert.NotEmpty(t, res.text("#conv-transfer #e-to"), to)
		assert.Equal(t, "see order 42", res.text("#f-transfer-note"), "the note stays")
	}
	res := sam.post(transfer, url.Values{"to": {"agent:" + idStr(bo.ID)}, "note": {strings.Repeat("n", models.MaxMessageLen+1)}}, "HX-Request", "true")
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.NotEmpty(t, res.text("#conv-transfer #e-note"))
	assert.Equal(t, "agent:"+idStr(bo.ID), res.doc.Find("#f-transfer-to option[selected]").AttrOr("value", ""), "the refused choice stays chosen")
	assert.Equal(t, http.StatusForbidden, sam.post(transfer, url.Values{"to": {"team:" + idStr(team.ID)}, "_csrf": {"forged"}}).StatusCode, "CSRF")
	assert.Equal(t, before, messages(), "nothing stored")

	// Agents without customer data rights cannot see it, so cannot move it.
	pat := e.browser()
	pat.login("pat@example.com")
	assert.Equal(t, http.StatusNotFound, pat.post(transfer, url.Values{"to": {"team:" + idStr(team.ID)}}).StatusCode)
	assert.Equal(t, http.StatusForbidden, pat.post("/desk/availability", url.Values{"availability": {"online"}}).StatusCode)

	// Bo comes online (his switch); the transfer to Billing assigns him.
	bob := e.browser()
	bob.login("bo@example.com")
	assert.Equal(t, http.StatusForbidden, bob.post("/desk/availability", url.Values{"availability": {"online"}, "_csrf": {"forged"}}).StatusCode, "CSRF")
	res = bob.post("/desk/availability", url.Values{"availability": {"sleepy"}}, "HX-Request", "true")
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	res = bob.post("/desk/availability", url.Values{"availability": {"online"}}, "HX-Request", "true")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "online", res.doc.Find("#my-availability button").AttrOr("data-availability", ""))
	res = sam.post(transfer, url.Values{"to": {"team:" + idStr(team.ID)}, "note": {"Refund, see order 42"}}, "HX-Request", "true")
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	assert.Empty(t, res.doc.Find("#f-transfer-note").Text(), "the form comes back cleared")
	var got models.Conversation
	require.NoError(t, e.db.Omit("Customer", "Assignee").Take(&got, conv.ID).Error)
	require.NotNil(t, got.AssigneeID)
	assert.Equal(t, bo.ID, *got.AssigneeID)
	page = sam.get("/conversations/" + conv.PublicID)
	assert.Equal(t, "Billing", page.text("#conv-team .conv-team-name"))
	assert.Contains(t, page.text("#messages"), "Refund, see order 42")
	assert.Contains(t, page.text("#messages"), "Sam transferred the conversation to the Billing team")
	assert.Contains(t, page.text("#messages"), "Assigned to Bo (Billing team, next available agent)")

	// The inbox: the team filter, and Bo's My teams with the roster.
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error {
		return models.Transfer(ctx, tx, samU, elsewhere, models.TransferInput{TeamID: other.ID})
	}))
	inbox := sam.get("/inbox?team=" + idStr(team.ID))
	require.Equal(t, http.StatusOK, inbox.StatusCode)
	assert.Equal(t, 1, inbox.doc.Find("#row-"+conv.PublicID).Length())
	assert.Zero(t, inbox.doc.Find("#row-"+elsewhere.PublicID).Length(), "another team's queue")
	assert.Equal(t, idStr(team.ID), inbox.doc.Find("#f-team-filter option[selected]").AttrOr("value", ""))
	mine := bob.get("/inbox?filter=teams")
	require.Equal(t, http.StatusOK, mine.StatusCode)
	assert.Equal(t, 1, mine.doc.Find("#row-"+conv.PublicID).Length())
	assert.Zero(t, mine.doc.Find("#row-"+elsewhere.PublicID).Length(), "not Bo's team")
	assert.Contains(t, mine.text("#mate-"+idStr(bo.ID)), "Available")
	noTeam := sam.get("/inbox?filter=teams")
	assert.Zero(t, noTeam.doc.Find(".inbox-row").Length(), "Sam is in no team")
	assert.NotEmpty(t, noTeam.text("#team-roster .hint"))
}
