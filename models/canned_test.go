package models_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

func TestResolvePlaceholders(t *testing.T) {
	t.Parallel()
	values := map[string]string{"customer.name": "Ada", "customer.email": "", "agent.name": "Bob", "conversation.number": "42"}
	cases := []struct{ body, want string }{
		{"Hi {{customer.name}}!", "Hi Ada!"},
		{"Hi {{ customer.name }}, I'm {{agent.name}}", "Hi Ada, I'm Bob"},
		{"Hi {{customer.name | there}}", "Hi Ada"},
		{"Mail: {{customer.email | unknown}}", "Mail: unknown"},
		{"Mail: {{customer.email}}.", "Mail: ."},
		{"Ref #{{conversation.number}}", "Ref #42"},
		{"{{customer.name|}}", "Ada"},
		{"no placeholders {here}", "no placeholders {here}"},
		{"{{nope}} stays", "{{nope}} stays"},
		{"{{customer.name", "{{customer.name"},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, models.ResolvePlaceholders(tc.body, values), tc.body)
	}
	// A value missing altogether (customer data hidden) takes the default.
	assert.Equal(t, "Hi there", models.ResolvePlaceholders("Hi {{customer.name | there}}", map[string]string{}))
}

func TestPlaceholderValuesHideCustomerData(t *testing.T) {
	t.Parallel()
	conv := &models.Conversation{ID: 7, Customer: &models.Customer{Name: "Ada", Email: "ada@example.com"}}
	support := &models.User{ID: 1, Name: "Sam", CustomerSupport: true}
	other := &models.User{ID: 2, Name: "Olly"}
	assert.Equal(t, map[string]string{"agent.name": "Sam", "conversation.number": "7", "customer.name": "Ada", "customer.email": "ada@example.com"},
		models.PlaceholderValues(support, conv))
	assert.Equal(t, map[string]string{"agent.name": "Olly", "conversation.number": "7"}, models.PlaceholderValues(other, conv))
}

func TestValidateLinkURL(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"", "https://example.com", "http://example.com/a?b=c#d", " https://x.io/path "} {
		_, err := models.ValidateLinkURL("url", ok)
		assert.NoError(t, err, ok)
	}
	for _, bad := range []string{"javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,x", "//example.com", "example.com",
		"https://", "ftp://example.com", "https://exa mple.com", "https://example.com/\"><script>", "https:example.com",
		"https://example.com/" + strings.Repeat("a", models.MaxLinkURL)} {
		_, err := models.ValidateLinkURL("url", bad)
		assert.Error(t, err, bad)
	}
}

