package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

func cannedCount(t *testing.T, e *testEnv) int64 {
	t.Helper()
	var n int64
	require.NoError(t, e.db.Model(&models.CannedReply{}).Count(&n).Error)
	return n
}

func cannedID(t *testing.T, e *testEnv, title string) int64 {
	t.Helper()
	var r models.CannedReply
	require.NoError(t, e.db.Where("title = ?", title).Take(&r).Error)
	return r.ID
}

// TestCannedRepliesPage: create, list (most used first, search), edit and
// delete through the page; bad input is a 422 with the message beside its
// field and nothing stored.
func TestCannedRepliesPage(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Sam", "sam@example.com", models.RoleAgent, true)
	b := e.browser()
	b.login("sam@example.com")

	res := b.get("/canned")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "/canned", res.doc.Find("#nav-canned").AttrOr("href", ""))
	assert.Equal(t, http.StatusOK, b.get("/canned/new").StatusCode)

	valid := url.Values{"title": {"Greeting"}, "shortcut": {"greet"}, "body": {"Hello {{customer.name | there}}!"}, "scope": {"personal"}}
	with := func(k, v string) url.Values {
		out := url.Values{}
		for key, vs := range valid {
			out[key] = vs
		}
		out.Set(k, v)
		return out
	}
	for _, tc := range []struct {
		values      url.Values
		field, want string
	}{
		{with("title", ""), "title", "Give the reply a title."},
		{with("body", "   "), "body", "Write the reply's text."},
		{with("body", strings.Repeat("é", models.MaxCannedBody+1)), "body", "at most 5000 characters"},
		{with("body", "Hi {{customer.phone}}"), "body", "Unknown placeholder {{customer.phone}}. Use one of: {{customer.name}}, {{customer.email}}, {{agent.name}}, {{conversation.number}}."},
		{with("url", "javascript:alert(1)"), "url", "http:// or https://"},
		{with("url", "https://exa mple.com"), "url", "http:// or https://"},
		{with("scope", "desk"), "scope", "Only admins"},
		{with("scope", "team-999"), "team_id", "one of your teams"},
	} {
		res := b.post("/canned", tc.values)
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "%v", tc.values)
		assert.Contains(t, res.text("#e-"+tc.field), tc.want)
		assert.Equal(t, tc.values.Get("title"), res.doc.Find("#f-title").AttrOr("value", ""), "the form comes back filled in")
	}
	assert.Zero(t, cannedCount(t, e), "nothing stored")

	res = b.post("/canned", valid)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.body)
	require.Equal(t, http.StatusSeeOther, b.post("/canned", url.Values{"title": {"Bye"}, "body": {"Bye now"}, "scope": {"personal"}}).StatusCode)
	greet, bye := cannedID(t, e, "Greeting"), cannedID(t, e, "Bye")
	require.NoError(t, e.db.Model(&models.CannedReply{}).Where("id = ?", bye).Update("usage_count", 5).Error)

	res = b.get("/canned")
	rows := res.doc.Find("#canned tbody tr")
	require.Equal(t, 2, rows.Length())
	assert.Equal(t, fmt.Sprintf("canned-%d", bye), rows.First().AttrOr("id", ""), "most used first")
	assert.Equal(t, "#greet", res.text(fmt.Sprintf("#canned-%d code", greet)))
	res = b.get("/canned?q=THERE")
	assert.Equal(t, 1, res.doc.Find("#canned tbody tr").Length(), "search covers the body")

	// Edit: bad input is a 422 on the edit form; good input saves.
	res = b.get(fmt.Sprintf("/canned/%d/edit", greet))
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "Hello {{customer.name | there}}!", res.text("#f-body"))
	res = b.post(fmt.Sprintf("/canned/%d", greet), with("body", "{{oops}}"))
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Contains(t, res.text("#e-body"), "Unknown placeholder {{oops}}")
	res = b.post(fmt.Sprintf("/canned/%d", greet), with("url", "https://example.com/help"))
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.body)
	var stored models.CannedReply
	require.NoError(t, e.db.Take(&stored, greet).Error)
	assert.Equal(t, "https://example.com/help", stored.URL)

	require.Equal(t, http.StatusSeeOther, b.post(fmt.Sprintf("/canned/%d/delete", bye), nil).StatusCode)
	assert.EqualValues(t, 1, cannedCount(t, e))
}

