package app

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/browsertest"
	"github.com/parleydesk/parley/models"
)

// An agent opens a reply's menu, sees the author's card, edits the reply:
// the customer's widget shows the new text marked "edited", live; the
// agent deletes it: the widget shows "message deleted" in its place, live.
func TestBrowserMessageMenu(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t)
	e.user("Sam", "sam@example.com", models.RoleAgent, true)
	w := e.newVisitor()
	pid := w.start("Where is my parcel?")
	api := e.browser()
	api.login("sam@example.com")
	require.Equal(t, http.StatusSeeOther, api.post("/conversations/"+pid+"/messages", url.Values{"body": {"It ships tomorrow"}}).StatusCode)
	var reply models.Message
	require.NoError(t, e.db.Where("body = ?", "It ships tomorrow").Take(&reply).Error)
	id := strconv.FormatInt(reply.ID, 10)
	msg, wmsg := "#msg-"+id, "#m-"+id

	boot, err := json.Marshal(map[string]string{"t": w.token, "c": pid})
	require.NoError(t, err)
	widget := browsertest.Tab(t, 90*time.Second)
	defer keepScreenshot(t, widget)
	require.NoError(t, chromedp.Do(widget,
		chromedp.Navigate(e.srv.URL+"/widget/frame?view=page#"+url.PathEscape(string(boot))),
		browsertest.WaitFor(`document.querySelector('`+wmsg+`') && document.querySelector('`+wmsg+`').textContent.includes('It ships tomorrow')`),
	))

	desk := deskTab(t, e, "sam@example.com")
	defer keepScreenshot(t, desk)
	require.NoError(t, chromedp.Do(desk,
		chromedp.Navigate(e.srv.URL+"/conversations/"+pid),
		browsertest.WaitReady(msg+" details.msg-menu > summary"),
		// The author's card.
		browsertest.Click(msg+" details.msg-menu > summary"),
		browsertest.Click(msg+" [data-msg-author]"),
		until(`document.querySelector('#message-panel-`+id+` .msg-card-email') && document.querySelector('#message-panel-`+id+` .msg-card-email').textContent === 'sam@example.com'`),
		browsertest.Click(`#message-panel-`+id+` [data-msg-panel-close]`),
		until(`document.getElementById('message-panel-`+id+`').textContent === ''`),
	))
	assert.Equal(t, "/conversations/"+pid+"#msg-"+id, jsText(t, desk, `document.querySelector('`+msg+` [data-copy-link]').getAttribute('data-copy-link')`))
	// Escape closes an open menu; the link opens on the message.
	require.NoError(t, chromedp.Do(desk,
		browsertest.Click(msg+" details.msg-menu > summary"),
		until(`document.querySelector('`+msg+` details.msg-menu').open`),
		browsertest.Type(msg+" details.msg-menu > summary", kb.Escape),
		until(`!document.querySelector('`+msg+` details.msg-menu').open`),
		chromedp.Navigate(e.srv.URL+"/conversations/"+pid+"#msg-"+id),
		browsertest.WaitReady(msg+" details.msg-menu > summary"),
	))
	assert.Equal(t, "msg-"+id, jsText(t, desk, `document.querySelector('.msg:target') ? document.querySelector('.msg:target').id : ''`))

	// Edit: the form in place of the text, saved, "edited".
	require.NoError(t, chromedp.Do(desk,
		browsertest.Click(msg+" details.msg-menu > summary"),
		browsertest.Click(msg+" [data-msg-edit]"),
		browsertest.WaitReady("#f-edit-"+id),
		browsertest.SetValue("#f-edit-"+id, "It ships today"),
		browsertest.Click(msg+" [data-msg-save]"),
		until(`document.querySelector('`+msg+` .msg-edited') && document.querySelector('`+msg+` .msg-body').textContent.includes('It ships today')`),
	))
	require.NoError(t, chromedp.Do(widget,
		browsertest.WaitFor(`document.querySelector('`+wmsg+` .w-msg-edited') && document.querySelector('`+wmsg+` .w-msg-body').textContent.includes('It ships today')`),
	))
	assert.NotContains(t, jsText(t, widget, `document.getElementById('w-thread').textContent`), "It ships tomorrow")

	// Delete, after the confirmation.
	require.NoError(t, chromedp.Do(desk,
		browsertest.Click(msg+" details.msg-menu > summary"),
		browsertest.Click(msg+" [data-msg-delete]"),
		chromedp.WaitVisible(chromedp.ID("confirm-ok")),
		browsertest.Click(`#confirm-ok`),
		until(`document.querySelector('`+msg+` .msg-deleted')`),
	))
	require.NoError(t, chromedp.Do(widget,
		browsertest.WaitFor(`document.querySelector('`+wmsg+` .w-msg-deleted') && !document.getElementById('w-thread').textContent.includes('It ships today')`),
	))
	assert.Equal(t, "message deleted", jsText(t, widget, `document.querySelector('`+wmsg+` .w-msg-deleted').textContent`))
}