func TestCannedValidation(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	agent := mkUser(t, db, "agent@example.com", models.RoleAgent)
	ok := models.CannedInput{Scope: models.CannedPersonal, Title: "Greeting", Body: "Hello {{customer.name | there}}"}
	with := func(f func(*models.CannedInput)) models.CannedInput { in := ok; f(&in); return in }
	cases := []struct {
		in          models.CannedInput
		field, code string
	}{
		{with(func(in *models.CannedInput) { in.Title = " " }), "title", "canned_title_required"},
		{with(func(in *models.CannedInput) { in.Title = strings.Repeat("t", 81) }), "title", "canned_title_too_long"},
		{with(func(in *models.CannedInput) { in.Body = "  \n" }), "body", "canned_body_required"},
		{with(func(in *models.CannedInput) { in.Body = strings.Repeat("b", models.MaxCannedBody+1) }), "body", "canned_body_too_long"},
		{with(func(in *models.CannedInput) { in.Body = "Hi {{customer.phone}}" }), "body", "canned_placeholder_unknown"},
		{with(func(in *models.CannedInput) { in.Body = "Hi {{ Customer.Name | x }}" }), "body", "canned_placeholder_unknown"},
		{with(func(in *models.CannedInput) { in.Shortcut = "two words" }), "shortcut", "canned_shortcut_invalid"},
		{with(func(in *models.CannedInput) { in.URL = "javascript:alert(1)" }), "url", "link_url_invalid"},
		{with(func(in *models.CannedInput) { in.URL = "not a url" }), "url", "link_url_invalid"},
		{with(func(in *models.CannedInput) { in.Scope = "world" }), "scope", "canned_scope_invalid"},
		{with(func(in *models.CannedInput) { in.Scope = models.CannedDesk }), "scope", "canned_scope_forbidden"},
		{with(func(in *models.CannedInput) { in.Scope = models.CannedTeam; in.TeamID = 999 }), "team_id", "canned_team_invalid"},
	}
	for _, tc := range cases {
		_, err := models.CreateCanned(ctx, db, agent, tc.in)
		assert.Equal(t, tc.code, fieldCode(t, err, tc.field), "%+v", tc.in)
	}
	// The unknown placeholder's message lists the valid ones.
	_, err := models.CreateCanned(ctx, db, agent, with(func(in *models.CannedInput) { in.Body = "{{x}}" }))
	var ve *models.ValidationError
	require.ErrorAs(t, err, &ve)
	fe, _ := ve.Field("body")
	assert.Equal(t, "{{customer.name}}, {{customer.email}}, {{agent.name}}, {{conversation.number}}", fe.Data["Valid"])
	var n int64
	require.NoError(t, db.Model(&models.CannedReply{}).Count(&n).Error)
	assert.Zero(t, n, "nothing stored")

	r, err := models.CreateCanned(ctx, db, agent, with(func(in *models.CannedInput) { in.Shortcut = "#Greet"; in.URL = "https://example.com/help" }))
	require.NoError(t, err)
	assert.Equal(t, "greet", r.Shortcut)
	assert.Equal(t, "https://example.com/help", r.URL)
}

// TestCannedAccess checks who sees and manages a reply of each scope, in
// both forms (FindCanned's Go predicates and ListCanned's SQL).
func TestCannedAccess(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	admin := mkUser(t, db, "admin@example.com", models.RoleAdmin)
	owner := mkUser(t, db, "owner@example.com", models.RoleAgent)
	member := mkUser(t, db, "member@example.com", models.RoleAgent)
	outsider := mkUser(t, db, "outsider@example.com", models.RoleAgent)
	team, err := models.CreateTeam(ctx, db, "Billing")
	require.NoError(t, err)
	require.NoError(t, models.AddTeamMember(ctx, db, team.ID, owner.ID))
	require.NoError(t, models.AddTeamMember(ctx, db, team.ID, member.ID))

	mk := func(u *models.User, in models.CannedInput) *models.CannedReply {
		in.Body = "Body of " + in.Title
		r, err := models.CreateCanned(ctx, db, u, in)
		require.NoError(t, err)
		return r
	}
	personal := mk(owner, models.CannedInput{Scope: models.CannedPersonal, Title: "Mine"})
	teamR := mk(member, models.CannedInput{Scope: models.CannedTeam, TeamID: team.ID, Title: "Ours"})
	desk := mk(admin, models.CannedInput{Scope: models.CannedDesk, Title: "Everyone's"})
	adminTeam := mk(admin, models.CannedInput{Scope: models.CannedTeam, TeamID: team.ID, Title: "Admin filed"})

	type want struct{ use, manage bool }
	cases := []struct {
		u    *models.User
		r    *models.CannedReply
		want want
	}{
		{owner, personal, want{true, true}},
		{member, personal, want{false, false}},
		{admin, personal, want{false, false}},
		{owner, teamR, want{true, true}},
		{member, teamR, want{true, true}},
		{outsider, teamR, want{false, false}},
		{admin, teamR, want{true, true}},
		{member, adminTeam, want{true, true}},
		{outsider, desk, want{true, false}},
		{member, desk, want{true, false}},
		{admin, desk, want{true, true}},
	}
	for _, tc := range cases {
		_, manage, err := models.FindCanned(ctx, db, tc.u, tc.r.ID)
		if !tc.want.use {
			assert.ErrorIs(t, err, models.ErrNotFound, "%s finds %s", tc.u.Email, tc.r.Title)
		} else {
			require.NoError(t, err)
			assert.Equal(t, tc.want.manage, manage, "%s manages %s", tc.u.Email, tc.r.Title)
		}
		list, err := models.ListCanned(ctx, db, tc.u, models.CannedQuery{})
		require.NoError(t, err)
		found := false
		for _, r := range list {
			found = found || r.ID == tc.r.ID
		}
		assert.Equal(t, tc.want.use, found, "%s lists %s", tc.u.Email, tc.r.Title)

		// Editing and deleting follow manage; what one cannot see is not found.
		_, err = models.UpdateCanned(ctx, db, tc.u, tc.r.ID, models.CannedInput{Scope: tc.r.Scope, TeamID: team.ID, Title: tc.r.Title, Body: "edited"})
		switch {
		case !tc.want.use:
			assert.ErrorIs(t, err, models.ErrNotFound)
		case !tc.want.manage:
			assert.ErrorIs(t, err, models.ErrForbidden)
		default:
			assert.NoError(t, err)
		}
	}
	// An outsider cannot file a reply under a team they are not in; an
	// admin can file under any team.
	_, err = models.CreateCanned(ctx, db, outsider, models.CannedInput{Scope: models.CannedTeam, TeamID: team.ID, Title: "x", Body: "y"})
	assert.Equal(t, "canned_team_invalid", fieldCode(t, err, "team_id"))
	// A member cannot turn a team reply into a desk-wide one.
	_, err = models.UpdateCanned(ctx, db, member, teamR.ID, models.CannedInput{Scope: models.CannedDesk, Title: "x", Body: "y"})
	assert.Equal(t, "canned_scope_forbidden", fieldCode(t, err, "scope"))

	assert.ErrorIs(t, models.DeleteCanned(ctx, db, member, desk.ID), models.ErrForbidden)
	assert.ErrorIs(t, models.DeleteCanned(ctx, db, member, personal.ID), models.ErrNotFound)
	assert.NoError(t, models.DeleteCanned(ctx, db, owner, personal.ID))
	_, _, err = models.FindCanned(ctx, db, owner, personal.ID)
	assert.True(t, errors.Is(err, models.ErrNotFound))
}

