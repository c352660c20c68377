package app

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/models"
)

// The emailed chat link opens the messenger as a full-page chat: a centred
// column of bounded width, not the bare widget stretched to the window; the
// same frame embedded in a site keeps filling its iframe.
func TestChatLinkPageIsCentred(t *testing.T) {
	t.Parallel()
	e := setup(t)
	w := e.newVisitor()
	pid := w.start("Where is my parcel?")
	ctx := context.Background()
	conv, err := models.FindConversationForCustomer(ctx, e.db, w.visitor().CustomerID, pid)
	require.NoError(t, err)
	token, err := models.ChatLinkToken(ctx, e.db, conv, time.Now().Add(time.Hour))
	require.NoError(t, err)

	res := e.browser().get("/chat/" + url.PathEscape(token))
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	loc, err := url.Parse(res.Header.Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, "page", loc.Query().Get("view"))
	page := e.browser().get(loc.RequestURI())
	assert.True(t, page.doc.Find("body.w").HasClass("w-page"), "a full page")
	assert.False(t, e.browser().get("/widget/frame").doc.Find("body.w").HasClass("w-page"), "the iframe's frame is not")

	tab := browserTabFor(t)
	require.NoError(t, chromedp.Do(tab,
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(e.srv.URL+"/chat/"+url.PathEscape(token)),
		chromedp.WaitVisible(chromedp.CSS("#w-thread-view")),
		until(`(function () { var r = document.body.getBoundingClientRect();
			return r.width <= 720 && Math.abs(r.left - (window.innerWidth - r.right)) <= 1 && r.left > 0; })()`),
	))
}
