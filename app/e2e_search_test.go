package app

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"

	"github.com/parleydesk/parley/internal/browsertest"
	"github.com/parleydesk/parley/models"
	"github.com/stretchr/testify/require"
)

// Search from the header: "/" focuses the box, Enter searches, the result
// shows the matching word highlighted, and opening it opens the
// conversation.
func TestBrowserSearchFromHeader(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t)
	e.user("Sam", "sam@example.com", models.RoleAgent, true)
	_, conv := e.customerConversation("Chloé", "The zebra stripes on my order are crooked")
	e.customerConversation("Other", "Nothing to see here")
	e.indexSearch()

	desk := deskTabFor(t, e, "sam@example.com", 120*time.Second)
	defer keepScreenshot(t, desk)
	require.NoError(t, chromedp.Do(desk,
		chromedp.Navigate(e.srv.URL+"/inbox"),
		browsertest.WaitReady("#desk-search"),
		chromedp.KeyEvent("/"),
		until(`document.activeElement && document.activeElement.id === 'desk-search'`),
		chromedp.KeyEvent("zebra"),
		until(`document.getElementById('desk-search').value === 'zebra'`), // the slash focused the box, it is not typed
		chromedp.KeyEvent("\r"),
		until(`location.pathname === '/search' && document.querySelector('#search-results mark')`),
	))
	mark, err := chromedp.Run(desk, browsertest.Text("#search-results .search-hit mark"))
	require.NoError(t, err)
	assert.Equal(t, "zebra", mark)
	assert.Equal(t, "1", jsText(t, desk, `String(document.querySelectorAll('#search-results .search-hit').length)`))
	require.NoError(t, chromedp.Do(desk,
		browsertest.Click("#search-results .search-hit-title"),
		until(`location.pathname === '/conversations/`+conv.PublicID+`' && document.querySelector('#messages') && document.querySelector('#messages').textContent.includes('zebra stripes')`),
	))
}
