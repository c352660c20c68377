package models_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

func TestStartVisitorConversation(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	settings, err := models.GetSettings(ctx, db)
	require.NoError(t, err)
	token, v, err := models.CreateVisitor(ctx, db)
	require.NoError(t, err)

	// A rejected form stores nothing, not even the contact details.
	_, _, err = factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartVisitorConversation(ctx, tx, v, models.VisitorStart{
			Body: strings.Repeat("x", models.MaxMessageLen+1), Name: "Ana", Email: "ana@example.com"})
	})
	var ve *models.ValidationError
	require.ErrorAs(t, err, &ve)
	_, ok := ve.Field("body")
	assert.True(t, ok)
	v2, err := models.FindVisitor(ctx, db, token)
	require.NoError(t, err)
	assert.Empty(t, v2.Customer.Email)
	_, _, err = factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartVisitorConversation(ctx, tx, v, models.VisitorStart{Body: "hi", Email: "not-an-email"})
	})
	require.ErrorAs(t, err, &ve)
	_, ok = ve.Field("email")
	assert.True(t, ok)

	conv, msg, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartVisitorConversation(ctx, tx, v, models.VisitorStart{
			Body: "Where is my order?", Name: " Ana ", Email: "ANA@example.com",
			Session: models.SessionInfo{PageURL: "https://shop.example/orders", Browser: "Firefox", OS: "Linux", Language: "pt-BR", Timezone: "America/Sao_Paulo"}})
	})
	require.NoError(t, err)
	assert.Equal(t, "Where is my order?", msg.Body)
	assert.Equal(t, "Ana", v.Customer.Name)
	assert.Equal(t, "ana@example.com", v.Customer.Email)
	found, err := models.FindConversationForCustomer(ctx, db, v.CustomerID, conv.PublicID)
	require.NoError(t, err)
	assert.Equal(t, "widget", found.Channel)
	assert.Equal(t, "https://shop.example/orders", found.PageURL)
	assert.Equal(t, "America/Sao_Paulo", found.Timezone)

	// Requiring signed identities stops anonymous visitors from writing.
	require.NoError(t, db.Exec("UPDATE desk_settings SET require_signed_identity = true").Error)
	settings.RequireSignedIdentity = true
	_, _, err = factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartVisitorConversation(ctx, tx, v, models.VisitorStart{Body: "again"})
	})
	require.ErrorIs(t, err, models.ErrIdentityRequired)
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostVisitorMessage(ctx, tx, v, found, "more", models.PostOpts{})
	})
	require.ErrorIs(t, err, models.ErrIdentityRequired)
	assert.False(t, v.MayWrite(settings))

	// A verified visitor may, and the pre-chat fields never edit it.
	_, err = models.IdentifyVisitor(ctx, db, v, models.Identity{ExternalID: "u-1", Email: "real@example.com", Name: "Real",
		Signature: models.IdentitySignature(settings.WidgetSecret, "u-1", "real@example.com")})
	require.NoError(t, err)
	require.True(t, v.Customer.Verified)
	_, _, err = factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartVisitorConversation(ctx, tx, v, models.VisitorStart{Body: "signed", Name: "Mallory", Email: "mallory@example.com"})
	})
	require.NoError(t, err)
	assert.Equal(t, "Real", v.Customer.Name)
	assert.Equal(t, "real@example.com", v.Customer.Email)
}

func TestPostVisitorMessageScopedToOwnConversations(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	_, a, err := models.CreateVisitor(ctx, db)
	require.NoError(t, err)
	_, b, err := models.CreateVisitor(ctx, db)
	require.NoError(t, err)
	conv, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartVisitorConversation(ctx, tx, a, models.VisitorStart{Body: "mine"})
	})
	require.NoError(t, err)
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostVisitorMessage(ctx, tx, b, conv, "not yours", models.PostOpts{})
	})
	require.ErrorIs(t, err, models.ErrNotFound)
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostVisitorMessage(ctx, tx, a, conv, "yes", models.PostOpts{})
	})
	require.NoError(t, err)
}

