package app

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/smtptest"
	"github.com/parleydesk/parley/models"
)

// jsonRequest sends a JSON request with the browser's cookies, as River's UI
// does (no CSRF token); headers are name, value pairs.
func (b *browser) jsonRequest(method, path, body string, headers ...string) *response {
	b.e.t.Helper()
	req, err := http.NewRequest(method, b.e.srv.URL+path, strings.NewReader(body))
	require.NoError(b.e.t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return b.do(req)
}

// The jobs page is River's UI, for admins only: it lists a failed email
// job with its error, and its "retry" action works from the same site
// while a cross-site or form-encoded request is refused.
func TestJobsPage(t *testing.T) {
	t.Parallel()
	e, smtp := mailEnv(t)
	e.user("Ada Admin", "ada@acme.test", models.RoleAdmin, false)
	agent := e.user("Ana", "ana@nowhere.test", models.RoleAgent, true)
	e.emailPrefs(agent, models.DeliveryImmediate, 5)
	smtp.RejectRecipients(func(a string) bool { return a == "ana@nowhere.test" }, smtptest.Permanent)
	e.newVisitor().start("Hello")
	e.allMail()
	failed := e.jobsOf("agent_email")
	require.Len(t, failed, 1)
	require.Equal(t, "cancelled", failed[0].State)

	// Agents and signed-out visitors cannot see it.
	anon := e.browser()
	res := anon.get("/admin/jobs")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.True(t, strings.HasPrefix(res.Header.Get("Location"), "/login"))
	ana := e.browser()
	ana.login("ana@nowhere.test")
	require.Equal(t, http.StatusForbidden, ana.get("/admin/jobs").StatusCode)
	require.Equal(t, http.StatusForbidden, ana.get("/admin/jobs/api/jobs?state=cancelled", "Accept", "application/json").StatusCode)
	require.Equal(t, http.StatusForbidden, ana.jsonRequest(http.MethodPost, "/admin/jobs/api/jobs/retry", `{"ids":["1"]}`).StatusCode)

	b := e.browser()
	b.login("ada@acme.test")
	res = b.get("/admin/jobs")
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, 1, res.doc.Find("#root").Length(), res.body)
	// Its script and style sheet load from here (the page's CSP allows only 'self').
	script, ok := res.doc.Find(`script[type=module]`).Attr("src")
	require.True(t, ok)
	require.True(t, strings.HasPrefix(script, "/admin/jobs/assets/"), script)
	require.Equal(t, http.StatusOK, b.get(script).StatusCode)
	require.Contains(t, res.Header.Get("Content-Security-Policy"), "script-src 'self'")

	// The failed job, with its error.
	res = b.get("/admin/jobs/api/jobs?state=cancelled", "Accept", "application/json")
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	var list struct {
		Data []struct {
			ID   json.Number `json:"id"`
			Kind string      `json:"kind"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(res.body), &list), res.body)
	require.Len(t, list.Data, 1, res.body)
	require.Equal(t, "agent_email", list.Data[0].Kind)
	require.Equal(t, strconv.FormatInt(failed[0].ID, 10), list.Data[0].ID.String())
	// Its page shows the error of each attempt.
	res = b.get("/admin/jobs/api/jobs/"+list.Data[0].ID.String(), "Accept", "application/json")
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	var job struct {
		Attempt int `json:"attempt"`
		Errors  []struct {
			Error string `json:"error"`
		} `json:"errors"`
	}
	require.NoError(t, json.Unmarshal([]byte(res.body), &job), res.body)
	require.Equal(t, 1, job.Attempt)
	require.Len(t, job.Errors, 1, res.body)
	require.Contains(t, job.Errors[0].Error, "No such user here")

	// Writes: refused cross-site and as a form, accepted from the page.
	retry := `{"ids":["` + strconv.FormatInt(failed[0].ID, 10) + `"]}`
	require.Equal(t, http.StatusForbidden, b.jsonRequest(http.MethodPost, "/admin/jobs/api/jobs/retry", retry,
		"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example").StatusCode)
	form := b.jsonRequest(http.MethodPost, "/admin/jobs/api/jobs/retry", retry, "Content-Type", "text/plain")
	require.Equal(t, http.StatusUnsupportedMediaType, form.StatusCode)
	require.Equal(t, "cancelled", e.jobsOf("agent_email")[0].State)

	smtp.RejectRecipients(nil, nil)
	res = b.jsonRequest(http.MethodPost, "/admin/jobs/api/jobs/retry", retry, "Sec-Fetch-Site", "same-origin", "Origin", e.srv.URL)
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	// Once the server accepts the address, the retried job sends the email.
	e.waitJobs("agent_email")
	require.Equal(t, "completed", e.jobsOf("agent_email")[0].State)
	msgs := smtp.Messages()
	require.Len(t, msgs, 1)
	require.Equal(t, []string{"ana@nowhere.test"}, msgs[0].To)
}
