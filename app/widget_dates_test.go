package app

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The widget writes every date one way: the conversation list and the
// thread show a conversation's last message with the same format, today as
// on an older day.
func TestWidgetDatesSameInListAndThread(t *testing.T) {
	t.Parallel()
	e := setup(t)
	w := e.newVisitor()
	pid := w.start("Hello")
	stamps := func(when string) (list, thread [2]string) {
		home := w.get("/widget/home")
		lt := home.doc.Find("#w-convs time")
		require.Equal(t, 1, lt.Length(), when)
		th := w.get("/widget/conversations/" + pid).doc.Find("#m-" + lastMessageID(t, e, pid) + " time")
		require.Equal(t, 1, th.Length(), when)
		return [2]string{lt.AttrOr("data-local", ""), lt.Text()}, [2]string{th.AttrOr("data-local", ""), th.Text()}
	}
	list, thread := stamps("today")
	assert.Equal(t, list, thread, "today")
	assert.Len(t, list[1], len("15:04"), "today: the time alone")

	// Make it last week's.
	require.NoError(t, e.db.Exec(`UPDATE messages SET created_at = created_at - interval '7 days' WHERE conversation_id = (SELECT id FROM conversations WHERE public_id = ?)`, pid).Error)
	require.NoError(t, e.db.Exec(`UPDATE conversations SET last_message_at = last_message_at - interval '7 days' WHERE public_id = ?`, pid).Error)
	list, thread = stamps("last week")
	assert.Equal(t, list, thread, "last week")
	assert.Len(t, list[1], len("2006-01-02 15:04"), "another day: day and time")
}

func lastMessageID(t *testing.T, e *testEnv, pid string) string {
	t.Helper()
	var id string
	require.NoError(t, e.db.Raw(`SELECT last_message_id::text FROM conversations WHERE public_id = ?`, pid).Scan(&id).Error)
	return id
}
