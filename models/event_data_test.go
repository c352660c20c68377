package models_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// Every event kind round-trips through the one encoder and decoder, stays
// readable in the JSON rows written before payloads were typed, and comes
// back typed from the event log.
func TestEventDataRoundTrip(t *testing.T) {
	t.Parallel()
	id := func(n int64) *int64 { return &n }
	yes, no := true, false
	cases := []struct {
		data   models.EventData
		stored string // the JSON the string-keyed writers stored
	}{
		{models.MessageEvent{}, `{}`},
		{models.MessageChangedEvent{ByUserID: 3}, `{"by_user_id": 3}`},
		{models.MessageChangedEvent{Deleted: true, ByUserID: 3}, `{"deleted": true, "by_user_id": 3}`},
		{models.ReadEvent{}, `{}`},
		{models.DeskStatusEvent{}, `{}`},
		{models.SettingsEvent{}, `{}`},
		{models.ConversationEvent{Created: true}, `{"created": true}`},
		{models.ConversationEvent{Status: models.StatusClosed}, `{"status": "closed"}`},
		{models.ConversationEvent{Assigned: true, ByUserID: 4, AssigneeID: id(3)}, `{"assigned": true, "by_user_id": 4, "assignee_id": 3}`},
		{models.ConversationEvent{Assigned: true, ByUserID: 4}, `{"assigned": true, "by_user_id": 4}`},
		{models.ConversationEvent{Following: &no}, `{"following": false}`},
		{models.ConversationEvent{ItemFollowing: &yes}, `{"item_following": true}`},
		{models.ItemEvent{Created: true, ByUserID: 2, AssigneeID: id(5)}, `{"created": true, "by_user_id": 2, "assignee_id": 5}`},
		{models.ItemEvent{Field: models.FieldAssignee, ByUserID: 2, AssigneeID: id(5)}, `{"field": "assignee", "by_user_id": 2, "assignee_id": 5}`},
		{models.ItemEvent{Field: "title", ByUserID: 2}, `{"field": "title", "by_user_id": 2}`},
		{models.ItemEvent{Linked: true}, `{"linked": true}`},
		{models.ItemEvent{Unlinked: true}, `{"unlinked": true}`},
		{models.ItemEvent{Following: &yes}, `{"following": true}`},
		{models.AccessEvent{Why: "deactivated"}, `{"why": "deactivated"}`},
		{models.ConversationEvent{Transferred: true, TeamID: id(7), ByUserID: 4}, `{"transferred": true, "team_id": 7, "by_user_id": 4}`},
		{models.ConversationEvent{Assigned: true, AssigneeID: id(3), Auto: true}, `{"assigned": true, "assignee_id": 3, "auto": true}`},
		{models.AgentEvent{Availability: models.AvailabilityOnline, ByUserID: 3}, `{"availability": "online", "by_user_id": 3}`},
		{models.RoutingEvent{RuleID: 2, Change: "added", ByUserID: 1}, `{"rule_id": 2, "change": "added", "by_user_id": 1}`},
		{models.NotificationEvent{ID: 9}, `{"id": 9}`},
		{models.NotificationEvent{ID: 9, Replaces: 8}, `{"id": 9, "replaces": 8}`},
		{models.NotificationEvent{Read: &models.NotificationsRead{IDs: []int64{9}}}, `{"read": [9]}`},
		{models.NotificationEvent{Read: &models.NotificationsRead{All: true}}, `{"read": "all"}`},
		{models.SLABreachEvent{BreachID: 7, Target: models.SLAFirst, TeamID: id(2), DueAt: time.Date(2026, 3, 4, 5, 6, 0, 0, time.UTC)},
			`{"breach_id": 7, "target": "first", "team_id": 2, "due_at": "2026-03-04T05:06:00Z"}`},
		{models.SLATargetsEvent{ByUserID: 1, TeamID: id(2), First: ptr(15)}, `{"by_user_id": 1, "team_id": 2, "first": 15}`},
		{models.RTCEvent{Session: 4, PublicID: "p", Media: models.RTCScreen, State: models.RTCRequested}, `{"session": 4, "pid": "p", "media": "screen", "state": "requested"}`},
		{models.RTCEvent{Session: 4, PublicID: "p", Signal: 7, From: "customer", To: "u2"}, `{"session": 4, "pid": "p", "signal": 7, "from": "customer", "to": "u2"}`},
		{models.ArticleEvent{ArticleID: 4, Action: models.ArticleUpdated, ByUserID: 2}, `{"article_id": 4, "action": "updated", "by_user_id": 2}`},
		{models.CobrowseEvent{Session: 3, PublicID: "p", State: "active"}, `{"session": 3, "pid": "p", "state": "active"}`},
		{models.CobrowseEvent{Session: 3, Chunk: 9}, `{"session": 3, "chunk": 9}`},
		{models.CobrowseEvent{Session: 3, Command: "highlight", Node: 12}, `{"session": 3, "cmd": "highlight", "node": 12}`},
	}
	for _, c := range cases {
		t.Run(c.data.Kind()+c.stored, func(t *testing.T) {
			t.Parallel()
			raw, err := models.EncodeEventData(c.data)
			require.NoError(t, err)
			require.JSONEq(t, c.stored, string(raw), "the stored format is unchanged")
			back, err := models.DecodeEventData(c.data.Kind(), raw)
			require.NoError(t, err)
			require.Equal(t, c.data, back)
			legacy, err := models.DecodeEventData(c.data.Kind(), []byte(c.stored))
			require.NoError(t, err)
			require.Equal(t, c.data, legacy)
		})
	}
	// Every kind is covered.
	kinds := map[string]bool{}
	for _, c := range cases {
		kinds[c.data.Kind()] = true
	}
	for _, k := range []string{models.EventMessage, models.EventMessageChanged, models.EventConversation, models.EventRead, models.EventDeskStatus,
		models.EventSettings, models.EventItem, models.EventAccess, models.EventNotification, models.EventRTC, models.EventCobrowse, models.EventAgent, models.EventRouting,
		models.EventSLABreach, models.EventSLATargets, models.EventArticle} {
		require.True(t, kinds[k], k)
	}
}

