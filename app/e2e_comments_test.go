package app

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/browsertest"
	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// Issue 10's comment journey: Ann comments on a task from its page,
// mentioning Bob; the comment shows in the task's history (for Ann at once,
// and live on Bob's open copy of the page), and Bob's bell rises with the
// mention (the notify job runs for real); the entry opens the task.
func TestBrowserItemCommentMention(t *testing.T) {
	browsertest.SkipShort(t)
	t.Parallel()
	e := setup(t, envOpts{startJobs: true})
	ctx := context.Background()
	ann := e.user("Ann Agent", "ann@example.com", models.RoleAgent, true)
	e.user("Bob Backup", "bob@example.com", models.RoleAgent, false)
	task, err := factory.Write1(e.db, func(tx models.Tx) (*models.Item, error) {
		return models.CreateItem(ctx, tx, ann, models.ItemInput{Kind: models.ItemTask, Title: "Order stamps"})
	})
	require.NoError(t, err)
	e.waitJobs("notify")

	bob := deskTab(t, e, "bob@example.com")
	require.NoError(t, chromedp.Do(bob,
		chromedp.Navigate(e.srv.URL+"/tasks/1"),
		chromedp.WaitVisible(chromedp.ID("item-activity")),
	))
	require.True(t, jsBool(t, bob, `document.getElementById('nav-notif-count').hidden`), "nothing yet")

	tab := deskTab(t, e, "ann@example.com")
	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate(e.srv.URL+"/tasks/1"),
		chromedp.WaitVisible(chromedp.ID("f-comment")),
		browsertest.Type("#f-comment", "@Bob Backup can you take this one?"),
		browsertest.Click("#comment-submit"),
		until(`[...document.querySelectorAll('#item-activity .item-comment')].some(el => el.textContent.includes('can you take this one?'))`),
	))
	require.Contains(t, jsText(t, tab, `document.querySelector('#item-activity .item-comment').textContent`), "Ann Agent commented")

	require.NoError(t, chromedp.Do(bob,
		until(`[...document.querySelectorAll('#item-activity .item-comment')].some(el => el.textContent.includes('@Bob Backup can you take this one?'))`),
		until(`!document.getElementById('nav-notif-count').hidden && document.getElementById('nav-notif-count').textContent === '1'`),
		browsertest.Click("#nav-bell"),
		chromedp.WaitVisible(chromedp.CSS(`#notif-panel .notif-entry.is-unread`)),
	))
	require.Equal(t, "Ann Agent mentioned you on K-1 Order stamps", jsText(t, bob, `document.querySelector('#notif-panel .notif-headline').textContent`))
	require.Contains(t, jsText(t, bob, `document.querySelector('#notif-panel .notif-preview').textContent`), "can you take this one?")
	require.Equal(t, "/tasks/1", jsText(t, bob, `new URL(document.querySelector('#notif-panel .notif-link').href).pathname`))
	_ = task
}