func TestSaveVisitorEmail(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	settings, err := models.GetSettings(ctx, db)
	require.NoError(t, err)
	_, v, err := models.CreateVisitor(ctx, db)
	require.NoError(t, err)
	_, err = models.SaveVisitorEmail(ctx, db, v, "nope")
	var ve *models.ValidationError
	require.ErrorAs(t, err, &ve)
	_, err = models.SaveVisitorEmail(ctx, db, v, "")
	require.ErrorAs(t, err, &ve)
	c, err := models.SaveVisitorEmail(ctx, db, v, " Bob@Example.com ")
	require.NoError(t, err)
	assert.Equal(t, "bob@example.com", c.Email)
	assert.False(t, c.Verified)

	_, err = models.IdentifyVisitor(ctx, db, v, models.Identity{ExternalID: "u-2", Email: "bob@example.com",
		Signature: models.IdentitySignature(settings.WidgetSecret, "u-2", "bob@example.com")})
	require.NoError(t, err)
	_, err = models.SaveVisitorEmail(ctx, db, v, "evil@example.com")
	require.ErrorIs(t, err, models.ErrNotFound, "a verified customer's email is never edited from the widget")
}

// Clearing the list of allowed sites stores an empty list (the column is
// NOT NULL), and the sites are normalised origins.
func TestUpdateSettingsAllowedOrigins(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	in := models.SettingsInput{DeskName: "Acme", BrandColor: "#0F766E", AllowedOrigins: "https://Shop.Example.com/\nhttp://localhost:3000, https://shop.example.com"}
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.UpdateSettings(ctx, tx, in) }))
	s, err := models.GetSettings(ctx, db)
	require.NoError(t, err)
	assert.Equal(t, []string{"https://shop.example.com", "http://localhost:3000"}, []string(s.AllowedOrigins))
	assert.Equal(t, "#0f766e", s.BrandColor)

	in.AllowedOrigins = "  "
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.UpdateSettings(ctx, tx, in) }))
	s, err = models.GetSettings(ctx, db)
	require.NoError(t, err)
	assert.Empty(t, s.AllowedOrigins)

	in.AllowedOrigins = "https://ok.example\njavascript:alert(1)"
	err = factory.Write(db, func(tx models.Tx) error { return models.UpdateSettings(ctx, tx, in) })
	var ve *models.ValidationError
	require.ErrorAs(t, err, &ve)
	fe, ok := ve.Field("allowed_origins")
	require.True(t, ok)
	assert.Equal(t, "javascript:alert(1)", fe.Data["Value"])
}

// A thread asks the visitor for an email only while the desk is offline and
// nobody knows how to reach them.
func TestVisitorAskEmail(t *testing.T) {
	t.Parallel()
	anon := &models.Customer{}
	known := &models.Customer{Email: "ana@example.com"}
	verified := &models.Customer{Verified: true}
	for _, tc := range []struct {
		name    string
		visitor *models.Visitor
		online  bool
		want    bool
	}{
		{"no visitor yet", nil, false, false},
		{"anonymous, desk offline", &models.Visitor{Customer: anon}, false, true},
		{"anonymous, desk online", &models.Visitor{Customer: anon}, true, false},
		{"email known, desk offline", &models.Visitor{Customer: known}, false, false},
		{"verified without email, desk offline", &models.Visitor{Customer: verified}, false, false},
		{"customer not loaded, desk offline", &models.Visitor{}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.visitor.AskEmail(&models.DeskSettings{Online: tc.online}))
		})
	}
}

