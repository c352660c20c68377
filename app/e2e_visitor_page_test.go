package app

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/browsertest"
	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// spaSite is a customer's single-page site with the widget: "Pricing"
// navigates with pushState and a new title, without reloading the page.
func spaSite(t *testing.T, parleyURL string) *httptest.Server {
	t.Helper()
	body := `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Example shop &lt;home&gt;</title></head>
<body><h1>Example shop</h1>
<button id="go-pricing" type="button">Pricing</button>
<script>document.getElementById('go-pricing').addEventListener('click', function () {
  history.pushState({}, '', '/pricing?plan=pro');
  document.title = 'Pricing plans';
});</script>
<script async src="` + html.EscapeString(parleyURL+"/widget.js") + `"></script>
</body></html>`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" && r.URL.Path != "/pricing" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestBrowserVisitorCurrentPage: the customer context panel shows the page
// the customer's widget is open on, live: the page they wrote from, the
// page a single-page site navigates to, and nothing once they leave.
func TestBrowserVisitorCurrentPage(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	host := spaSite(t, e.srv.URL)
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error {
		return models.UpdateSettings(ctx, tx, models.SettingsInput{DeskName: "Acme", BrandColor: "#2563eb", AllowedOrigins: host.URL, DemoEnabled: true})
	}))
	agent := e.user("Sam", "sam@example.com", models.RoleAgent, true)

	cust := browsertest.Tab(t, 90*time.Second)
	defer keepScreenshot(t, cust)
	require.NoError(t, chromedp.Do(cust,
		chromedp.Navigate(host.URL+"/"),
		browsertest.Click(".parley-launcher"),
		chromedp.WaitVisible(chromedp.CSS(".parley-root.parley-open .parley-frame")),
	))
	in := frameNode(t, cust)
	require.NoError(t, chromedp.Do(cust,
		chromedp.WaitVisible(chromedp.ID("w-start-body"), in),
		browsertest.Type("#w-start-body", "Do you ship abroad?", inWidget),
		pressEnter,
		chromedp.WaitVisible(chromedp.CSS("#w-thread .w-msg-mine"), in),
	))
	rows, err := models.ListInbox(ctx, e.db, models.InboxQuery{Viewer: agent, Section: models.SectionCustomers, Status: models.StatusOpen, Filter: models.FilterAll})
	require.NoError(t, err)
	require.Len(t, rows, 1)
	pid := rows[0].PublicID

	t0 := time.Now()
	step := func(what string) { t.Logf("%s after %s", what, time.Since(t0).Round(time.Millisecond)) }
	desk := deskTab(t, e, "sam@example.com")
	step("desk signed in")
	require.NoError(t, chromedp.Do(desk,
		chromedp.Navigate(e.srv.URL+"/conversations/"+pid),
		browsertest.WaitReady("#cc-current-page"),
	))
	// Where they wrote from (live if the report arrives after the page).
	waitText(t, desk, "#cc-current-page", "Example shop <home>")
	waitText(t, desk, "#cc-page-url", host.URL+"/")
	step("first page shown")
	require.NoError(t, chromedp.Do(desk, until(`document.querySelector('#cc-page-link').getAttribute('href') === `+jsQuote(host.URL+"/")+
		` && document.querySelector('#cc-page-link').rel.includes('noopener')`)))

	// The site navigates without a reload: the panel follows.
	require.NoError(t, chromedp.Do(cust, browsertest.Click("#go-pricing")))
	waitText(t, desk, "#cc-current-page", "Pricing plans")
	waitText(t, desk, "#cc-page-url", host.URL+"/pricing?plan=pro")
	step("navigation shown")

	// A reload of the conversation page shows it too (the instance's memory).
	require.NoError(t, chromedp.Do(desk, chromedp.Reload()))
	waitText(t, desk, "#cc-current-page", "Pricing plans")
	step("reloaded")

	// The customer leaves the site: the widget's stream ends, the page goes.
	require.NoError(t, chromedp.Do(cust, chromedp.Navigate("about:blank")))
	waitText(t, desk, "#cc-page-none", "Not on the site now")
	step("gone")
}

func jsQuote(s string) string { return fmt.Sprintf("%q", s) }
