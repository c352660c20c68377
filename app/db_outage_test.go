package app

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/dbtest"
	"github.com/parleydesk/parley/models"
)

// outage makes the test instance's database unreachable, deterministically:
// it refuses new connections (ALLOW_CONNECTIONS false) and ends the open
// ones, as a restarting or unreachable server would. The returned function
// (also run when the test ends) lets connections in again.
func (e *testEnv) outage() (restore func()) {
	e.t.Helper()
	base, err := dbtest.BaseURL()
	require.NoError(e.t, err)
	u, err := url.Parse(e.url)
	require.NoError(e.t, err)
	name := strings.TrimPrefix(u.Path, "/")
	dbtest.DiscardPool(e.url) // its connections are about to be ended
	admin, err := sql.Open("pgx", base)
	require.NoError(e.t, err)
	ident := pgx.Identifier{name}.Sanitize()
	_, err = admin.Exec("ALTER DATABASE " + ident + " WITH ALLOW_CONNECTIONS false")
	require.NoError(e.t, err)
	_, err = admin.Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", name)
	require.NoError(e.t, err)
	done := false
	restore = func() {
		if done {
			return
		}
		done = true
		_, err := admin.Exec("ALTER DATABASE " + ident + " WITH ALLOW_CONNECTIONS true")
		assert.NoError(e.t, err)
		admin.Close()
	}
	e.t.Cleanup(restore)
	return restore
}

// countMessages counts a conversation's messages with this body.
func (e *testEnv) countMessages(pid, body string) int64 {
	e.t.Helper()
	var n int64
	require.NoError(e.t, e.db.Raw(`SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id
		WHERE c.public_id = ? AND m.body = ?`, pid, body).Scan(&n).Error)
	return n
}

// While the database is unreachable, posts answer 503 with Retry-After and
// a translated message (a toast for htmx, a page otherwise), not a 500;
// once it is back, the retried post goes through.
func TestDatabaseOutageAnswers503(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ana", "ana@example.com", models.RoleAgent, true)
	agent := e.browser()
	agent.login("ana@example.com")
	w := e.newVisitor()
	w.lang = "fr"
	pid := w.start("Bonjour")

	restore := e.outage()
	res := w.post("/widget/conversations/"+pid+"/messages", url.Values{"body": {"Vous êtes là ?"}})
	require.Equal(t, http.StatusServiceUnavailable, res.StatusCode, res.body)
	assert.Equal(t, "5", res.Header.Get("Retry-After"))
	var trigger struct {
		Toast struct{ Level, Message string }
	}
	require.NoError(t, json.Unmarshal([]byte(res.Header.Get("HX-Trigger")), &trigger), res.Header.Get("HX-Trigger"))
	assert.Equal(t, "error", trigger.Toast.Level)
	assert.Contains(t, trigger.Toast.Message, "base de données", "translated (French)")

	// The desk too: a plain form post gets the page, in the agent's words.
	res = agent.post("/conversations/"+pid+"/messages", url.Values{"body": {"Oui"}})
	require.Equal(t, http.StatusServiceUnavailable, res.StatusCode, res.body)
	assert.Equal(t, "5", res.Header.Get("Retry-After"))
	assert.Contains(t, res.body, "cannot reach its database")
	assert.NotContains(t, e.logs.String(), "level=ERROR msg=\"request failed\"", "an outage is not a server bug")

	restore()
	res = w.post("/widget/conversations/"+pid+"/messages", url.Values{"body": {"Vous êtes là ?"}})
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	assert.EqualValues(t, 1, e.countMessages(pid, "Vous êtes là ?"))
}

// dbUnavailable tells an unreachable database from a failing query.
func TestDBUnavailableClassification(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	// A query that is wrong is a bug (500), not an outage.
	err := e.db.WithContext(ctx).Exec("SELECT no_such_column FROM conversations").Error
	require.Error(t, err)
	assert.False(t, dbUnavailable(err), "%v", err)
	// A refused connection is an outage (503).
	_, err = pgx.Connect(ctx, "postgres://nobody@127.0.0.1:1/none?connect_timeout=5")
	require.Error(t, err)
	assert.True(t, dbUnavailable(err), "%v", err)
	assert.False(t, dbUnavailable(models.ErrNotFound))
	// A truncated request body is the client's doing, not the database's.
	assert.False(t, dbUnavailable(fmt.Errorf("read form: %w", io.ErrUnexpectedEOF)))
	// Waiting too long for a connection is.
	assert.True(t, dbUnavailable(fmt.Errorf("find visitor: %w", context.DeadlineExceeded)))
}
