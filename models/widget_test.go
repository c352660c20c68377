package models_test

import (
	"context"
	"strings"
	"testing"

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
		return models.StartVisitorConversation(ctx, tx, v, settings, models.VisitorStart{
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
		return models.StartVisitorConversation(ctx, tx, v, settings, models.VisitorStart{Body: "hi", Email: "not-an-email"})
	})
	require.ErrorAs(t, err, &ve)
	_, ok = ve.Field("email")
	assert.True(t, ok)

	conv, msg, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartVisitorConversation(ctx, tx, v, settings, models.VisitorStart{
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
	settings.RequireSignedIdentity = true
	_, _, err = factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartVisitorConversation(ctx, tx, v, settings, models.VisitorStart{Body: "again"})
	})
	require.ErrorIs(t, err, models.ErrIdentityRequired)
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostVisitorMessage(ctx, tx, v, settings, found, "more", models.PostOpts{})
	})
	require.ErrorIs(t, err, models.ErrIdentityRequired)
	assert.False(t, v.MayWrite(settings))

	// A verified visitor may, and the pre-chat fields never edit it.
	_, err = models.IdentifyVisitor(ctx, db, v, models.Identity{ExternalID: "u-1", Email: "real@example.com", Name: "Real",
		Signature: models.IdentitySignature(settings.WidgetSecret, "u-1", "real@example.com")}, settings)
	require.NoError(t, err)
	require.True(t, v.Customer.Verified)
	_, _, err = factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartVisitorConversation(ctx, tx, v, settings, models.VisitorStart{Body: "signed", Name: "Mallory", Email: "mallory@example.com"})
	})
	require.NoError(t, err)
	assert.Equal(t, "Real", v.Customer.Name)
	assert.Equal(t, "real@example.com", v.Customer.Email)
}

func TestPostVisitorMessageScopedToOwnConversations(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	settings, err := models.GetSettings(ctx, db)
	require.NoError(t, err)
	_, a, err := models.CreateVisitor(ctx, db)
	require.NoError(t, err)
	_, b, err := models.CreateVisitor(ctx, db)
	require.NoError(t, err)
	conv, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartVisitorConversation(ctx, tx, a, settings, models.VisitorStart{Body: "mine"})
	})
	require.NoError(t, err)
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostVisitorMessage(ctx, tx, b, settings, conv, "not yours", models.PostOpts{})
	})
	require.ErrorIs(t, err, models.ErrNotFound)
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostVisitorMessage(ctx, tx, a, settings, conv, "yes", models.PostOpts{})
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
		Signature: models.IdentitySignature(settings.WidgetSecret, "u-2", "bob@example.com")}, settings)
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
