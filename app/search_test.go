package app

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// indexSearch runs the search indexer as its periodic job would.
func (e *testEnv) indexSearch() {
	e.t.Helper()
	_, err := models.IndexSearch(context.Background(), e.db)
	require.NoError(e.t, err)
}

// searchHits are the result links of a search page.
func searchHits(r *response) []string {
	var out []string
	r.doc.Find("#search-results .search-hit-title").Each(func(_ int, s *goquery.Selection) {
		out = append(out, s.AttrOr("href", ""))
	})
	return out
}

// Search never leaks: an agent without the support flag finds no customer
// conversation nor customer; nobody finds a teammate chat they are not in;
// notes are found by staff who may open the conversation (all of them may
// read notes). Snippets are escaped, with the matching words in <mark>.
func TestSearchAccessRules(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	sam := e.user("Sam", "sam@example.com", models.RoleAgent, true)
	e.user("Pat", "pat@example.com", models.RoleAgent, false)
	olly := e.user("Olly", "olly@example.com", models.RoleAgent, false)
	ada := e.user("Ada", "ada@example.com", models.RoleAdmin, false)
	cust, conv := e.customerConversation("Zelda Quux", "My zebra order <script>alert(1)</script> is late")
	_, err := factory.Write1(e.db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{User: sam}, conv, models.MessageNote, "zebra refund pending, flamingo")
	})
	require.NoError(t, err)
	chat, _, err := factory.Write2(e.db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartInternalConversation(ctx, tx, ada, []int64{olly.ID}, "zebra planning for Tuesday")
	})
	require.NoError(t, err)
	e.indexSearch()

	as := func(email string) *browser {
		b := e.browser()
		b.login(email)
		return b
	}
	convURL, chatURL := "/conversations/"+conv.PublicID, "/conversations/"+chat.PublicID

	sb := as("sam@example.com")
	res := sb.get("/search?q=zebra")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, []string{convURL}, searchHits(res), "the customer conversation, once; not Ada and Olly's chat")
	snippet, err := res.doc.Find("#search-results .search-snippet").First().Html()
	require.NoError(t, err)
	assert.Contains(t, snippet, "<mark>zebra</mark>")
	assert.Zero(t, res.doc.Find("#search-results script").Length(), "escaped")
	res = sb.get("/search?q=flamingo")
	assert.Equal(t, []string{convURL}, searchHits(res), "notes are searchable by staff")
	res = sb.get("/search?q=zelda")
	assert.Equal(t, convURL, res.doc.Find("#search-by-customer .search-hit-title").AttrOr("href", ""), "conversations by customer name")
	res = sb.get("/search?q=quux&kind=customers")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, []string{convURL}, searchHits(res), "the customer, linked to their conversation")
	assert.Equal(t, 1, res.doc.Find("#search-tab-customers").Length())
	res = sb.get("/search?q=" + url.QueryEscape(conv.Number()))
	assert.Equal(t, []string{convURL}, searchHits(res), "by number")

	// Without the support flag: no customer data at all.
	pb := as("pat@example.com")
	for _, q := range []string{"q=zebra", "q=flamingo", "q=quux", "q=zelda", "q=" + url.QueryEscape(conv.Number()), "q=zebra&kind=customers", "q=quux&kind=customers"} {
		res = pb.get("/search?" + q)
		require.Equal(t, http.StatusOK, res.StatusCode, q)
		assert.Empty(t, searchHits(res), q)
		assert.Zero(t, res.doc.Find("#search-by-customer").Length(), q)
		assert.NotContains(t, res.body, "Zelda", q)
		assert.NotContains(t, res.body, conv.PublicID, q)
	}
	assert.Zero(t, res.doc.Find("#search-tab-customers").Length(), "no customers tab")
	// A member of the teammate chat finds it; others do not.
	res = as("olly@example.com").get("/search?q=zebra")
	assert.Equal(t, []string{chatURL}, searchHits(res))
	res = as("ada@example.com").get("/search?q=tuesday")
	assert.Equal(t, []string{chatURL}, searchHits(res))
	_ = cust
}

// Bad input is a clear message, never a 500: empty, 1,000 characters, query
// syntax, unknown filters and values, forged cursors.
func TestSearchBadInput(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.user("Sam", "sam@example.com", models.RoleAgent, true)
	e.customerConversation("Zed", "hello there")
	e.indexSearch()
	b := e.browser()
	b.login("sam@example.com")

	res := b.get("/search")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.NotEmpty(t, res.text("#search-hint"))
	res = b.get("/search?q=+++")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.NotEmpty(t, res.text("#search-hint"))

	for _, q := range []string{`&|!():*'"\`, `!`, `"`, `'`, `(`, `a:*`, `\`, `hello & | !`, `-`, `or`, `"hello`} {
		res = b.get("/search?q=" + url.QueryEscape(q))
		require.Equal(t, http.StatusOK, res.StatusCode, q)
		assert.Equal(t, 1, res.doc.Find("#search-nowords, #search-empty, #search-results").Length(), q)
	}
	res = b.get("/search?q=" + url.QueryEscape(`hello & | !`))
	assert.Len(t, searchHits(res), 1, "the word is found, the syntax ignored")

	for raw, want := range map[string]string{
		"q=" + strings.Repeat("a", 1000):     "at most 200 characters",
		"q=hello&sort=newest":                "Unknown filter “sort”",
		"q=hello&status=pending":             "“status”",
		"q=hello&assignee=-1":                "“assignee”",
		"q=hello&team=x":                     "“team”",
		"q=hello&channel=sms":                "“channel”",
		"q=hello&from=2026-13-01":            "“from”",
		"q=hello&kind=everything":            "“kind”",
		"q=hello&after=12-x":                 "not valid",
		"q=hello&from=2026-02-01&to=2026-01": "“to”",
	} {
		res = b.get("/search?" + raw)
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, raw)
		assert.Contains(t, res.text("#search-error"), want, raw)
	}
	// Paging: a cursor from an "Older" link works.
	res = b.get("/search?q=hello&after=" + models.InboxCursor{At: time.Now(), ID: 1}.String())
	assert.Equal(t, http.StatusOK, res.StatusCode)
}
