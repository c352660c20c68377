package app

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/browsertest"
	"github.com/parleydesk/parley/models"
)

// An agent sends an article that the customer opens: an admin publishes it;
// the customer first finds it from the widget's search before chatting;
// in the chat, the agent opens the composer's Article picker, searches as
// they type and sends it; the card reaches the customer's chat live (title,
// excerpt, Open) and Open shows the public page in a new tab, rendered
// safely (the <script> the admin typed is text nowhere and runs nowhere).
// When the admin retitles it, then makes it a draft again, the customer's
// card follows live: the new title, then "no longer available".
func TestBrowserAgentSendsArticleCustomerOpens(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t)
	e.user("Ada", "ada@example.com", models.RoleAdmin, true)
	e.user("Sam", "sam@example.com", models.RoleAgent, true)

	admin := deskTabFor(t, e, "ada@example.com", 150*time.Second)
	defer keepScreenshot(t, admin)
	require.NoError(t, chromedp.Do(admin,
		chromedp.Navigate(e.srv.URL+"/admin/articles"),
		browsertest.Click("#kb-new"),
		browsertest.WaitReady("#kb-form #f-title"),
		browsertest.SetValue("#f-title", "Export your data"),
		browsertest.SetValue("#f-body", "Open **Settings**, then *Export*.\n\n<script>window.pwned=1</script>\n\n[Docs](https://docs.example)"),
		browsertest.Click("#kb-preview-button"),
		until(`document.querySelector('#kb-preview strong') && document.querySelector('#kb-preview strong').textContent === 'Settings'`),
		browsertest.Click("#f-published"),
		browsertest.Click("#kb-save"),
		until(`document.querySelector('#kb-articles') && document.querySelector('#kb-articles').textContent.includes('Export your data')`),
	))
	assert.Equal(t, "false", jsText(t, admin, `String(!!window.pwned || !!document.querySelector('#kb-preview script'))`))
	art := articleBySlug(t, e, "export-your-data")
	require.True(t, art.Published)

	// The customer looks for an answer first, in the widget's start view.
	w := e.newVisitor()
	pid := w.start("How do I export my data?")
	boot, err := json.Marshal(map[string]string{"t": w.token})
	require.NoError(t, err)
	widget := browsertest.Tab(t, 150*time.Second)
	defer keepScreenshot(t, widget)
	require.NoError(t, chromedp.Do(widget,
		chromedp.Navigate(e.srv.URL+"/widget/frame?view=page#"+url.PathEscape(string(boot))),
		browsertest.WaitReady("#w-kb-q"),
		browsertest.Type("#w-kb-q", "expo"),
		until(`[...document.querySelectorAll('#w-kb-results a.w-kb-result')].some(a => a.getAttribute('href') === '/help/export-your-data')`),
		browsertest.Click("#w-convs .w-conv-row"),
		until(`document.querySelector('#w-thread') && document.querySelector('#w-thread').textContent.includes('How do I export my data?')`),
	))

	// The agent sends it from the composer.
	desk := deskTabFor(t, e, "sam@example.com", 150*time.Second)
	defer keepScreenshot(t, desk)
	require.NoError(t, chromedp.Do(desk,
		chromedp.Navigate(e.srv.URL+"/conversations/"+pid),
		browsertest.Click("#composer #article-button"),
		browsertest.WaitReady("#article-q"),
		browsertest.Type("#article-q", "export"),
		until(`document.querySelector('#article-results [data-article="`+idStr(art.ID)+`"]')`),
		browsertest.Click(`#article-results [data-article="`+idStr(art.ID)+`"] button[type=submit]`),
		until(`!document.querySelector('#article-picker .article-picker-panel')`),
		until(`[...document.querySelectorAll('#messages .article-card a.article-card-title')].some(a => a.textContent.includes('Export your data'))`),
	))

	// The card reaches the customer live; Open opens the public page.
	require.NoError(t, chromedp.Do(widget,
		until(`document.querySelector('#w-thread .w-article a.w-article-open')`),
	))
	assert.Equal(t, "Export your data", strings.TrimSpace(jsText(t, widget, `document.querySelector('#w-thread .w-article-title').textContent`)))
	assert.Contains(t, jsText(t, widget, `document.querySelector('#w-thread .w-article-excerpt').textContent`), "Open Settings, then Export.")
	opened := chromedp.WaitNewTarget(widget, func(info *target.Info) bool { return strings.Contains(info.URL, "/help/export-your-data") })
	require.NoError(t, chromedp.Do(widget, browsertest.Click("#w-thread .w-article a.w-article-open")))
	var id target.ID
	select {
	case id = <-opened:
	case <-time.After(20 * time.Second):
		t.Fatal("Open did not open the article's page")
	}
	help, cancel := chromedp.NewContext(widget, chromedp.WithTargetID(id))
	defer cancel()
	require.NoError(t, chromedp.Do(help,
		until(`document.querySelector('#help-article h1') && document.querySelector('#help-article h1').textContent === 'Export your data'`),
	))
	assert.Equal(t, "Settings", jsText(t, help, `document.querySelector('#help-article strong').textContent`))
	assert.Equal(t, "nofollow noopener", jsText(t, help, `document.querySelector('#help-article a').getAttribute('rel')`))
	assert.Equal(t, "false", jsText(t, help, `String(!!window.pwned || !!document.querySelector('script'))`))

	// The admin edits it: the customer's card follows live, with the new
	// title, then "unavailable" once it is a draft again.
	edit := e.srv.URL + "/admin/articles/" + idStr(art.ID) + "/edit"
	require.NoError(t, chromedp.Do(admin,
		chromedp.Navigate(edit),
		browsertest.WaitReady("#kb-form #f-title"),
		browsertest.SetValue("#f-title", "Exporting everything"),
		browsertest.Click("#kb-save"),
		until(`document.querySelector('#kb-articles') && document.querySelector('#kb-articles').textContent.includes('Exporting everything')`),
	))
	require.NoError(t, chromedp.Do(widget,
		until(`document.querySelector('#w-thread .w-article-title') && document.querySelector('#w-thread .w-article-title').textContent.includes('Exporting everything')`),
	))
	require.NoError(t, chromedp.Do(admin,
		chromedp.Navigate(edit),
		browsertest.WaitReady("#kb-form #f-published"),
		browsertest.Click("#f-published"),
		browsertest.Click("#kb-save"),
		until(`document.querySelector('#kb-articles .badge-muted')`),
	))
	require.NoError(t, chromedp.Do(widget,
		until(`document.querySelector('#w-thread .w-article-gone') && !document.querySelector('#w-thread .w-article-open')`),
	))
}