func TestUseCannedCountsAndOrders(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	support := factory.User(t, db, factory.UserOpts{Name: "Sam", CustomerSupport: true})
	plain := factory.User(t, db, factory.UserOpts{Name: "Olly"})
	cust, conv, _ := factory.Conversation(t, db, factory.ConversationOpts{})
	require.NoError(t, db.Model(cust).Update("name", "Ada").Error)

	mk := func(title, body string) *models.CannedReply {
		r, err := models.CreateCanned(ctx, db, support, models.CannedInput{Scope: models.CannedPersonal, Title: title, Body: body})
		require.NoError(t, err)
		return r
	}
	a := mk("Alpha", "Hello {{customer.name | there}}, {{agent.name}} here (#{{conversation.number}})")
	b := mk("Beta", "Bye")
	mk("Gamma", "See you")

	r, text, err := models.UseCanned(ctx, db, support, conv, b.ID)
	require.NoError(t, err)
	assert.Equal(t, "Bye", text)
	assert.EqualValues(t, 1, r.UsageCount)
	_, text, err = models.UseCanned(ctx, db, support, conv, a.ID)
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprintf("Hello Ada, Sam here (#%d)", conv.ID), text)
	_, _, err = models.UseCanned(ctx, db, support, conv, b.ID)
	require.NoError(t, err)

	list, err := models.ListCanned(ctx, db, support, models.CannedQuery{})
	require.NoError(t, err)
	var titles []string
	for _, r := range list {
		titles = append(titles, r.Title)
	}
	assert.Equal(t, []string{"Beta", "Alpha", "Gamma"}, titles, "most used first, then by title")

	// Search covers title, shortcut and body, ignoring case; LIKE wildcards are literal.
	for q, want := range map[string]int{"alp": 1, "SEE YOU": 1, "e": 3, "%": 0, "_": 0} {
		list, err := models.ListCanned(ctx, db, support, models.CannedQuery{Search: q})
		require.NoError(t, err)
		assert.Len(t, list, want, q)
	}

	// Someone who may not see the conversation resolves nothing, counts nothing.
	_, _, err = models.UseCanned(ctx, db, plain, conv, a.ID)
	assert.ErrorIs(t, err, models.ErrNotFound)
}

