package app

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// Several items on one conversation over HTTP: link a ticket and a task
// from the panel, both show; the same one again is a 422 with nothing
// stored; unlink one and the other stays; someone who may not open the
// conversation gets a 404, and a forged token a 403.
func TestConversationItemsHTTP(t *testing.T) {
	t.Parallel()
	e := setup(t)
	sue := e.user("Sue", "sue@example.com", models.RoleAgent, true)
	ben := e.user("Ben", "ben@example.com", models.RoleAgent, true)
	e.user("Pat", "pat@example.com", models.RoleAgent, true)
	for _, in := range []models.ItemInput{{Kind: models.ItemTicket, Title: "Refund"}, {Kind: models.ItemTask, Title: "Fix the FAQ"}} {
		_, err := factory.Write1(e.db, func(tx models.Tx) (*models.Item, error) { return models.CreateItem(t.Context(), tx, sue, in) })
		require.NoError(t, err)
	}
	_, conv := e.customerConversation("Ann", "Refund, and your FAQ is wrong")
	b := e.browser()
	b.login("sue@example.com")
	hx := []string{"HX-Request", "true"}
	links := func(pid string) int64 {
		t.Helper()
		var n int64
		require.NoError(t, e.db.Raw("SELECT count(*) FROM conversation_items l JOIN conversations c ON c.id = l.conversation_id WHERE c.public_id = ?", pid).Scan(&n).Error)
		return n
	}
	panelRefs := func(pid string) []string {
		t.Helper()
		res := b.get("/conversations/" + pid)
		require.Equal(t, http.StatusOK, res.StatusCode)
		return res.doc.Find("#conv-item .conv-item-entry").Map(func(_ int, s *goquery.Selection) string { return s.AttrOr("data-ref", "") })
	}

	for _, ref := range []string{"T-1", "K-1"} {
		res := b.post("/conversations/"+conv.PublicID+"/item", url.Values{"item": {ref}}, hx...)
		require.Equal(t, http.StatusNoContent, res.StatusCode, res.body)
	}
	assert.Equal(t, []string{"T-1", "K-1"}, panelRefs(conv.PublicID))
	res := b.get("/conversations/" + conv.PublicID)
	for _, key := range []string{"-t-1", "-k-1"} {
		assert.Equal(t, 1, res.doc.Find("#item-details"+key).Length(), key)
		assert.Equal(t, "#item-details"+key, res.doc.Find("#item-details"+key+" form").AttrOr("hx-target", ""), key)
		assert.Equal(t, 1, res.doc.Find("#item-follow"+key).Length(), key)
	}
	ids := map[string]bool{}
	res.doc.Find("#conv-item [id]").Each(func(_ int, s *goquery.Selection) {
		id := s.AttrOr("id", "")
		assert.False(t, ids[id], "duplicate id %s", id)
		ids[id] = true
	})

	// Editing one item from the panel answers with that item's details.
	res = b.post("/tasks/1/update", url.Values{"field": {"status"}, "value": {"done"}}, "HX-Request", "true", "HX-Target", "item-details-k-1")
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	assert.Equal(t, "done", res.doc.Find("#item-details-k-1 #item-f-status-k-1 option[selected]").AttrOr("value", ""))
	res = b.post("/tasks/1/follow", url.Values{"follow": {"true"}}, "HX-Request", "true", "HX-Target", "item-follow-k-1")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "true", res.doc.Find("#item-follow-k-1 button").AttrOr("aria-pressed", ""))
	// A target naming another item's copy never gets this one's details
	// under its ids.
	res = b.post("/tasks/1/update", url.Values{"field": {"priority"}, "value": {"high"}}, "HX-Request", "true", "HX-Target", "item-details-t-1")
	assert.NotContains(t, res.body, "item-details-t-1")

	// The same item twice: 422, nothing stored.
	res = b.post("/conversations/"+conv.PublicID+"/item", url.Values{"item": {"K-1"}}, hx...)
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Contains(t, res.Header.Get("HX-Trigger"), "already linked to that ticket or task")
	assert.Equal(t, int64(2), links(conv.PublicID))

	// Unlink one: the other stays. Unlinking it again, or naming nothing,
	// is a 422.
	res = b.post("/conversations/"+conv.PublicID+"/item/unlink", url.Values{"item": {"T-1"}}, hx...)
	require.Equal(t, http.StatusNoContent, res.StatusCode, res.body)
	assert.Equal(t, []string{"K-1"}, panelRefs(conv.PublicID))
	assert.Equal(t, http.StatusUnprocessableEntity, b.post("/conversations/"+conv.PublicID+"/item/unlink", url.Values{"item": {"T-1"}}, hx...).StatusCode)
	assert.Equal(t, http.StatusUnprocessableEntity, b.post("/conversations/"+conv.PublicID+"/item/unlink", nil, hx...).StatusCode)
	assert.Equal(t, int64(1), links(conv.PublicID))

	// A teammates' chat of Sue and Ben: Pat may not open it, so neither
	// link nor unlink there.
	res = b.post("/mine", url.Values{"members": {fmt.Sprint(ben.ID)}, "body": {"About the FAQ"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	chat := strings.TrimSuffix(strings.TrimPrefix(res.Header.Get("Location"), "/conversations/"), "?list=mine")
	require.Equal(t, http.StatusNoContent, b.post("/conversations/"+chat+"/item", url.Values{"item": {"K-1"}}, hx...).StatusCode)
	pat := e.browser()
	pat.login("pat@example.com")
	assert.Equal(t, http.StatusNotFound, pat.post("/conversations/"+chat+"/item", url.Values{"item": {"T-1"}}, hx...).StatusCode)
	assert.Equal(t, http.StatusNotFound, pat.post("/conversations/"+chat+"/item/unlink", url.Values{"item": {"K-1"}}, hx...).StatusCode)
	assert.Equal(t, int64(1), links(chat))

	// A forged token changes nothing.
	for _, path := range []string{"/conversations/" + conv.PublicID + "/item", "/conversations/" + conv.PublicID + "/item/unlink"} {
		res := b.post(path, url.Values{"_csrf": {"forged"}, "item": {"T-1"}})
		assert.Equal(t, http.StatusForbidden, res.StatusCode, path)
	}
	assert.Equal(t, int64(1), links(conv.PublicID))
	_ = ben
}
