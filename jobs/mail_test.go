package jobs

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/smtptest"
	"github.com/parleydesk/parley/models"
)

func testMailer(t *testing.T, s *smtptest.Server) *SMTPMailer {
	t.Helper()
	m, err := NewSMTPMailer(SMTPConfig{Host: s.Host, Port: s.Port, From: "Acme <help@acme.test>", TLS: "none"})
	require.NoError(t, err)
	return m
}

// The SMTP mailer sends both parts with the headers Parley relies on, and
// tells refusals that retrying cannot fix from those it can.
func TestSMTPMailer(t *testing.T) {
	t.Parallel()
	s := smtptest.Start(t)
	m := testMailer(t, s)
	ctx := context.Background()
	e := Email{To: "zoe@client.test", ToName: "Zoé", Subject: "Réponse", Text: "plain ✓", HTML: "<p>html ✓</p>",
		MessageID: messageID("k1", "help.acme.test"), Language: "fr"}
	require.NoError(t, m.Send(ctx, e))
	got := s.Messages()
	require.Len(t, got, 1)
	require.Equal(t, []string{"zoe@client.test"}, got[0].To)
	require.Equal(t, "help@acme.test", got[0].From)
	require.Equal(t, "Réponse", got[0].Subject)
	require.Equal(t, e.MessageID, got[0].MessageID)
	require.Equal(t, "fr", got[0].Header.Get("Content-Language"))
	require.Equal(t, "auto-generated", got[0].Header.Get("Auto-Submitted"))
	require.Contains(t, got[0].Text, "plain ✓")
	require.Contains(t, got[0].HTML, "<p>html ✓</p>")

	var perm *PermanentError
	require.ErrorAs(t, m.Send(ctx, Email{To: "not an address", Subject: "x"}), &perm)
	s.RejectRecipients(func(string) bool { return true }, smtptest.Permanent)
	require.ErrorAs(t, m.Send(ctx, e), &perm)
	s.RejectRecipients(func(string) bool { return true }, smtptest.Temporary)
	err := m.Send(ctx, e)
	require.Error(t, err)
	require.False(t, errors.As(err, &perm), "a 4xx is worth retrying: %v", err)
	s.RejectRecipients(nil, nil)
	s.RejectData(func() error { return smtptest.Permanent })
	err = m.Send(ctx, e)
	require.Error(t, err)
	require.False(t, errors.As(err, &perm), "a refused message (not recipient) is retried: %v", err)
}

func TestMessageIDIsStable(t *testing.T) {
	t.Parallel()
	require.Equal(t, messageID("agent:1:2", "h"), messageID("agent:1:2", "h"))
	require.NotEqual(t, messageID("agent:1:2", "h"), messageID("agent:1:3", "h"))
	require.Regexp(t, `^<[0-9a-f]{32}@parley\.invalid>$`, messageID("k", ""))
}

// Only writes that may email someone get a fan-out job, one per write.
func TestMailFollowUps(t *testing.T) {
	t.Parallel()
	id := func(n int64) *int64 { return &n }
	conv := id(7)
	evs := []models.Event{
		{ID: 1, Kind: models.EventConversation, ConversationID: conv, Data: models.ConversationEvent{Created: true}},
		{ID: 2, Kind: models.EventMessage, ConversationID: conv, MessageID: id(9)},
		{ID: 3, Kind: models.EventConversation, ConversationID: conv, Data: models.ConversationEvent{Status: "closed"}},
		{ID: 4, Kind: models.EventRead, ConversationID: conv, UserID: id(1)},
		{ID: 5, Kind: models.EventDeskStatus},
	}
	out := mailFollowUps(evs)
	require.Len(t, out, 1)
	args, ok := out[0].Args.(MailEventArgs)
	require.True(t, ok)
	require.Len(t, args.Events, 2)
	require.EqualValues(t, []int64{1, 2}, []int64{args.Events[0].ID, args.Events[1].ID})
	require.Empty(t, mailFollowUps(evs[2:]))
	require.Len(t, FollowUps(evs, FollowUpOptions{Mail: true}), 3, "FollowUps gathers the notify jobs and the mail fan-out")
	require.Len(t, FollowUps(evs, FollowUpOptions{}), 2, "without email, no email job")
}
