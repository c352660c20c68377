package models_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

func TestNormalizeSupportKey(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"123456": "123456", " 123 456 ": "123456", "123-456": "123456"} {
		got, ok := models.NormalizeSupportKey(in)
		assert.True(t, ok, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "12345", "1234567", "12345a", "١٢٣٤٥٦", "123456\x00", "12 34 5"} {
		_, ok := models.NormalizeSupportKey(in)
		assert.False(t, ok, "%q", in)
	}
}

func TestSupportSessionLifecycle(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	ann := mkSupport(t, db, "ann@example.com")
	now := time.Now()

	s, conv, err := factory.Write2(db, func(tx models.Tx) (*models.SupportSession, *models.Conversation, error) {
		return models.CreateSupportSession(ctx, tx, ann, "Please open <b>Settings</b>", now)
	})
	require.NoError(t, err)
	require.Regexp(t, `^[0-9]{6}$`, s.Key)
	require.NotNil(t, s.LiveKey)
	assert.WithinDuration(t, now.Add(30*time.Minute), s.ExpiresAt, time.Second, "default 30 min")
	assert.Equal(t, models.ChannelKey, conv.Channel)
	assert.Equal(t, ann.ID, *conv.AssigneeID)
	require.NoError(t, models.CheckSupportKey(ctx, db, s.Key, now))
	// The agent's own session alerts nobody (no "new conversation" for the team).
	var created []models.Event
	require.NoError(t, db.Where("conversation_id = ? AND kind = ?", conv.ID, models.EventConversation).Find(&created).Error)
	require.Len(t, created, 1)
	aud, err := models.AudienceOf(ctx, db, created[0])
	require.NoError(t, err)
	assert.Nil(t, aud)

	// The customer sees the request first, not the team's status line.
	msgs, err := models.ListMessages(ctx, db, conv, true)
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	assert.Equal(t, "Please open <b>Settings</b>", msgs[0].Body)

	// Redeemed once, through the link, with the browser's details.
	info := models.SessionInfo{UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0", Browser: "Chrome 126", OS: "Linux", Language: "pt-BR"}
	tok, got, err := factory.Write2(db, func(tx models.Tx) (string, *models.Conversation, error) {
		return models.RedeemSupportKey(ctx, tx, s.Key[:3]+" "+s.Key[3:], models.ChannelLink, info, now.Add(time.Minute))
	})
	require.NoError(t, err)
	require.NotEmpty(t, tok)
	assert.Equal(t, conv.ID, got.ID)
	v, err := models.FindVisitor(ctx, db, tok)
	require.NoError(t, err)
	require.NotNil(t, v.ConversationID)
	assert.Equal(t, conv.ID, *v.ConversationID, "the visitor sees this conversation only")
	var stored models.Conversation
	require.NoError(t, db.Take(&stored, conv.ID).Error)
	assert.Equal(t, models.ChannelLink, stored.Channel)
	assert.Equal(t, "Chrome 126", stored.Browser)
	assert.Equal(t, "Linux", stored.OS)
	staff, err := models.ListMessages(ctx, db, conv, false)
	require.NoError(t, err)
	last := staff[len(staff)-1]
	assert.Equal(t, models.SysSessionJoined, last.Event)
	assert.False(t, last.VisibleToCustomer())

	// Single use.
	_, _, err = factory.Write2(db, func(tx models.Tx) (string, *models.Conversation, error) {
		return models.RedeemSupportKey(ctx, tx, s.Key, models.ChannelKey, info, now.Add(time.Minute))
	})
	require.ErrorIs(t, err, models.ErrKeyUsed)
	require.ErrorIs(t, models.CheckSupportKey(ctx, db, s.Key, now), models.ErrKeyUsed)

	// Ended: closed with a line the customer sees; ending twice changes nothing.
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.EndSupportSession(ctx, tx, ann, conv) }))
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.EndSupportSession(ctx, tx, ann, conv) }))
	require.NoError(t, db.Take(&stored, conv.ID).Error)
	assert.Equal(t, models.StatusClosed, stored.Status)
	cust, err := models.ListMessages(ctx, db, conv, true)
	require.NoError(t, err)
	ended := 0
	for _, m := range cust {
		if m.Event == models.SysSessionEnded {
			ended++
			assert.True(t, m.VisibleToCustomer())
		}
	}
	assert.Equal(t, 1, ended)

	// The customer's next message reopens it, per the desk's rule.
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessage(ctx, tx, models.Actor{Customer: got.Customer}, &stored, models.MessageText, "one more thing")
	})
	require.NoError(t, err)
	require.NoError(t, db.Take(&stored, conv.ID).Error)
	assert.Equal(t, models.StatusOpen, stored.Status)
}