func TestPostMessageLinkURL(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	support := factory.User(t, db, factory.UserOpts{CustomerSupport: true})
	cust, conv, _ := factory.Conversation(t, db, factory.ConversationOpts{})
	post := func(actor models.Actor, kind, link string) (*models.Message, error) {
		return factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
			return models.PostMessageWithOpts(ctx, tx, actor, conv, kind, "See this", models.PostOpts{LinkURL: link})
		})
	}
	m, err := post(models.Actor{User: support}, models.MessageText, "https://example.com/guide")
	require.NoError(t, err)
	var stored models.Message
	require.NoError(t, db.Take(&stored, m.ID).Error)
	assert.Equal(t, "https://example.com/guide", stored.LinkURL)

	for _, tc := range []struct {
		actor            models.Actor
		kind, link, code string
	}{
		{models.Actor{User: support}, models.MessageText, "javascript:alert(1)", "link_url_invalid"},
		{models.Actor{User: support}, models.MessageNote, "https://example.com", "link_url_reply_only"},
		{models.Actor{Customer: cust}, models.MessageText, "https://example.com", "link_url_reply_only"},
	} {
		_, err := post(tc.actor, tc.kind, tc.link)
		assert.Equal(t, tc.code, fieldCode(t, err, "link_url"), "%+v", tc)
	}
}

// TestCannedAccessGoAndSQLAgree checks, on a generated population (admins
// and agents, teams with random members, replies of every scope), that
// CanUseCanned and its SQL form answer alike for every user and reply.
func TestCannedAccessGoAndSQLAgree(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(15, 1))
	var users []*models.User
	for i := range 7 {
		role := models.RoleAgent
		if i%3 == 0 {
			role = models.RoleAdmin
		}
		users = append(users, factory.User(t, db, factory.UserOpts{Role: role, CustomerSupport: i%2 == 0}))
	}
	var teams []int64
	member := map[[2]int64]bool{}
	for i := range 3 {
		team, err := models.CreateTeam(ctx, db, fmt.Sprint("team ", i))
		require.NoError(t, err)
		teams = append(teams, team.ID)
		for _, u := range users {
			if rng.IntN(2) == 0 {
				require.NoError(t, models.AddTeamMember(ctx, db, team.ID, u.ID))
				member[[2]int64{team.ID, u.ID}] = true
			}
		}
	}
	var replies []models.CannedReply
	for i := range 30 {
		r := models.CannedReply{Title: fmt.Sprint("r", i), Body: "b"}
		switch rng.IntN(3) {
		case 0:
			r.Scope, r.OwnerID = models.CannedPersonal, &users[rng.IntN(len(users))].ID
		case 1:
			r.Scope, r.TeamID = models.CannedTeam, &teams[rng.IntN(len(teams))]
		default:
			r.Scope = models.CannedDesk
		}
		require.NoError(t, db.Select("Scope", "OwnerID", "TeamID", "Title", "Body").Create(&r).Error)
		replies = append(replies, r)
	}
	for _, u := range users {
		var ids []int64
		require.NoError(t, db.Raw("SELECT r.id FROM canned_replies r WHERE "+models.UserSeesCannedSQL("r")+" ORDER BY r.id",
			map[string]any{"me": u.ID, "admin": u.IsAdmin()}).Scan(&ids).Error)
		var want []int64
		for i := range replies {
			r := &replies[i]
			if models.CanUseCanned(u, r, r.TeamID != nil && member[[2]int64{*r.TeamID, u.ID}]) {
				want = append(want, r.ID)
			}
		}
		assert.Equal(t, want, ids, "user %d (%s)", u.ID, u.Role)
	}
}