// TestCannedRepliesAccess: the routes follow models' rules: another
// agent's personal reply is not found, a team's is not found outside the
// team, a desk-wide one is used by all and changed by admins only; every
// write needs the CSRF token.
func TestCannedRepliesAccess(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	admin := e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	sam := e.user("Sam", "sam@example.com", models.RoleAgent, true)
	e.user("Olly", "olly@example.com", models.RoleAgent, true)
	team, err := models.CreateTeam(ctx, e.db, "Billing")
	require.NoError(t, err)
	require.NoError(t, models.AddTeamMember(ctx, e.db, team.ID, sam.ID))
	mk := func(u *models.User, in models.CannedInput) int64 {
		in.Body = "Body of " + in.Title
		r, err := models.CreateCanned(ctx, e.db, u, in)
		require.NoError(t, err)
		return r.ID
	}
	personal := mk(sam, models.CannedInput{Scope: models.CannedPersonal, Title: "Sam's own"})
	teamR := mk(sam, models.CannedInput{Scope: models.CannedTeam, TeamID: team.ID, Title: "Billing hello"})
	desk := mk(admin, models.CannedInput{Scope: models.CannedDesk, Title: "Desk hello"})
	w := e.newVisitor()
	pid := w.start("Hi")

	olly := e.browser()
	olly.login("olly@example.com")
	res := olly.get("/canned")
	assert.Equal(t, 1, res.doc.Find("#canned tbody tr").Length(), "only the desk-wide reply")
	assert.Equal(t, 0, res.doc.Find(fmt.Sprintf("#canned-%d a, #canned-%d form", desk, desk)).Length(), "no edit for a non-admin")
	picker := olly.get("/conversations/"+pid+"/canned", "HX-Request", "true")
	require.Equal(t, http.StatusOK, picker.StatusCode)
	assert.Equal(t, 1, picker.doc.Find("#canned-options [role=option]").Length())

	edit := url.Values{"title": {"x"}, "body": {"y"}, "scope": {"personal"}}
	for _, tc := range []struct {
		id   int64
		want int
	}{{personal, http.StatusNotFound}, {teamR, http.StatusNotFound}, {desk, http.StatusForbidden}} {
		assert.Equal(t, tc.want, olly.get(fmt.Sprintf("/canned/%d/edit", tc.id)).StatusCode, "edit %d", tc.id)
		assert.Equal(t, tc.want, olly.post(fmt.Sprintf("/canned/%d", tc.id), edit).StatusCode, "update %d", tc.id)
		assert.Equal(t, tc.want, olly.post(fmt.Sprintf("/canned/%d/delete", tc.id), nil).StatusCode, "delete %d", tc.id)
	}
	assert.Equal(t, http.StatusNotFound, olly.post(fmt.Sprintf("/conversations/%s/canned/%d", pid, personal), nil).StatusCode)
	assert.Equal(t, http.StatusNotFound, olly.post(fmt.Sprintf("/conversations/%s/canned/%d", pid, teamR), nil).StatusCode)
	assert.Equal(t, http.StatusOK, olly.post(fmt.Sprintf("/conversations/%s/canned/%d", pid, desk), nil).StatusCode)
	assert.EqualValues(t, 3, cannedCount(t, e), "nothing deleted")

	// The team member manages the team's reply; the admin the desk's.
	sb := e.browser()
	sb.login("sam@example.com")
	assert.Equal(t, http.StatusOK, sb.get(fmt.Sprintf("/canned/%d/edit", teamR)).StatusCode)
	assert.Equal(t, http.StatusForbidden, sb.get(fmt.Sprintf("/canned/%d/edit", desk)).StatusCode)
	ab := e.browser()
	ab.login("ada@example.com")
	assert.Equal(t, http.StatusOK, ab.get(fmt.Sprintf("/canned/%d/edit", desk)).StatusCode)
	assert.Equal(t, http.StatusNotFound, ab.get(fmt.Sprintf("/canned/%d/edit", personal)).StatusCode, "personal is the owner's alone")

	// CSRF on every write.
	bad := func(v url.Values) url.Values {
		out := url.Values{"_csrf": {"wrong"}}
		for k, vs := range v {
			out[k] = vs
		}
		return out
	}
	for _, path := range []string{"/canned", fmt.Sprintf("/canned/%d", teamR), fmt.Sprintf("/canned/%d/delete", teamR),
		fmt.Sprintf("/conversations/%s/canned/%d", pid, teamR)} {
		assert.Equal(t, http.StatusForbidden, sb.post(path, bad(url.Values{"title": {"Billing bye"}, "body": {"z"}, "scope": {"personal"}})).StatusCode, path)
	}
	var r models.CannedReply
	require.NoError(t, e.db.Take(&r, teamR).Error)
	assert.Equal(t, "Billing hello", r.Title)
	assert.Zero(t, r.UsageCount)
	assert.EqualValues(t, 3, cannedCount(t, e))
}