// Rows of the old format that differ only in spelling decode alike: a null
// assignee is no assignee; floats from JSON are ids.
func TestEventDataLegacy(t *testing.T) {
	t.Parallel()
	d, err := models.DecodeEventData(models.EventItem, []byte(`{"created": true, "by_user_id": 2, "assignee_id": null}`))
	require.NoError(t, err)
	require.Equal(t, models.ItemEvent{Created: true, ByUserID: 2}, d)
	d, err = models.DecodeEventData(models.EventMessage, nil)
	require.NoError(t, err)
	require.Equal(t, models.MessageEvent{}, d)
	d, err = models.DecodeEventData("from_the_future", []byte(`{"x": 1}`))
	require.NoError(t, err)
	require.Equal(t, "from_the_future", d.Kind())
	_, err = models.DecodeEventData(models.EventConversation, []byte(`{"status": 5}`))
	require.Error(t, err)
}

// Events carried by jobs (MailEventArgs) keep their JSON: a job queued by an
// earlier version, whose Data was a plain object, decodes typed.
func TestEventJSON(t *testing.T) {
	t.Parallel()
	conv := int64(7)
	ev := models.Event{ID: 1, Kind: models.EventConversation, ConversationID: &conv, Data: models.ConversationEvent{Created: true}}
	b, err := json.Marshal(ev)
	require.NoError(t, err)
	var back models.Event
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, ev, back)

	var old models.Event
	require.NoError(t, json.Unmarshal([]byte(`{"ID":2,"XID":0,"Kind":"message","ConversationID":7,"MessageID":9,"UserID":null,"ItemID":null,"Data":{},"CreatedAt":"0001-01-01T00:00:00Z"}`), &old))
	require.Equal(t, models.MessageEvent{}, old.Data)
	require.Equal(t, int64(9), *old.MessageID)
}

// What a transaction appends comes back typed from the log.
func TestEventDataFromLog(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	err := factory.Write(db, func(tx models.Tx) error {
		require.NoError(t, models.AppendEvent(tx, models.Event{Data: models.AccessEvent{Why: "test"}}))
		require.NoError(t, models.AppendEvent(tx, models.Event{Data: models.SettingsEvent{}}))
		evs, err := models.EventsOfThisTx(ctx, tx.DB())
		require.NoError(t, err)
		require.Len(t, evs, 2)
		require.Equal(t, models.EventAccess, evs[0].Kind)
		require.Equal(t, models.AccessEvent{Why: "test"}, evs[0].Data)
		require.Equal(t, models.SettingsEvent{}, evs[1].Data)
		var loaded models.Event // through GORM too
		require.NoError(t, tx.DB().Take(&loaded, evs[0].ID).Error)
		require.Equal(t, evs[0].Data, loaded.Data)
		return nil
	})
	require.NoError(t, err)
}