func TestSupportKeyRefusals(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	ann := mkSupport(t, db, "ann@example.com")
	now := time.Now()
	create := func() (*models.SupportSession, *models.Conversation) {
		s, c, err := factory.Write2(db, func(tx models.Tx) (*models.SupportSession, *models.Conversation, error) {
			return models.CreateSupportSession(ctx, tx, ann, "", now)
		})
		require.NoError(t, err)
		return s, c
	}
	redeem := func(key string, at time.Time) error {
		_, _, err := factory.Write2(db, func(tx models.Tx) (string, *models.Conversation, error) {
			return models.RedeemSupportKey(ctx, tx, key, models.ChannelKey, models.SessionInfo{}, at)
		})
		return err
	}
	var before int64
	require.NoError(t, db.Raw("SELECT count(*) FROM visitors").Scan(&before).Error)

	// Expired: the admin's delay counts.
	require.NoError(t, models.SetSupportKeyMinutes(ctx, db, "5"))
	s, _ := create()
	assert.WithinDuration(t, now.Add(5*time.Minute), s.ExpiresAt, time.Second)
	require.ErrorIs(t, redeem(s.Key, now.Add(5*time.Minute)), models.ErrKeyExpired)
	require.ErrorIs(t, models.CheckSupportKey(ctx, db, s.Key, now.Add(6*time.Minute)), models.ErrKeyExpired)

	// Wrong: malformed or unknown.
	require.ErrorIs(t, redeem("12345", now), models.ErrKeyWrong)
	require.ErrorIs(t, redeem("abcdef", now), models.ErrKeyWrong)
	unknown := "000000"
	if s.Key == unknown {
		unknown = "000001"
	}
	require.ErrorIs(t, redeem(unknown, now), models.ErrKeyWrong)

	// Ended before anyone joined: the key stops working.
	s2, c2 := create()
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.EndSupportSession(ctx, tx, ann, c2) }))
	require.ErrorIs(t, redeem(s2.Key, now), models.ErrKeyUsed)

	var after int64
	require.NoError(t, db.Raw("SELECT count(*) FROM visitors").Scan(&after).Error)
	assert.Equal(t, before, after, "nothing half-stored")

	// Only support agents create and end sessions.
	bob := factory.User(t, db, factory.UserOpts{Email: "bob@example.com"})
	err := factory.Write(db, func(tx models.Tx) error {
		_, _, err := models.CreateSupportSession(ctx, tx, bob, "", now)
		return err
	})
	require.ErrorIs(t, err, models.ErrForbidden)
	require.ErrorIs(t, factory.Write(db, func(tx models.Tx) error { return models.EndSupportSession(ctx, tx, bob, c2) }), models.ErrForbidden)

	// Validation of the request text and the admin setting.
	err = factory.Write(db, func(tx models.Tx) error {
		_, _, err := models.CreateSupportSession(ctx, tx, ann, string(make([]byte, 1001)), now)
		return err
	})
	assert.Equal(t, "message_too_long", fieldCode(t, err, "request"))
	for _, bad := range []string{"0", "1441", "x", ""} {
		assert.Equal(t, "support_key_minutes_range", fieldCode(t, models.SetSupportKeyMinutes(ctx, db, bad), "support_key_minutes"), bad)
	}
}

// Two browsers racing for one key: exactly one joins.
func TestSupportKeySingleUseUnderRace(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	ann := mkSupport(t, db, "ann@example.com")
	now := time.Now()
	s, _, err := factory.Write2(db, func(tx models.Tx) (*models.SupportSession, *models.Conversation, error) {
		return models.CreateSupportSession(ctx, tx, ann, "", now)
	})
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			_, _, errs[i] = factory.Write2(db, func(tx models.Tx) (string, *models.Conversation, error) {
				return models.RedeemSupportKey(ctx, tx, s.Key, models.ChannelKey, models.SessionInfo{}, now)
			})
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			require.ErrorIs(t, err, models.ErrKeyUsed)
		}
	}
	assert.Equal(t, 1, ok)
}

// An expired, unused key may be handed out again; a live one never is.
// Not parallel: it replaces the key generator.
func TestSupportKeyUniqueAmongLiveSessions(t *testing.T) {
	db := setup(t)
	ctx := context.Background()
	ann := mkSupport(t, db, "ann@example.com")
	now := time.Now()
	keys := []string{"111111", "111111", "111111", "222222", "111111"}
	defer models.SetSupportKeyGen(func() string { k := keys[0]; keys = keys[1:]; return k })()
	create := func() *models.SupportSession {
		s, _, err := factory.Write2(db, func(tx models.Tx) (*models.SupportSession, *models.Conversation, error) {
			return models.CreateSupportSession(ctx, tx, ann, "", now)
		})
		require.NoError(t, err)
		return s
	}
	first := create()
	assert.Equal(t, "111111", first.Key)
	second := create() // 111111 is live: tries again
	assert.Equal(t, "222222", second.Key)
	require.NoError(t, db.Exec("UPDATE support_sessions SET expires_at = ? WHERE id = ?", now, first.ID).Error)
	third := create() // 111111 expired unused: free again
	assert.Equal(t, "111111", third.Key)
	var old models.SupportSession
	require.NoError(t, db.Take(&old, first.ID).Error)
	assert.Nil(t, old.LiveKey, "the expired session lost its live key")
	assert.Equal(t, "111111", old.Key, "and keeps it on record")
}

