package app

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/models"
)

func TestAdminPagesNeedAdminRole(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	bob := e.user("Bob", "bob@example.com", models.RoleAgent, true)
	agent := e.browser()
	agent.login("bob@example.com")

	pages := []string{"/admin", "/admin/agents", "/admin/agents/new", fmt.Sprintf("/admin/agents/%d/edit", bob.ID), "/admin/teams"}
	for _, p := range pages {
		res := agent.get(p)
		require.Equal(t, http.StatusForbidden, res.StatusCode, p)
		assert.Contains(t, res.body, "Your account cannot open this page", p)
	}
	res := agent.post("/admin/agents", url.Values{"name": {"Mallory"}, "email": {"m@example.com"}, "password": {"correct horse"}, "role": {"admin"}})
	require.Equal(t, http.StatusForbidden, res.StatusCode)
	res = agent.post(fmt.Sprintf("/admin/agents/%d", bob.ID), url.Values{"name": {"Bob"}, "email": {"bob@example.com"}, "role": {"admin"}})
	require.Equal(t, http.StatusForbidden, res.StatusCode, "no self-promotion")
	u, err := models.FindUser(t.Context(), e.db, bob.ID)
	require.NoError(t, err)
	require.Equal(t, models.RoleAgent, u.Role)

	// The navigation shows no admin links to agents.
	res = agent.get("/account")
	assert.Zero(t, res.doc.Find(`a[href^="/admin"]`).Length())

	// Signed-out visitors are sent to sign in.
	anon := e.browser()
	res = anon.get("/admin/agents")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
}

