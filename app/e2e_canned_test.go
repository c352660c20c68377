package app

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/browsertest"
	"github.com/parleydesk/parley/models"
)

// An agent types "#gre" in the composer, moves to "Greeting" with ↓ and
// inserts it with Enter: the composer holds the text resolved on the server
// with the customer's name, and its link; Enter sends it, and the
// customer's widget shows the text and the link card.
func TestBrowserCannedReply(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	sam := e.user("Sam", "sam@example.com", models.RoleAgent, true)
	mk := func(title, body, link string) *models.CannedReply {
		r, err := models.CreateCanned(ctx, e.db, sam, models.CannedInput{Scope: models.CannedPersonal, Title: title, Body: body, URL: link})
		require.NoError(t, err)
		return r
	}
	grease := mk("Grease the chain", "Use a drop of oil. Goodbye squeak!", "")
	mk("Greeting", "Hello {{customer.name | there}}, {{agent.name}} here. Our guide:", "https://example.com/guide?step=1&x=2")
	bye := mk("Goodbye", "Bye!", "")
	require.NoError(t, e.db.Model(bye).Update("shortcut", "bye").Error)
	// The most used comes first, so the arrow key has something to do.
	require.NoError(t, e.db.Model(grease).Update("usage_count", 3).Error)

	w := e.newVisitor()
	pid := w.start("My bike squeaks")
	require.NoError(t, e.db.Model(&models.Customer{}).Where("id = ?", w.visitor().CustomerID).Update("name", "Chloé").Error)

	// The customer's messenger, as a chat link opens it (standalone frame).
	boot, err := json.Marshal(map[string]string{"t": w.token, "c": pid})
	require.NoError(t, err)
	widget := browsertest.Tab(t, 90*time.Second)
	defer keepScreenshot(t, widget)
	require.NoError(t, chromedp.Do(widget,
		chromedp.Navigate(e.srv.URL+"/widget/frame?view=page#"+url.PathEscape(string(boot))),
		browsertest.WaitFor(`document.querySelector('#w-thread') && document.querySelector('#w-thread').textContent.includes('My bike squeaks')`),
	))

	desk := deskTab(t, e, "sam@example.com")
	// From the Canned replies page to the conversation by a boosted link:
	// the picker's script comes with the composer (desk.js loads it).
	require.NoError(t, chromedp.Do(desk,
		chromedp.Navigate(e.srv.URL+"/canned"),
		browsertest.WaitReady("#canned"),
	))
	assert.Equal(t, "undefined", jsText(t, desk, `typeof window.ParleyCanned`), "not loaded off conversation pages")
	require.NoError(t, chromedp.Do(desk,
		browsertest.Click(`a.nav-link[href="/inbox"]`),
		browsertest.Click(`#inbox-rows .inbox-row`),
		browsertest.WaitReady("#f-body"),
	))
	assert.Equal(t, "undefined", jsText(t, desk, `typeof window.ParleyCanned`), "loaded on the first '#', not with the page")
	require.NoError(t, chromedp.Do(desk,
		browsertest.Type("#f-body", "#gre"),
		until(`!document.getElementById('canned-picker').hidden && document.querySelectorAll('#canned-options [role=option]:not([hidden])').length === 2`),
	))
	assert.Equal(t, "true", jsText(t, desk, `document.getElementById('f-body').getAttribute('aria-expanded')`))
	assert.Equal(t, "Grease the chain", jsText(t, desk, `document.querySelector('#canned-options [aria-selected=true] .canned-opt-title').textContent`))
	require.NoError(t, chromedp.Do(desk,
		browsertest.Type("#f-body", kb.ArrowDown),
		until(`document.querySelector('#canned-options [aria-selected=true] .canned-opt-title').textContent === 'Greeting'`),
	))
	active := jsText(t, desk, `document.getElementById('f-body').getAttribute('aria-activedescendant')`)
	assert.Equal(t, "Greeting", jsText(t, desk, `document.querySelector('#`+active+` .canned-opt-title').textContent`))

	require.NoError(t, chromedp.Do(desk,
		pressEnter,
		until(`document.getElementById('f-body').value.includes('Chloé')`),
	))
	assert.Equal(t, "Hello Chloé, Sam here. Our guide:", jsText(t, desk, `document.getElementById('f-body').value`))
	assert.Equal(t, "https://example.com/guide?step=1&x=2", jsText(t, desk, `document.querySelector('#composer-link input[name=link_url]').value`))
	assert.Equal(t, "false", jsText(t, desk, `String(document.getElementById('composer-link').hidden)`))
	assert.Equal(t, "true", jsText(t, desk, `String(document.getElementById('canned-picker').hidden)`))

	// A shortcut typed in full picks its reply at once.
	require.NoError(t, chromedp.Do(desk,
		browsertest.Type("#f-body", " #bye"),
		until(`!document.getElementById('canned-picker').hidden`),
	))
	assert.Equal(t, "2", jsText(t, desk, `String(document.querySelectorAll('#canned-options [role=option]:not([hidden])').length)`))
	assert.Equal(t, "Grease the chain", jsText(t, desk, `document.querySelector('#canned-options [role=option]:not([hidden]) .canned-opt-title').textContent`), "most used first")
	assert.Equal(t, "Goodbye", jsText(t, desk, `document.querySelector('#canned-options [aria-selected=true] .canned-opt-title').textContent`))
	require.NoError(t, chromedp.Do(desk,
		browsertest.Type("#f-body", kb.Escape),
		until(`document.getElementById('canned-picker').hidden`),
		chromedp.Evaluate[chromedp.Void](`(function(){var t=document.getElementById('f-body'); t.value=t.value.replace(' #bye',''); })()`),
	))

	// Esc closes a picker without inserting anything.
	require.NoError(t, chromedp.Do(desk,
		browsertest.Type("#f-body", " #go"),
		until(`!document.getElementById('canned-picker').hidden`),
		browsertest.Type("#f-body", kb.Escape),
		until(`document.getElementById('canned-picker').hidden`),
	))
	assert.Equal(t, "Hello Chloé, Sam here. Our guide: #go", jsText(t, desk, `document.getElementById('f-body').value`))
	// "#" then a digit is a reference ("order #12"), not a search.
	require.NoError(t, chromedp.Do(desk, browsertest.Type("#f-body", " #12")))
	assert.Equal(t, "true", jsText(t, desk, `String(document.getElementById('canned-picker').hidden)`))
	require.NoError(t, chromedp.Do(desk,
		chromedp.Evaluate[chromedp.Void](`(function(){var t=document.getElementById('f-body'); t.value=t.value.replace(' #go #12',''); })()`),
		browsertest.Focus("#f-body"),
		pressEnter,
		until(`[...document.querySelectorAll('#messages .msg-out')].some(m => m.textContent.includes('Hello Chloé') && m.querySelector('a.link-card'))`),
	))

	// The customer sees it live, with the link as a card.
	require.NoError(t, chromedp.Do(widget,
		browsertest.WaitFor(`[...document.querySelectorAll('#w-thread .w-msg-team')].some(m => m.textContent.includes('Hello Chloé, Sam here'))`),
	))
	href, err := chromedp.Run(widget, browsertest.Attr("#w-thread .w-msg-team a.link-card", "href"))
	require.NoError(t, err)
	assert.Equal(t, "https://example.com/guide?step=1&x=2", href)
	rel, err := chromedp.Run(widget, browsertest.Attr("#w-thread .w-msg-team a.link-card", "rel"))
	require.NoError(t, err)
	assert.Equal(t, "noopener noreferrer", rel)

	var used int64
	require.NoError(t, e.db.Raw("SELECT usage_count FROM canned_replies WHERE title = 'Greeting'").Scan(&used).Error)
	assert.EqualValues(t, 1, used)
}
