package app

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/browsertest"
	"github.com/parleydesk/parley/models"
)

// What River's UI API cannot take (River panics on limit=0; a malformed
// queue name was a 500) is answered by Parley with a 400 and a JSON message
// before it reaches the UI; well-formed requests still pass.
func TestJobsAPIRefusesWhatRiverUICannotTake(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ada", "ada@example.com", models.RoleAdmin, false)
	b := e.browser()
	b.login("ada@example.com")
	api := func(q string) *response {
		return b.get("/admin/jobs/api/"+q, "Accept", "application/json")
	}
	bad := []struct{ name, path, says string }{
		{"limit zero", "jobs?limit=0", "limit"},
		{"negative limit", "jobs?limit=-5", "limit"},
		{"huge limit", "jobs?limit=100000", "limit"},
		{"limit not a number", "jobs?limit=ten", "limit"},
		{"queue list limit zero", "queues?limit=0", "limit"},
		{"bad queue name", "jobs?queues=" + "%22%3B+drop", "queues"},
		{"upper-case queue", "jobs?queues=Mail", "queues"},
		{"queue too long", "jobs?queues=" + strings.Repeat("q", 65), "queues"},
		{"bad kind", "jobs?kinds=a%20b", "kinds"},
		{"bad state", "jobs?state=sleeping", "state"},
		{"non-numeric id", "jobs?ids=abc", "ids"},
		{"zero id", "jobs?ids=0", "ids"},
		{"bad priority", "jobs?priorities=9", "priorities"},
		// Not text at all: refused at the request edge, in the API's shape.
		{"invalid UTF-8", "jobs?kinds=%ff", "What was sent contains"},
		{"NUL byte", "autocomplete?facet=job_kind&match=a%00b", "What was sent contains"},
		{"bad facet", "autocomplete?facet=users", "facet"},
		{"too many queues", "jobs?" + strings.Repeat("queues=mail&", 101), "queues"},
		{"job id not a number", "jobs/abc", "job id"},
		{"bad queue in path", "queues/Bad%20Name", "queue"},
	}
	for _, tc := range bad {
		res := api(tc.path)
		require.Equal(t, http.StatusBadRequest, res.StatusCode, "%s: %s", tc.name, res.body)
		assert.True(t, strings.HasPrefix(res.Header.Get("Content-Type"), "application/json"), tc.name)
		var msg struct{ Message string }
		require.NoError(t, json.Unmarshal([]byte(res.body), &msg), tc.name)
		assert.True(t, strings.HasPrefix(msg.Message, tc.says), "%s: %q", tc.name, msg.Message)
		assert.Equal(t, "no-store", res.Header.Get("Cache-Control"), tc.name)
	}
	for _, ok := range []string{"jobs?limit=1", "jobs?limit=1000&state=cancelled&queues=mail&queues=default&kinds=agent_email&priorities=1&ids=5",
		"queues?limit=100", "autocomplete?facet=queue_name&match=ma", "states", "jobs/12345"} {
		res := api(ok)
		assert.Contains(t, []int{http.StatusOK, http.StatusNotFound}, res.StatusCode, "%s: %s", ok, res.body)
	}
	assert.NotContains(t, e.logs.String(), "panic")
}

// Every /admin/jobs response says no-store: the page, the API, its assets,
// and the refusals of the admin check.
func TestJobsResponsesAreNotStored(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Ada", "ada@example.com", models.RoleAdmin, false)
	e.user("Ana", "ana@example.com", models.RoleAgent, true)
	admin, agent, anon := e.browser(), e.browser(), e.browser()
	admin.login("ada@example.com")
	agent.login("ana@example.com")

	page := admin.get("/admin/jobs")
	require.Equal(t, http.StatusOK, page.StatusCode)
	script := page.doc.Find(`script[type=module]`).AttrOr("src", "")
	require.NotEmpty(t, script)
	for _, res := range []*response{
		page,
		admin.get("/admin/jobs/jobs?state=cancelled"),
		admin.get(script),
		admin.get("/admin/jobs/api/jobs?state=cancelled", "Accept", "application/json"),
		admin.get("/admin/jobs/api/jobs?limit=0", "Accept", "application/json"),
		agent.get("/admin/jobs"),
		anon.get("/admin/jobs/api/jobs"),
	} {
		assert.Equal(t, "no-store", res.Header.Get("Cache-Control"), "%s %d", res.Request.URL, res.StatusCode)
	}
}

// The jobs page carries Parley's header: from River's UI the admin clicks
// back to the desk and to the other admin pages.
func TestBrowserJobsPageLeadsBackToTheDesk(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t)
	e.user("Ada Admin", "ada@example.com", models.RoleAdmin, true)
	tab := deskTab(t, e, "ada@example.com")
	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate(e.srv.URL+"/admin/jobs"),
		until(`document.querySelector('#root') && document.querySelector('#root').innerText.indexOf('Cancelled') >= 0`),
		chromedp.WaitVisible(chromedp.ID("jobs-back")),
		// The bar sits above River's UI, which keeps the rest of the window.
		// Nothing of River's UI (its fixed sidebar) covers the bar's links.
		until(`(function(){ var r = document.getElementById('jobs-back').getBoundingClientRect(); return document.elementFromPoint(r.left + r.width/2, r.top + r.height/2) === document.getElementById('jobs-back'); })()`),
		browsertest.Click("#jobs-back"),
		chromedp.WaitVisible(chromedp.CSS(".user-menu")),
	))
	loc, err := chromedp.Run(tab, chromedp.Location())
	require.NoError(t, err)
	assert.True(t, strings.HasSuffix(loc, "/inbox"), loc)

	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate(e.srv.URL+"/admin/jobs/queues"),
		chromedp.WaitVisible(chromedp.CSS(`#parley-jobs-bar a[href="/admin/agents"]`)),
		browsertest.Click(`#parley-jobs-bar a[href="/admin/agents"]`),
		chromedp.WaitVisible(chromedp.ID("agents")),
	))
}