func TestAdminCreatesAgent(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	b := e.browser()
	b.login("ada@example.com")
	b.get("/admin/agents/new")

	res := b.post("/admin/agents", url.Values{"name": {"Bob Agent"}, "email": {"bob@example.com"}, "password": {"correct horse"}, "role": {"agent"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.body)
	res = b.get("/admin/agents")
	assert.Contains(t, res.text("#toasts"), "Bob Agent can now sign in.")
	row := res.doc.Find("#agents tr:contains('bob@example.com')")
	require.Equal(t, 1, row.Length())
	assert.Contains(t, row.Text(), "Agent")
	assert.NotContains(t, row.Text(), "Customer support", "unticked checkbox means no support flag")

	// Duplicate email (any case): message beside the field, nothing stored.
	res = b.post("/admin/agents", url.Values{"name": {"Other Bob"}, "email": {"BOB@example.com"}, "password": {"correct horse"}, "role": {"agent"}, "customer_support": {"on"}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Equal(t, "Someone already uses this email address.", res.text("#e-email"))
	v, _ := res.doc.Find("#f-name").Attr("value")
	assert.Equal(t, "Other Bob", v)
	_, checked := res.doc.Find(`input[name="customer_support"]`).Attr("checked")
	assert.True(t, checked, "the form comes back as typed")
	require.EqualValues(t, 2, countUsers(t, e))

	// Bad role and short password.
	res = b.post("/admin/agents", url.Values{"name": {"C"}, "email": {"c@example.com"}, "password": {"short"}, "role": {"superuser"}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Equal(t, "Use at least 8 characters.", res.text("#e-password"))
	assert.Equal(t, "Choose a role.", res.text("#e-role"))
	require.EqualValues(t, 2, countUsers(t, e))
}

func TestAdminEditsAndDeactivates(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ada := e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	bob := e.user("Bob", "bob@example.com", models.RoleAgent, false)
	b := e.browser()
	b.login("ada@example.com")
	b.get("/admin/agents")

	res := b.post(fmt.Sprintf("/admin/agents/%d", bob.ID), url.Values{"name": {"Robert"}, "email": {"bob@example.com"}, "role": {"admin"}, "customer_support": {"on"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.body)
	u, err := models.FindUser(t.Context(), e.db, bob.ID)
	require.NoError(t, err)
	assert.Equal(t, "Robert", u.Name)
	assert.Equal(t, models.RoleAdmin, u.Role)
	assert.True(t, u.CustomerSupport)

	// An admin cannot deactivate themselves.
	res = b.post(fmt.Sprintf("/admin/agents/%d/deactivate", ada.ID), nil)
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Contains(t, res.text(".alert-error"), "You cannot deactivate your own account.")

	res = b.post(fmt.Sprintf("/admin/agents/%d/deactivate", bob.ID), nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res = b.get("/admin/agents")
	assert.Contains(t, res.text(fmt.Sprintf("#agent-%d", bob.ID)), "Deactivated")

	// The last active admin cannot be demoted.
	res = b.post(fmt.Sprintf("/admin/agents/%d", ada.ID), url.Values{"name": {"Ada"}, "email": {"ada@example.com"}, "role": {"agent"}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Contains(t, res.text("#e-role"), "at least one active admin")

	// Unknown ids are 404s.
	require.Equal(t, http.StatusNotFound, b.get("/admin/agents/999999/edit").StatusCode)
	require.Equal(t, http.StatusNotFound, b.get("/admin/agents/abc/edit").StatusCode)
}

func TestAdminSetsAgentPasswordAndEndsTheirSessions(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	bob := e.user("Bob", "bob@example.com", models.RoleAgent, true)
	bobBrowser := e.browser()
	bobBrowser.login("bob@example.com")

	b := e.browser()
	b.login("ada@example.com")
	b.get("/admin/agents")
	res := b.post(fmt.Sprintf("/admin/agents/%d/password", bob.ID), url.Values{"password": {"x"}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Equal(t, "Use at least 8 characters.", res.text("#e-password"))

	res = b.post(fmt.Sprintf("/admin/agents/%d/password", bob.ID), url.Values{"password": {"a new secret"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, http.StatusSeeOther, bobBrowser.get("/account").StatusCode, "Bob is signed out")
	_, err := models.Authenticate(t.Context(), e.db, "bob@example.com", "a new secret", "127.0.0.9", models.DefaultLoginLimits)
	require.NoError(t, err)
}

func TestTeams(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	bob := e.user("Bob", "bob@example.com", models.RoleAgent, true)
	b := e.browser()
	b.login("ada@example.com")
	b.get("/admin/teams")

	res := b.post("/admin/teams", url.Values{"name": {""}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Equal(t, "Enter a name.", res.text("#e-name"))

	res = b.post("/admin/teams", url.Values{"name": {"Billing"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	teamURL := res.Header.Get("Location")
	res = b.post("/admin/teams", url.Values{"name": {"billing"}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Equal(t, "A team with this name already exists.", res.text("#e-name"))

	res = b.post(teamURL+"/members", url.Values{"user_id": {fmt.Sprint(bob.ID)}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res = b.post(teamURL+"/members", url.Values{"user_id": {"999999"}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	res = b.get(teamURL)
	assert.Contains(t, res.text("#members"), "Bob")

	res = b.post(teamURL, url.Values{"name": {"Billing & Refunds"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res = b.get("/admin/teams")
	assert.Contains(t, res.text("#teams"), "Billing & Refunds")
	assert.Contains(t, res.text("#teams"), "Bob")

	res = b.post(fmt.Sprintf("%s/members/%d/remove", teamURL, bob.ID), nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res = b.post(teamURL+"/delete", nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, http.StatusNotFound, b.get(teamURL).StatusCode)
}

func TestUserTextIsEscaped(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	e.user(`<script>alert("x")</script>`, "x@example.com", models.RoleAgent, true)
	b := e.browser()
	b.login("ada@example.com")
	res := b.get("/admin/agents")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.NotContains(t, res.body, `<script>alert("x")</script>`)
	assert.Contains(t, res.body, `&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;`)
	assert.Equal(t, 0, res.doc.Find("#agents script").Length())
}