// TestCannedResolve: inserting a reply resolves its placeholders on the
// server for the conversation and the agent, counts the use, and refuses a
// conversation the agent cannot see; customer fields stay blank (their
// defaults) for agents without customer-data rights.
func TestCannedResolve(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	admin := e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	olly := e.user("Olly", "olly@example.com", models.RoleAgent, false) // no customer data
	r, err := models.CreateCanned(ctx, e.db, admin, models.CannedInput{Scope: models.CannedDesk, Title: "Greeting",
		Body: "Hi {{customer.name | there}} <{{customer.email}}>, {{agent.name}} here", URL: "https://example.com/help?a=1&b=2"})
	require.NoError(t, err)
	w := e.newVisitor()
	pid := w.start("Hello")
	require.NoError(t, e.db.Model(&models.Customer{}).Where("id = ?", w.visitor().CustomerID).
		Updates(map[string]any{"name": "Chloé", "email": "chloe@example.com"}).Error)

	use := func(b *browser, pid string) (int, cannedText) {
		res := b.post(fmt.Sprintf("/conversations/%s/canned/%d", pid, r.ID), nil)
		var out cannedText
		if res.StatusCode == http.StatusOK {
			require.NoError(t, json.Unmarshal([]byte(res.body), &out))
		}
		return res.StatusCode, out
	}
	ab := e.browser()
	ab.login("ada@example.com")
	status, out := use(ab, pid)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, "Hi Chloé <chloe@example.com>, Ada here", out.Text)
	assert.Equal(t, "https://example.com/help?a=1&b=2", out.URL)

	ob := e.browser()
	ob.login("olly@example.com")
	status, _ = use(ob, pid)
	assert.Equal(t, http.StatusNotFound, status, "a customer conversation Olly cannot see")
	assert.Equal(t, http.StatusNotFound, ob.get("/conversations/"+pid+"/canned", "HX-Request", "true").StatusCode)

	// In a teammate chat Olly is in, customer placeholders take their defaults.
	chat, _, err := factory.Write2(e.db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartInternalConversation(ctx, tx, admin, []int64{olly.ID}, "Team chat")
	})
	require.NoError(t, err)
	status, out = use(ob, chat.PublicID)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, "Hi there <>, Olly here", out.Text)

	var stored models.CannedReply
	require.NoError(t, e.db.Take(&stored, r.ID).Error)
	assert.EqualValues(t, 2, stored.UsageCount, "counted per insertion, not for refusals")
}

// TestScriptedURLCard: a reply sent with a canned reply's link shows it as a
// card in the desk and the customer's widget, escaped, opening in a new tab
// without a referrer; a javascript: link is refused and nothing is sent.
func TestScriptedURLCard(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Sam", "sam@example.com", models.RoleAgent, true)
	w := e.newVisitor()
	pid := w.start("Where is the guide?")
	b := e.browser()
	b.login("sam@example.com")

	res := b.post("/conversations/"+pid+"/messages", url.Values{"body": {"Here you go"}, "link_url": {"javascript:alert(1)"}}, "HX-Request", "true")
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Contains(t, res.text("#e-link_url"), "http:// or https://")
	assert.Equal(t, "Here you go", res.text("#f-body"), "the text stays")
	var n int64
	require.NoError(t, e.db.Model(&models.Message{}).Where("body = ?", "Here you go").Count(&n).Error)
	assert.Zero(t, n)

	link := "https://example.com/guide?a=1&b='x'"
	res = b.post("/conversations/"+pid+"/messages", url.Values{"body": {"Here you go"}, "link_url": {link}}, "HX-Request", "true")
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)

	for _, page := range []*response{w.get("/widget/conversations/" + pid), b.get("/conversations/" + pid)} {
		card := page.doc.Find("a.link-card")
		require.Equal(t, 1, card.Length(), page.body)
		assert.Equal(t, link, card.AttrOr("href", ""))
		assert.Equal(t, "_blank", card.AttrOr("target", ""))
		assert.Equal(t, "noopener noreferrer", card.AttrOr("rel", ""))
		assert.Equal(t, link, strings.TrimSpace(card.Find(".link-card-url").Text()))
		assert.NotContains(t, page.body, "b='x'", "escaped in the HTML")
	}
}