func TestNormalizePhone(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, region, want, code string }{
		{"+55 11 98765-4321", "", "+5511987654321", ""},
		{"(11) 98765-4321", "BR", "+5511987654321", ""},
		{"+33 6 12 34 56 78", "BR", "+33612345678", ""},
		{"06 12 34 56 78", "fr", "+33612345678", ""},
		{"06 12 34 56 78", "", "", "phone_international"},
		{"", "BR", "", "phone_required"},
		{"+55 11 123", "", "", "phone_invalid"},
		{"call me", "BR", "", "phone_invalid"},
		{"+1 555 0100 <script>", "", "", "phone_invalid"},
		{"+" + strings.Repeat("1", 40), "", "", "phone_invalid"},
	} {
		got, err := models.NormalizePhone(tc.in, tc.region)
		if tc.code != "" {
			assert.Equal(t, tc.code, fieldCode(t, err, "phone"), "%q", tc.in)
			continue
		}
		require.NoError(t, err, "%q", tc.in)
		assert.Equal(t, tc.want, got, "%q", tc.in)
	}
}

func TestInviteToSession(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	ann := mkSupport(t, db, "ann@example.com")
	now := time.Now()
	_, conv, err := factory.Write2(db, func(tx models.Tx) (*models.SupportSession, *models.Conversation, error) {
		return models.CreateSupportSession(ctx, tx, ann, "", now)
	})
	require.NoError(t, err)
	invite := func(u *models.User, in models.Invite) (*models.SupportInvitation, error) {
		return factory.Write1(db, func(tx models.Tx) (*models.SupportInvitation, error) {
			return models.InviteToSession(ctx, tx, u, conv, in, now)
		})
	}
	_, err = invite(ann, models.Invite{Channel: models.InviteEmail, Address: "not an email"})
	assert.Equal(t, "email_invalid", fieldCode(t, err, "email"))
	_, err = invite(ann, models.Invite{Channel: models.InviteSMS, Address: "12345", Region: "BR"})
	assert.Equal(t, "phone_invalid", fieldCode(t, err, "phone"))
	bob := factory.User(t, db, factory.UserOpts{Email: "bob@example.com"})
	_, err = invite(bob, models.Invite{Channel: models.InviteEmail, Address: "zoe@client.test"})
	require.ErrorIs(t, err, models.ErrForbidden)

	sms, err := invite(ann, models.Invite{Channel: models.InviteSMS, Address: "(11) 98765-4321", Region: "BR", Language: "pt-BR"})
	require.NoError(t, err)
	assert.Equal(t, "+5511987654321", sms.Address)
	mail, err := invite(ann, models.Invite{Channel: models.InviteEmail, Address: "zoe@client.test"})
	require.NoError(t, err)

	// Outcomes: a status line for the team each, recorded once.
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.FinishInvitation(ctx, tx, sms.ID, "") }))
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.FinishInvitation(ctx, tx, sms.ID, "late failure") }))
	require.NoError(t, factory.Write(db, func(tx models.Tx) error {
		return models.FinishInvitation(ctx, tx, mail.ID, "SMTP 550 mailbox unavailable")
	}))
	s, err := models.FindSupportSession(ctx, db, conv.ID)
	require.NoError(t, err)
	require.Len(t, s.Invitations, 2)
	assert.Equal(t, "sent", s.Invitations[0].Status)
	assert.NotNil(t, s.Invitations[0].SentAt)
	assert.Equal(t, "failed", s.Invitations[1].Status)
	assert.Equal(t, "SMTP 550 mailbox unavailable", s.Invitations[1].Error)
	msgs, err := models.ListMessages(ctx, db, conv, false)
	require.NoError(t, err)
	var events []string
	for _, m := range msgs {
		if m.Event == models.SysInviteSent || m.Event == models.SysInviteFailed {
			events = append(events, m.Event)
			assert.False(t, m.VisibleToCustomer(), "invitations are the team's business")
		}
	}
	assert.Equal(t, []string{models.SysInviteSent, models.SysInviteFailed}, events)

	// Once the key no longer works, no more invitations.
	_, _, err = factory.Write2(db, func(tx models.Tx) (string, *models.Conversation, error) {
		return models.RedeemSupportKey(ctx, tx, s.Key, models.ChannelKey, models.SessionInfo{}, now)
	})
	require.NoError(t, err)
	_, err = invite(ann, models.Invite{Channel: models.InviteEmail, Address: "zoe@client.test"})
	assert.Equal(t, "session_key_not_live", fieldCode(t, err, "invite"))
}