// Widget writes decide by the desk settings as they are in their own
// transaction, not as the handler read them before: the desk switched away
// or to signed identities after that read is what the write follows, and a
// switch waits for a write in progress (the write holds what it read).
func TestWidgetWritesReadSettingsInTheirTransaction(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	stale, err := models.GetSettings(ctx, db) // what a handler would have read first
	require.NoError(t, err)
	require.True(t, stale.Online)
	_, v, err := models.CreateVisitor(ctx, db)
	require.NoError(t, err)
	require.False(t, v.EmailRequired(stale))

	// The desk goes away after that read: the start asks for an email.
	require.NoError(t, db.Exec("UPDATE desk_settings SET online = false").Error)
	start := func(in models.VisitorStart) (*models.Conversation, error) {
		conv, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
			return models.StartVisitorConversation(ctx, tx, v, in)
		})
		return conv, err
	}
	_, err = start(models.VisitorStart{Body: "hello?"})
	assert.Equal(t, "email_required_away", fieldCode(t, err, "email"))
	conv, err := start(models.VisitorStart{Body: "hello?", Email: "zoe@client.test"})
	require.NoError(t, err)
	postIn := func(body string, hold func()) error {
		return factory.Write(db, func(tx models.Tx) error {
			_, err := models.PostVisitorMessage(ctx, tx, v, conv, body, models.PostOpts{})
			if err == nil && hold != nil {
				hold()
			}
			return err
		})
	}
	// As the widget's handler posts: the conversation locked first, the
	// settings held with it in the same round trip.
	postLocked := func(body string, hold func()) error {
		return factory.Write(db, func(tx models.Tx) error {
			locked, err := models.LockConversationForVisitor(ctx, tx, v, conv.PublicID)
			if err != nil {
				return err
			}
			_, err = models.PostVisitorMessage(ctx, tx, v, locked, body, models.PostOpts{Locked: true})
			if err == nil && hold != nil {
				hold()
			}
			return err
		})
	}

	// Signed identities become required after that read: refused.
	require.NoError(t, db.Exec("UPDATE desk_settings SET require_signed_identity = true").Error)
	require.True(t, v.MayWrite(stale))
	require.ErrorIs(t, postIn("more", nil), models.ErrIdentityRequired)
	require.ErrorIs(t, postLocked("more", nil), models.ErrIdentityRequired)
	_, err = start(models.VisitorStart{Body: "again"})
	require.ErrorIs(t, err, models.ErrIdentityRequired)
	_, err = models.IdentifyVisitor(ctx, db, v, models.Identity{Name: "Zoe"})
	require.ErrorIs(t, err, models.ErrIdentityRequired)
	require.NoError(t, db.Exec("UPDATE desk_settings SET require_signed_identity = false").Error)

	// A write in progress holds the settings it decided by: switching the
	// desk back online waits for it to commit.
	admin, err := models.CreateUser(ctx, db, models.UserInput{Name: "Ada", Email: "ada@example.com",
		Password: "correct horse", Role: models.RoleAdmin})
	require.NoError(t, err)
	for name, post := range map[string]func(string, func()) error{"post": postIn, "locked post": postLocked} {
		require.NoError(t, db.Exec("UPDATE desk_settings SET online = false").Error)
		written, release := make(chan struct{}), make(chan struct{})
		wrote := make(chan error, 1)
		go func() {
			wrote <- post("still there?", func() { close(written); <-release })
		}()
		select {
		case <-written:
		case err := <-wrote:
			t.Fatalf("%s: the post failed: %v", name, err)
		}
		switched := make(chan error, 1)
		go func() {
			switched <- factory.Write(db, func(tx models.Tx) error { return models.SetOnline(ctx, tx, admin.ID, true) })
		}()
		select {
		case err := <-switched:
			close(release)
			<-wrote
			t.Fatalf("%s: the desk switched during a write that decided by it being away (err %v)", name, err)
		case <-time.After(300 * time.Millisecond):
		}
		close(release)
		require.NoError(t, <-wrote, name)
		select {
		case err := <-switched:
			require.NoError(t, err, name)
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: the switch never happened", name)
		}
		now, err := models.GetSettings(ctx, db)
		require.NoError(t, err)
		assert.True(t, now.Online, name)
	}
}
