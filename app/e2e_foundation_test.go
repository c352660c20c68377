package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/browsertest"
)

// TestBrowserFirstRunToAgent is the first-run journey in a real browser:
// setup creates the admin, who creates an agent and signs out; the agent
// signs in and finds no admin pages.
func TestBrowserFirstRunToAgent(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t)
	tab := browsertest.Tab(t, 90*time.Second)
	base := e.srv.URL
	defer func() {
		if t.Failed() {
			dir := filepath.Join(os.TempDir(), "parley-e2e")
			os.MkdirAll(dir, 0o755)
			p := filepath.Join(dir, t.Name()+".png")
			if browsertest.Screenshot(tab, p) == nil {
				t.Logf("screenshot of the failure: %s", p)
			}
		}
	}()

	// A fresh install sends the first visitor to setup.
	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/setup"]`)),
		browsertest.Type("#f-name", "Ada Admin"),
		browsertest.Type("#f-email", "ada@example.com"),
		browsertest.Type("#f-password", "short"),
		browsertest.Click(`form[action="/setup"] button[type="submit"]`),
		// A too-short password comes back beside the field, form kept.
		chromedp.WaitVisible(chromedp.CSS(`#e-password`)),
	))
	msg, err := chromedp.Run(tab, browsertest.Text("#e-password"))
	require.NoError(t, err)
	require.Equal(t, "Use at least 8 characters.", msg)
	name, err := chromedp.Run(tab, browsertest.Value("#f-name"))
	require.NoError(t, err)
	require.Equal(t, "Ada Admin", name)

	require.NoError(t, chromedp.Do(tab,
		browsertest.Type("#f-password", "correct horse"),
		browsertest.Click(`form[action="/setup"] button[type="submit"]`),
		chromedp.WaitVisible(chromedp.ID("agents")),
		// Create an agent.
		browsertest.Click(`a[href="/admin/agents/new"]`),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/admin/agents"]`)),
		browsertest.Type("#f-name", "Bob Agent"),
		browsertest.Type("#f-email", "bob@example.com"),
		browsertest.Type("#f-password", "bob's password"),
		browsertest.Click(`form[action="/admin/agents"] button[type="submit"]`),
		chromedp.WaitVisible(chromedp.CSS(`#agents`)),
	))
	table, err := chromedp.Run(tab, browsertest.Text("#agents"))
	require.NoError(t, err)
	require.Contains(t, table, "bob@example.com")
	loc, err := chromedp.Run(tab, chromedp.Location())
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(loc, "/admin/agents"), "location bar follows the redirect: %s", loc)

	// Sign out, and the agent signs in.
	require.NoError(t, chromedp.Do(tab,
		browsertest.Click(`form[action="/logout"] button`),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/login"]`)),
	))
	notice, err := chromedp.Run(tab, browsertest.Text(".alert-info"))
	require.NoError(t, err)
	require.Equal(t, "You have been signed out.", notice)

	require.NoError(t, chromedp.Do(tab,
		browsertest.Type("#f-email", "bob@example.com"),
		browsertest.Type("#f-password", "bob's password"),
		browsertest.Click(`form[action="/login"] button[type="submit"]`),
		chromedp.WaitVisible(chromedp.CSS(".user-menu")),
	))
	who, err := chromedp.Run(tab, browsertest.Text(".user-menu strong"))
	require.NoError(t, err)
	require.Equal(t, "Bob Agent", who)
	adminLinks, err := chromedp.Run(tab, chromedp.Evaluate[int](`document.querySelectorAll('a[href^="/admin"]').length`))
	require.NoError(t, err)
	require.Zero(t, adminLinks, "agents see no admin navigation")

	// Typing the address does not help either.
	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate(base+"/admin/agents"),
		chromedp.WaitVisible(chromedp.CSS(".error-page")),
	))
	title, err := chromedp.Run(tab, browsertest.Text(".error-page h1"))
	require.NoError(t, err)
	require.Equal(t, "No access", title)
}
