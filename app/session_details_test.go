package app

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// The session details head a customer conversation for support staff: its
// number, channel, start, first request, page, browser, language and time
// zone, all escaped.
func TestDeskSessionDetails(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	sue := e.user("Sue", "sue@example.com", models.RoleAgent, true)
	patUser := e.user("Pat", "pat@example.com", models.RoleAgent, false)
	first := `<script>alert("x")</script> & <b>my order</b> is late`
	cust, conv := e.customerConversation("Carla", first)
	e.customerSays(cust, conv, "second message")

	b := e.browser()
	b.login("sue@example.com")
	res := b.get("/conversations/" + conv.PublicID)
	require.Equal(t, http.StatusOK, res.StatusCode)
	block := res.doc.Find("#conv > #session-block")
	require.Equal(t, 1, block.Length(), "the block heads the thread")
	assert.Equal(t, 1, block.NextAllFiltered("#messages").Length(), "above the transcript")
	assert.Equal(t, conv.Number(), strings.TrimSpace(block.Find(".session-number").Text()))
	assert.Contains(t, block.Find("summary").Text(), "Chat widget")
	assert.NotEmpty(t, block.Find("summary time").AttrOr("datetime", ""))
	assert.Equal(t, first, block.Find(".session-first-text").Text(), "the first request, as text")
	assert.Zero(t, block.Find("script, b").Length(), "escaped, not markup")
	assert.NotContains(t, res.body, "<script>alert")
	assert.Equal(t, "https://shop.example/cart", block.Find(".session-facts a").AttrOr("href", ""))
	facts := strings.Join(strings.Fields(block.Find(".session-facts").Text()), " ")
	assert.Contains(t, facts, "Firefox on Linux")
	assert.Contains(t, facts, "fr-FR")
	assert.Contains(t, facts, "Europe/Paris")

	// Unknown details say so; a long first request is cut.
	_, v, err := models.CreateVisitor(ctx, e.db)
	require.NoError(t, err)
	bare, _, err := factory.Write2(e.db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartCustomerConversation(ctx, tx, v.Customer, strings.Repeat("word ", 200), models.SessionInfo{})
	})
	require.NoError(t, err)
	res = b.get("/conversations/" + bare.PublicID)
	require.Equal(t, http.StatusOK, res.StatusCode)
	var dds []string
	res.doc.Find("#session-block .session-facts dd").Each(func(_ int, s *goquery.Selection) { dds = append(dds, strings.TrimSpace(s.Text())) })
	assert.Equal(t, []string{"Unknown", "Unknown", "Unknown", "Unknown"}, dds)
	assert.True(t, strings.HasSuffix(res.doc.Find(".session-first-text").Text(), "…"))
	assert.LessOrEqual(t, len(res.doc.Find(".session-first-text").Text()), models.FirstRequestLen+len("…"))

	// French desk: translated labels.
	fr := e.browser()
	fr.login("sue@example.com")
	res = fr.get("/conversations/"+bare.PublicID, "Accept-Language", "fr")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, res.doc.Find("#session-block").Text(), "Inconnu")

	// A teammate chat has none; someone who may not see the customer gets 404.
	team, _, err := factory.Write2(e.db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartInternalConversation(ctx, tx, sue, []int64{patUser.ID}, "team chat")
	})
	require.NoError(t, err)
	res = b.get("/conversations/" + team.PublicID)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Zero(t, res.doc.Find("#session-block").Length())
	pat := e.browser()
	pat.login("pat@example.com")
	assert.Equal(t, http.StatusNotFound, pat.get("/conversations/"+conv.PublicID).StatusCode)
}
