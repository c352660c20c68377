package app

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// Deactivation, sign-out, a password reset and losing the support flag, done on one
// instance, end the open desk streams they concern on another at once: a
// customer message posted right after reaches none of them, while the same
// user's other session keeps its stream and gets the message.
func TestRevocationEndsDeskStreamsAtOnceOnEveryInstance(t *testing.T) {
	t.Parallel()
	a := setup(t)
	b := setup(t, envOpts{url: a.url})
	ctx := context.Background()
	a.user("Ada", "ada@example.com", models.RoleAdmin, true)
	dave := a.user("Dave", "dave@example.com", models.RoleAgent, true)
	fay := a.user("Fay", "fay@example.com", models.RoleAgent, true)
	a.user("Bob", "bob@example.com", models.RoleAgent, true)
	gus := a.user("Gus", "gus@example.com", models.RoleAgent, true)
	cust, conv := a.customerConversation("Cara", "first question")

	// Each signs in on instance a; the desk streams run on instance b (the
	// cookie jars ignore ports, so the session goes along).
	onB := func(email string) (*browser, *deskStream) {
		br := a.browser()
		br.login(email)
		other := &browser{e: b, client: br.client}
		page := other.get("/inbox")
		require.Equal(t, http.StatusOK, page.StatusCode)
		return br, other.streamFor(page)
	}
	_, daveStream := onB("dave@example.com")
	_, fayStream := onB("fay@example.com")
	_, gusStream := onB("gus@example.com")
	bobOut, outStream := onB("bob@example.com")
	_, keepStream := onB("bob@example.com")

	ada := a.browser()
	ada.login("ada@example.com")
	res := ada.post(fmt.Sprintf("/admin/agents/%d/deactivate", dave.ID), nil)
	require.Less(t, res.StatusCode, 400, res.body)
	res = ada.post(fmt.Sprintf("/admin/agents/%d/password", gus.ID), url.Values{"password": {"a new secret"}})
	require.Less(t, res.StatusCode, 400, res.body)
	_, err := factory.Write1(a.db, func(tx models.Tx) (*models.User, error) {
		return models.UpdateUser(ctx, tx, fay.ID, models.UserInput{Name: fay.Name, Email: fay.Email, Role: fay.Role, CustomerSupport: false})
	})
	require.NoError(t, err)
	res = bobOut.post("/logout", nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)

	a.customerSays(cust, conv, "sent after the revocations")
	keepStream.waitFor("the new message", func(ev sseEvent, _ *goquery.Document) bool {
		return strings.Contains(ev.data, "sent after the revocations")
	})

	for name, s := range map[string]*deskStream{"deactivated": daveStream, "lost the support flag": fayStream, "signed out": outStream, "password reset": gusStream} {
		next(t, s.events, "reload")
		s.end()
		require.NotContains(t, s.everything(), "sent after the revocations", name)
	}
}
