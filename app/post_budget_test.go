package app

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/models"
)

// What posting a message costs in round trips to PostgreSQL, counted for
// the two posts of every chat: a visitor's message in the widget and an
// agent's reply in the desk (issue 12 item 3). Each still commits with its
// event and its follow-up jobs in one transaction.
func TestPostingAMessageStatementBudget(t *testing.T) {
	t.Parallel()
	st := &statementCounter{requestsOnly: true}
	e := setup(t, envOpts{statements: st})
	e.user("Ana", "ana@example.com", models.RoleAgent, true)
	agent := e.browser()
	agent.login("ana@example.com")
	w := e.newVisitor()
	pid := w.start("Hello")
	// The first post of each kind warms what an instance keeps.
	require.Equal(t, http.StatusOK, w.post("/widget/conversations/"+pid+"/messages", url.Values{"body": {"first"}}).StatusCode)
	require.Equal(t, http.StatusOK, agent.post("/conversations/"+pid+"/messages", url.Values{"body": {"first reply"}}, "HX-Request", "true").StatusCode)

	// Each post carries its idempotency key, as the widget's and the
	// desk's do: a first post finds its key free in the insert itself.
	visitor := st.during(func() {
		res := w.post("/widget/conversations/"+pid+"/messages", url.Values{"body": {"are you there?"}, "idempotency_key": {"budget-visitor-1"}})
		require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	})
	reply := st.during(func() {
		res := agent.post("/conversations/"+pid+"/messages", url.Values{"body": {"yes"}, "idempotency_key": {"budget-agent-1"}}, "HX-Request", "true")
		require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	})
	t.Logf("visitor message: %d statements, agent reply: %d", len(visitor), len(reply))
	for _, c := range []struct {
		name   string
		sqls   []string
		budget int
	}{
		// The visitor's token, then one transaction: the conversation
		// scoped and locked with the desk settings it decides by (FOR
		// SHARE) in one batch, the message with its event (which the
		// insert returns: no read of the transaction's events back), their
		// jobs. (11 before the composer's file limits came from the
		// instance's copy and the lookup became the lock, 8 before the
		// read-back went, 9 with the key looked up before the insert, 7
		// with the settings read on their own.)
		{"visitor message", visitor, 6},
		// The session, the same transaction without the settings, and the
		// teammates the composer's "To" menu lists (10, then 8, before).
		{"agent reply", reply, 7},
	} {
		all := strings.Join(c.sqls, "\n")
		require.LessOrEqual(t, len(c.sqls), c.budget, "%s:\n%s", c.name, all)
		require.Equal(t, 1, strings.Count(all, "\nbegin\n"), "%s: one transaction\n%s", c.name, all)
		require.Contains(t, all, "INSERT INTO events", "%s: the message commits with its event", c.name)
		require.Contains(t, all, "INSERT INTO river_job", "%s: and with its jobs", c.name)
		require.NotContains(t, all, "pg_notify", "%s: no NOTIFY in the request", c.name)
		require.NotContains(t, all, "WHERE xid = pg_current_xact_id()", "%s: the inserts return the events", c.name)
		require.Less(t, strings.Index(all, "river_job"), strings.Index(all, "\ncommit"), "%s: the jobs are inserted before the commit", c.name)
	}
}
