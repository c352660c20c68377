package app

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// A change to a followed ticket, made through the desk, reaches the
// follower's bell through the notify job, and the entry opens the ticket.
func TestItemChangeNotifiesFollowers(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{startJobs: true})
	ctx := context.Background()
	ann := e.user("Ann", "ann@example.com", models.RoleAgent, true)
	bob := e.user("Bob <b>", "bob@example.com", models.RoleAgent, true)
	var ticket *models.Item
	require.NoError(t, e.app.write(ctx, func(tx models.Tx) (err error) {
		ticket, err = models.CreateItem(ctx, tx, ann, models.ItemInput{Kind: models.ItemTicket, Title: "Broken <zip>"})
		return err
	}))
	require.NoError(t, factory.Write(e.db, func(tx models.Tx) error { return models.SetItemFollowing(ctx, tx, ann, ticket, true) }))

	b := e.browser()
	b.login("bob@example.com")
	res := b.post("/tickets/"+strconv.FormatInt(ticket.Number, 10)+"/update", map[string][]string{"field": {"status"}, "value": {"resolved"}}, "HX-Request", "true")
	require.Less(t, res.StatusCode, 300, res.body)

	a := e.browser()
	a.login("ann@example.com")
	var page *response
	require.Eventually(t, func() bool {
		page = a.get("/notifications")
		return page.doc.Find(".notif-link").Length() > 0
	}, 10*time.Second, 50*time.Millisecond)
	link := page.doc.Find(".notif-link").First()
	href, _ := link.Attr("href")
	require.Equal(t, "/tickets/"+strconv.FormatInt(ticket.Number, 10), href)
	require.Contains(t, link.Text(), "Bob <b>")
	require.Contains(t, link.Text(), ticket.Ref())
	require.NotContains(t, page.body, "Bob <b>", "names are escaped")
	require.Equal(t, "Bob <b>", bob.Name)
}
