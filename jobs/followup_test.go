package jobs

import (
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/models"
)

func TestFollowUpsNotify(t *testing.T) {
	t.Parallel()
	conv, msg, user := int64(7), int64(70), int64(3)
	yes := true
	at := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	evs := []models.Event{
		{ID: 1, Kind: models.EventConversation, ConversationID: &conv, Data: models.ConversationEvent{Created: true}, CreatedAt: at},
		{ID: 2, Kind: models.EventMessage, ConversationID: &conv, MessageID: &msg, CreatedAt: at},
		{ID: 3, Kind: models.EventConversation, ConversationID: &conv, Data: models.ConversationEvent{Assigned: true, AssigneeID: &user, ByUserID: 4}, CreatedAt: at},
		// Nobody is notified of these.
		{ID: 4, Kind: models.EventConversation, ConversationID: &conv, Data: models.ConversationEvent{Status: "closed"}, CreatedAt: at},
		{ID: 5, Kind: models.EventRead, ConversationID: &conv, UserID: &user, CreatedAt: at},
		{ID: 6, Kind: models.EventConversation, ConversationID: &conv, UserID: &user, Data: models.ConversationEvent{Following: &yes}, CreatedAt: at},
		{ID: 7, Kind: models.EventNotification, ConversationID: &conv, UserID: &user, Data: models.NotificationEvent{ID: 1}, CreatedAt: at},
		{ID: 8, Kind: models.EventDeskStatus, UserID: &user, CreatedAt: at},
		{ID: 9, Kind: models.EventSettings, CreatedAt: at},
	}
	var params []river.InsertManyParams
	for _, e := range evs {
		params = append(params, notifyFollowUps(e)...)
	}
	require.Len(t, params, 3)
	var ids []int64
	for _, p := range params {
		args, ok := p.Args.(NotifyArgs)
		require.True(t, ok)
		ids = append(ids, args.EventID)
		switch args.EventKind {
		case models.EventMessage:
			require.NotNil(t, p.InsertOpts, "messages wait: whoever is looking reads them meanwhile")
			require.Equal(t, at.Add(MessageNotifyDelay), p.InsertOpts.ScheduledAt)
			require.Equal(t, msg, *args.MessageID)
		default:
			require.Nil(t, p.InsertOpts, "at once")
		}
	}
	require.Equal(t, []int64{1, 2, 3}, ids)
	require.Equal(t, int64(4), params[2].Args.(NotifyArgs).Data.(models.ConversationEvent).ByUserID, "the job carries the event's data")
}
