package app

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

func customerChanges(t *testing.T, e *testEnv, customerID int64) int64 {
	t.Helper()
	var n int64
	require.NoError(t, e.db.Model(&models.CustomerChange{}).Where("customer_id = ?", customerID).Count(&n).Error)
	return n
}

// The customer context panel: support staff see the customer's other
// conversation and ticket beside the conversation and edit the customer
// (bad input is a 422 beside the field, nothing stored; a good edit is
// audited); a post without the CSRF token is refused; staff without
// customer data rights see no panel and cannot edit (404); customer text is
// escaped.
func TestCustomerContextRules(t *testing.T) {
	t.Parallel()
	e := setup(t)
	sam := e.user("Sam", "sam@example.com", models.RoleAgent, true)
	e.user("Pat", "pat@example.com", models.RoleAgent, false)
	e.user("Ada", "ada@example.com", models.RoleAdmin, false)
	w := e.newVisitor()
	pid := w.start("Where is my order?")
	cust := w.visitor().Customer
	require.NoError(t, e.db.Model(&models.Customer{}).Where("id = ?", cust.ID).Update("name", "<b>Chloé</b>").Error)
	_, older, _ := factory.Conversation(t, e.db, factory.ConversationOpts{Customer: cust, Body: "An older question"})
	ticket, err := factory.Write1(e.db, func(tx models.Tx) (*models.Item, error) {
		return models.CreateItem(context.Background(), tx, sam, models.ItemInput{Kind: models.ItemTicket, Title: "Lost parcel", Conversation: older})
	})
	require.NoError(t, err)

	b := e.browser()
	b.login("sam@example.com")
	page := b.get("/conversations/" + pid)
	require.Equal(t, http.StatusOK, page.StatusCode)
	assert.Equal(t, "<b>Chloé</b>", page.text("#cc-name"), "escaped, shown as text")
	assert.Zero(t, page.doc.Find("#cc-customer b").Length())
	link := page.doc.Find(`#cc-conversations a[href="/conversations/` + older.PublicID + `"]`)
	assert.Equal(t, 1, link.Length(), page.body)
	assert.Equal(t, 1, page.doc.Find(`#cc-items a[href="/tickets/`+idStr(ticket.Number)+`"]`).Length())
	assert.Contains(t, page.text("#cc-items"), "Lost parcel")
	assert.Zero(t, page.doc.Find(`#cc-conversations a[href="/conversations/`+pid+`"]`).Length(), "not the open one")

	edit := "/conversations/" + pid + "/customer"
	good := url.Values{"name": {"Chloé Martin"}, "email": {"chloe@example.com"}, "phone": {"+33 6 12 34 56 78"}, "notes": {"VIP <script>"}}
	for field, bad := range map[string]string{"email": "chloe@", "phone": "call me maybe", "name": strings.Repeat("x", 101), "notes": strings.Repeat("n", 5001)} {
		in := clone(good)
		in.Set(field, bad)
		res := b.post(edit, in, "HX-Request", "true")
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, field)
		assert.NotEmpty(t, res.text("#customer-context #e-"+field), "the reason beside %s", field)
		assert.Equal(t, "true", res.doc.Find("#f-"+field).AttrOr("aria-invalid", ""), field)
	}
	res := b.post(edit, url.Values{"phone": {"nope"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "without htmx: the page with the reason")
	assert.NotEmpty(t, res.text("#customer-context #e-phone"))
	forged := clone(good)
	forged.Set("_csrf", "forged")
	assert.Equal(t, http.StatusForbidden, b.post(edit, forged, "HX-Request", "true").StatusCode, "CSRF")
	assert.Zero(t, customerChanges(t, e, cust.ID), "nothing stored")

	// Staff without customer data rights, admins included: no such page,
	// no edit.
	for _, who := range []string{"pat@example.com", "ada@example.com"} {
		o := e.browser()
		o.login(who)
		assert.Equal(t, http.StatusNotFound, o.get("/conversations/"+pid).StatusCode, who)
		assert.Equal(t, http.StatusNotFound, o.post(edit, clone(good), "HX-Request", "true").StatusCode, who)
	}
	assert.Zero(t, customerChanges(t, e, cust.ID), "nothing stored")

	res = b.post(edit, clone(good), "HX-Request", "true")
	require.Equal(t, http.StatusOK, res.StatusCode, res.body)
	assert.Equal(t, "Chloé Martin", res.text("#cc-name"))
	assert.Equal(t, "+33612345678", res.text("#cc-phone"))
	assert.Equal(t, "VIP <script>", res.text("#cc-notes"))
	assert.Zero(t, res.doc.Find("#customer-context script").Length())
	assert.EqualValues(t, 4, customerChanges(t, e, cust.ID))
	lines := res.doc.Find("#cc-history .cc-change")
	require.Equal(t, 4, lines.Length())
	assert.Contains(t, res.text(`#cc-history .cc-change[data-field="phone"]`), "Sam changed Phone")
	assert.Contains(t, res.text(`#cc-history .cc-change[data-field="phone"]`), "+33612345678")
	assert.Equal(t, "+33612345678", res.doc.Find("#f-phone").AttrOr("value", ""), "the form holds the saved values")

	// A plain form goes back to the conversation.
	good.Set("phone", "0612345678")
	res = b.post(edit, clone(good))
	assert.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.EqualValues(t, 5, customerChanges(t, e, cust.ID))
}

// clone copies form values (browser.post adds its CSRF token to the map).
func clone(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
