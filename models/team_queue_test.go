package models_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

// teamWith makes a team of the given members.
func teamWith(t *testing.T, db *gorm.DB, name string, members ...*models.User) *models.Team {
	t.Helper()
	ctx := context.Background()
	team, err := models.CreateTeam(ctx, db, name)
	require.NoError(t, err)
	for _, m := range members {
		require.NoError(t, models.AddTeamMember(ctx, db, team.ID, m.ID))
	}
	return team
}

func setAvailability(t *testing.T, db *gorm.DB, u *models.User, a string) {
	t.Helper()
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.SetAvailability(context.Background(), tx, u, a) }))
}

func setCapacity(t *testing.T, db *gorm.DB, admin, u *models.User, n int) {
	t.Helper()
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.SetCapacity(context.Background(), tx, admin, u.ID, n) }))
}

func addRule(db *gorm.DB, admin *models.User, in models.RoutingRuleInput) (*models.RoutingRule, error) {
	return factory.Write1(db, func(tx models.Tx) (*models.RoutingRule, error) {
		return models.CreateRoutingRule(context.Background(), tx, admin, in)
	})
}

// reload reads a conversation's team and assignee as stored.
func reload(t *testing.T, db *gorm.DB, conv *models.Conversation) *models.Conversation {
	t.Helper()
	var c models.Conversation
	require.NoError(t, db.Omit("Customer", "Assignee").Take(&c, conv.ID).Error)
	return &c
}

func countRules(t *testing.T, db *gorm.DB) int64 {
	t.Helper()
	var n int64
	require.NoError(t, db.Table("routing_rules").Count(&n).Error)
	return n
}

// Rules that can never match, or name no team, are refused with the field
// that is wrong and store nothing; so is a rule an earlier one catches
// entirely, and a move that would make one unreachable.
func TestRoutingRulesRefuseWhatNeverMatches(t *testing.T) {
	t.Parallel()
	db := setup(t)
	admin := factory.User(t, db, factory.UserOpts{Role: models.RoleAdmin, CustomerSupport: true})
	agent := factory.User(t, db, factory.UserOpts{CustomerSupport: true})
	billing := teamWith(t, db, "Billing")
	sales := teamWith(t, db, "Sales")

	for _, tc := range []struct {
		name, field, code string
		in                models.RoutingRuleInput
	}{
		{"no team", "team_id", "routing_team_unknown", models.RoutingRuleInput{URLMatch: "contains", URLValue: "x"}},
		{"unknown team", "team_id", "routing_team_unknown", models.RoutingRuleInput{TeamID: 999999, URLMatch: "contains", URLValue: "x"}},
		{"value without a test", "url_match", "routing_url_match_required", models.RoutingRuleInput{TeamID: billing.ID, URLValue: "x"}},
		{"test without a value", "url_value", "routing_url_value_required", models.RoutingRuleInput{TeamID: billing.ID, URLMatch: "prefix"}},
		{"unknown test", "url_match", "routing_url_match_invalid", models.RoutingRuleInput{TeamID: billing.ID, URLMatch: "regex", URLValue: "x"}},
		{"prefix no address starts with", "url_value", "routing_prefix_never_matches", models.RoutingRuleInput{TeamID: billing.ID, URLMatch: "prefix", URLValue: "pricing"}},
		{"space in an address", "url_value", "routing_url_never_matches", models.RoutingRuleInput{TeamID: billing.ID, URLMatch: "contains", URLValue: "my page"}},
		{"not a language", "language", "routing_language_never_matches", models.RoutingRuleInput{TeamID: billing.ID, Language: "french!"}},
	} {
		_, err := addRule(db, admin, tc.in)
		assert.Equal(t, tc.code, fieldCode(t, err, tc.field), tc.name)
	}
	_, err := addRule(db, agent, models.RoutingRuleInput{TeamID: billing.ID, Language: "fr"})
	assert.ErrorIs(t, err, models.ErrForbidden, "agents do not manage rules")
	assert.Zero(t, countRules(t, db), "nothing stored")

	// /pricing catches /pricing/eu: the second rule could never match.
	_, err = addRule(db, admin, models.RoutingRuleInput{TeamID: billing.ID, URLMatch: "prefix", URLValue: "/pricing"})
	require.NoError(t, err)
	_, err = addRule(db, admin, models.RoutingRuleInput{TeamID: sales.ID, URLMatch: "prefix", URLValue: "https://shop.example/pricing/eu", Language: "fr"})
	assert.Equal(t, "routing_rule_shadowed", fieldCode(t, err, "rule"))
	fr, err := addRule(db, admin, models.RoutingRuleInput{TeamID: sales.ID, Language: "fr"})
	require.NoError(t, err)
	_, err = addRule(db, admin, models.RoutingRuleInput{TeamID: billing.ID, URLMatch: "contains", URLValue: "checkout", Language: "fr-CA"})
	assert.Equal(t, "routing_rule_shadowed", fieldCode(t, err, "rule"), "fr catches fr-CA")
	catchAll, err := addRule(db, admin, models.RoutingRuleInput{TeamID: billing.ID})
	require.NoError(t, err, "a rule without conditions catches the rest")
	_, err = addRule(db, admin, models.RoutingRuleInput{TeamID: sales.ID, Language: "de"})
	assert.Equal(t, "routing_rule_shadowed", fieldCode(t, err, "rule"), "nothing comes after a catch-all")
	assert.EqualValues(t, 3, countRules(t, db))

	// Moving the catch-all above the French rule would hide it: refused.
	err = factory.Write(db, func(tx models.Tx) error {
		return models.MoveRoutingRule(context.Background(), tx, admin, catchAll.ID, true)
	})
	assert.Equal(t, "routing_rule_shadowed", fieldCode(t, err, "rule"))
	rs, err := models.ListRoutingRules(context.Background(), db)
	require.NoError(t, err)
	require.Len(t, rs, 3)
	assert.Equal(t, catchAll.ID, rs[2].ID, "nothing moved")

	// The French rule may go first; the team's deletion takes its rules.
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.MoveRoutingRule(context.Background(), tx, admin, fr.ID, true) }))
	rs, err = models.ListRoutingRules(context.Background(), db)
	require.NoError(t, err)
	assert.Equal(t, []int64{fr.ID}, []int64{rs[0].ID})
	require.NoError(t, models.DeleteTeam(context.Background(), db, sales.ID))
	assert.EqualValues(t, 2, countRules(t, db))
	_, err = addRule(db, admin, models.RoutingRuleInput{TeamID: sales.ID, Language: "es"})
	assert.Equal(t, "routing_team_unknown", fieldCode(t, err, "team_id"), "a deleted team")
}

// New conversations go to the first matching rule's team; with nobody
// online they wait unassigned in its queue.
func TestRoutingSendsNewConversationsToTeams(t *testing.T) {
	t.Parallel()
	db := setup(t)
	admin := factory.User(t, db, factory.UserOpts{Role: models.RoleAdmin, CustomerSupport: true})
	billing := teamWith(t, db, "Billing")
	french := teamWith(t, db, "French")
	for _, in := range []models.RoutingRuleInput{
		{TeamID: billing.ID, URLMatch: "contains", URLValue: "/Invoice"},
		{TeamID: billing.ID, URLMatch: "prefix", URLValue: "/pricing"},
		{TeamID: french.ID, Language: "fr"},
	} {
		_, err := addRule(db, admin, in)
		require.NoError(t, err)
	}
	for _, tc := range []struct {
		page, lang string
		team       *models.Team
	}{
		{"https://shop.example/account/invoices/3", "en-US", billing},
		{"https://shop.example/pricing?plan=pro", "fr-FR", billing}, // first match wins
		{"https://shop.example/help/pricing", "fr-CA", french},      // a path prefix, not anywhere
		{"https://shop.example/", "fr", french},
		{"https://shop.example/", "en", nil},
		{"", "", nil},
	} {
		_, conv, _ := factory.Conversation(t, db, factory.ConversationOpts{Session: models.SessionInfo{PageURL: tc.page, Language: tc.lang}})
		got := reload(t, db, conv)
		if tc.team == nil {
			assert.Nil(t, got.TeamID, tc.page)
			continue
		}
		require.NotNil(t, got.TeamID, tc.page)
		assert.Equal(t, tc.team.ID, *got.TeamID, tc.page+" "+tc.lang)
		assert.Nil(t, got.AssigneeID, "nobody online: it waits in the queue")
		lines := systemLines(t, db, conv)
		require.Len(t, lines, 1)
		assert.Equal(t, models.SysRouted, lines[0].Event)
		assert.Equal(t, tc.team.Name, lines[0].EventData["team"])
	}
}

// Auto-assign goes round the team's online agents below their capacity;
// away agents are skipped; what waits is assigned when an agent comes
// online, closes a conversation, or an admin raises a capacity.
func TestRoundRobinWithinCapacity(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	admin := factory.User(t, db, factory.UserOpts{Role: models.RoleAdmin, CustomerSupport: true})
	ana := factory.User(t, db, factory.UserOpts{Name: "Ana", CustomerSupport: true})
	bo := factory.User(t, db, factory.UserOpts{Name: "Bo", CustomerSupport: true})
	cy := factory.User(t, db, factory.UserOpts{Name: "Cy", CustomerSupport: true})
	plain := factory.User(t, db, factory.UserOpts{Name: "Pat"}) // no customer data rights
	team := teamWith(t, db, "Support", ana, bo, cy, plain)
	_, err := addRule(db, admin, models.RoutingRuleInput{TeamID: team.ID})
	require.NoError(t, err)
	for _, u := range []*models.User{ana, bo, plain} {
		setAvailability(t, db, u, models.AvailabilityOnline)
	}
	setCapacity(t, db, admin, ana, 1)
	setCapacity(t, db, admin, bo, 2)

	start := func() *models.Conversation {
		_, conv, _ := factory.Conversation(t, db, factory.ConversationOpts{})
		return reload(t, db, conv)
	}
	assignee := func(c *models.Conversation) int64 {
		if c.AssigneeID == nil {
			return 0
		}
		return *c.AssigneeID
	}
	// Ana, Bo, Bo (Ana is full), then nobody: Cy is away, Bo is full.
	c1, c2, c3, c4 := start(), start(), start(), start()
	assert.Equal(t, []int64{ana.ID, bo.ID, bo.ID, 0}, []int64{assignee(c1), assignee(c2), assignee(c3), assignee(c4)})
	lines := systemLines(t, db, c1)
	require.Len(t, lines, 2)
	assert.Equal(t, models.SysAutoAssigned, lines[1].Event)
	assert.Equal(t, "Ana", lines[1].EventData["to"])

	// Cy comes online: the waiting conversation is theirs.
	setAvailability(t, db, cy, models.AvailabilityOnline)
	assert.Equal(t, cy.ID, assignee(reload(t, db, c4)))

	// Away agents take nothing; closing frees a place for the next one.
	setAvailability(t, db, cy, models.AvailabilityAway)
	c5 := start()
	assert.Zero(t, assignee(c5), "Ana and Bo full, Cy away")
	require.NoError(t, factory.Write(db, func(tx models.Tx) error { return models.SetStatus(ctx, tx, ana, c1, models.StatusClosed) }))
	assert.Equal(t, ana.ID, assignee(reload(t, db, c5)), "Ana closed one: the waiting one is hers")
	c6 := start()
	assert.Zero(t, assignee(c6), "full again")
	// A raised capacity takes what waits.
	setCapacity(t, db, admin, bo, 3)
	assert.Equal(t, bo.ID, assignee(reload(t, db, c6)))

	// Bad capacities.
	for _, tc := range []struct{ in, code string }{{"-1", "capacity_negative"}, {"two", "capacity_invalid"}, {"1.5", "capacity_invalid"}, {"100000", "capacity_too_large"}} {
		_, err := models.ParseCapacity(tc.in)
		assert.Equal(t, tc.code, fieldCode(t, err, "capacity"), tc.in)
	}
	n, err := models.ParseCapacity(" ")
	require.NoError(t, err)
	assert.Zero(t, n, "empty is no limit")
	err = factory.Write(db, func(tx models.Tx) error { return models.SetCapacity(ctx, tx, ana, bo.ID, 5) })
	assert.ErrorIs(t, err, models.ErrForbidden)
	err = factory.Write(db, func(tx models.Tx) error { return models.SetAvailability(ctx, tx, ana, "busy") })
	assert.Equal(t, "availability_invalid", fieldCode(t, err, "availability"))
}

// Conversations started at the same moment never put an agent past their
// capacity, within a team (the cursor's row lock) or across two teams
// sharing the agent (the agent's load lock).
func TestAutoAssignNeverExceedsCapacityConcurrently(t *testing.T) {
	t.Parallel()
	db := setup(t)
	admin := factory.User(t, db, factory.UserOpts{Role: models.RoleAdmin, CustomerSupport: true})
	ana := factory.User(t, db, factory.UserOpts{Name: "Ana", CustomerSupport: true})
	bo := factory.User(t, db, factory.UserOpts{Name: "Bo", CustomerSupport: true})
	en := teamWith(t, db, "English", ana, bo)
	fr := teamWith(t, db, "French", ana)
	_, err := addRule(db, admin, models.RoutingRuleInput{TeamID: fr.ID, Language: "fr"})
	require.NoError(t, err)
	_, err = addRule(db, admin, models.RoutingRuleInput{TeamID: en.ID})
	require.NoError(t, err)
	setAvailability(t, db, ana, models.AvailabilityOnline)
	setAvailability(t, db, bo, models.AvailabilityOnline)
	setCapacity(t, db, admin, ana, 1)
	setCapacity(t, db, admin, bo, 1)

	for round := range 5 {
		const n = 8
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			lang := "en"
			if i%2 == 0 {
				lang = "fr"
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, cust := factory.Customer(t, db)
				_, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
					return models.StartCustomerConversation(context.Background(), tx, cust, "Hi", models.SessionInfo{Language: lang})
				})
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		var loads []struct {
			AssigneeID int64
			N          int
		}
		require.NoError(t, db.Raw(`SELECT assignee_id, count(*) AS n FROM conversations WHERE status = 'open' AND assignee_id IS NOT NULL
			GROUP BY assignee_id`).Scan(&loads).Error)
		for _, l := range loads {
			assert.Equal(t, 1, l.N, "round %d: agent %d over capacity", round, l.AssigneeID)
		}
		// Free both for the next round.
		require.NoError(t, db.Exec("UPDATE conversations SET status = 'closed', closed_at = now() WHERE assignee_id IS NOT NULL").Error)
	}
}

// A transfer to a team puts the conversation in its queue and auto-assigns
// it; to an agent it assigns them. The note is an internal note, the
// status line is staff-only, the receiver is told. Bad input stores nothing.
func TestTransfer(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	ana := factory.User(t, db, factory.UserOpts{Name: "Ana", CustomerSupport: true})
	bo := factory.User(t, db, factory.UserOpts{Name: "Bo", CustomerSupport: true})
	cy := factory.User(t, db, factory.UserOpts{Name: "Cy", CustomerSupport: true})
	plain := factory.User(t, db, factory.UserOpts{Name: "Pat"})
	billing := teamWith(t, db, "Billing", bo, cy)
	_, conv, _ := factory.Conversation(t, db, factory.ConversationOpts{})
	transfer := func(by *models.User, in models.TransferInput) error {
		return factory.Write(db, func(tx models.Tx) error { return models.Transfer(ctx, tx, by, conv, in) })
	}
	count := func() (n int64) {
		require.NoError(t, db.Model(&models.Message{}).Where("conversation_id = ?", conv.ID).Count(&n).Error)
		return n
	}
	before := count()
	for _, tc := range []struct {
		name, field, code string
		by                *models.User
		in                models.TransferInput
	}{
		{"nowhere", "to", "transfer_target_required", ana, models.TransferInput{Note: "x"}},
		{"both", "to", "transfer_target_required", ana, models.TransferInput{TeamID: billing.ID, AssigneeID: bo.ID}},
		{"unknown team", "to", "transfer_team_unknown", ana, models.TransferInput{TeamID: 999999}},
		{"no support rights", "to", "assignee_invalid", ana, models.TransferInput{AssigneeID: plain.ID}},
		{"by a non-agent", "to", "transfer_invalid", plain, models.TransferInput{AssigneeID: bo.ID}},
		{"note too long", "note", "message_too_long", ana, models.TransferInput{AssigneeID: bo.ID}},
	} {
		if tc.code == "message_too_long" {
			tc.in.Note = stringsRepeat("a", models.MaxMessageLen+1)
		}
		assert.Equal(t, tc.code, fieldCode(t, transfer(tc.by, tc.in), tc.field), tc.name)
	}
	assert.Equal(t, before, count(), "nothing stored")

	// To the Billing team: Cy is online, Bo away: Cy gets it.
	setAvailability(t, db, cy, models.AvailabilityOnline)
	require.NoError(t, transfer(ana, models.TransferInput{TeamID: billing.ID, Note: "Refund question, see order 42"}))
	got := reload(t, db, conv)
	require.NotNil(t, got.TeamID)
	assert.Equal(t, billing.ID, *got.TeamID)
	require.NotNil(t, got.AssigneeID)
	assert.Equal(t, cy.ID, *got.AssigneeID)
	var ms []models.Message
	require.NoError(t, db.Where("conversation_id = ? AND id > (SELECT min(id) FROM messages WHERE conversation_id = ?)", conv.ID, conv.ID).Order("id").Find(&ms).Error)
	require.Len(t, ms, 3)
	assert.Equal(t, models.MessageNote, ms[0].Kind, "the note is internal")
	assert.Equal(t, "Refund question, see order 42", ms[0].Body)
	assert.Equal(t, models.SysTransferred, ms[1].Event)
	assert.Equal(t, "Billing", ms[1].EventData["team"])
	assert.Equal(t, models.SysAutoAssigned, ms[2].Event)
	assert.Equal(t, "Cy", ms[2].EventData["to"])
	page, err := models.ListMessagesBefore(ctx, db, conv, true, 0, 50)
	require.NoError(t, err)
	for _, m := range page.Messages {
		assert.NotEqual(t, models.MessageNote, m.Kind, "the customer never sees the note")
		assert.NotContains(t, []string{models.SysTransferred, models.SysAutoAssigned, models.SysRouted}, m.Event, "nor the team's lines")
	}
	// Cy is told (an automatic assignment).
	ev := lastConvEvent(t, db, conv, func(d models.ConversationEvent) bool { return d.Assigned })
	a, err := models.AudienceOf(ctx, db, ev)
	require.NoError(t, err)
	require.NotNil(t, a)
	assert.Equal(t, models.ReasonAssigned, a.Reason)
	assert.Equal(t, []int64{cy.ID}, a.UserIDs)

	// To Bo directly; again to Bo is refused.
	require.NoError(t, transfer(cy, models.TransferInput{AssigneeID: bo.ID}))
	got = reload(t, db, conv)
	assert.Equal(t, bo.ID, *got.AssigneeID)
	assert.Equal(t, billing.ID, *got.TeamID, "the team stays")
	assert.Equal(t, "transfer_same_agent", fieldCode(t, transfer(cy, models.TransferInput{AssigneeID: bo.ID}), "to"))

	// Nobody available: the team's agents hear it waits in their queue.
	setAvailability(t, db, cy, models.AvailabilityAway)
	require.NoError(t, transfer(ana, models.TransferInput{TeamID: billing.ID}))
	got = reload(t, db, conv)
	assert.Nil(t, got.AssigneeID)
	ev = lastConvEvent(t, db, conv, func(d models.ConversationEvent) bool { return d.Transferred })
	a, err = models.AudienceOf(ctx, db, ev)
	require.NoError(t, err)
	require.NotNil(t, a)
	assert.Equal(t, models.ReasonTeamQueue, a.Reason)
	assert.Equal(t, []int64{bo.ID, cy.ID}, a.UserIDs)
}

func stringsRepeat(s string, n int) string {
	b := make([]byte, 0, n*len(s))
	for range n {
		b = append(b, s...)
	}
	return string(b)
}

// lastConvEvent is the newest conversation event of conv that match accepts.
func lastConvEvent(t *testing.T, db *gorm.DB, conv *models.Conversation, match func(models.ConversationEvent) bool) models.Event {
	t.Helper()
	var evs []models.Event
	require.NoError(t, db.Where("conversation_id = ? AND kind = ?", conv.ID, models.EventConversation).Order("id DESC").Find(&evs).Error)
	for _, e := range evs {
		if d, ok := e.Data.(models.ConversationEvent); ok && match(d) {
			return e
		}
	}
	t.Fatal(errors.New("no such event"))
	return models.Event{}
}

// What a rule matches, and when an earlier rule leaves a later one nothing
// (without a database).
func TestRoutingRuleMatchesAndCovers(t *testing.T) {
	t.Parallel()
	conv := func(page, lang string) *models.Conversation {
		return &models.Conversation{PageURL: page, Language: lang}
	}
	contains := func(v string) models.RoutingRule {
		return models.RoutingRule{URLMatch: models.URLContains, URLValue: v}
	}
	prefix := func(v string) models.RoutingRule { return models.RoutingRule{URLMatch: models.URLPrefix, URLValue: v} }
	lang := func(l string) models.RoutingRule { return models.RoutingRule{Language: l} }
	for _, tc := range []struct {
		rule models.RoutingRule
		conv *models.Conversation
		want bool
	}{
		{contains("CHECKOUT"), conv("https://shop.example/checkout?x=1", ""), true},
		{contains("checkout"), conv("", ""), false},
		{prefix("/pricing"), conv("https://shop.example/pricing/eu", ""), true},
		{prefix("/pricing"), conv("https://shop.example/en/pricing", ""), false},
		{prefix("/pricing"), conv("not a url", ""), false},
		{prefix("https://shop.example/pricing"), conv("https://shop.example/pricing?a", ""), true},
		{prefix("https://shop.example/pricing"), conv("http://shop.example/pricing", ""), false},
		{lang("pt"), conv("", "pt-BR"), true},
		{lang("pt-BR"), conv("", "pt"), false},
		{lang("pt"), conv("", "ptx"), false},
		{models.RoutingRule{}, conv("", ""), true},
	} {
		assert.Equal(t, tc.want, tc.rule.Matches(tc.conv), "%+v on %+v", tc.rule, tc.conv)
	}
	for _, tc := range []struct {
		a, b models.RoutingRule
		want bool
	}{
		{models.RoutingRule{}, lang("fr"), true},
		{lang("fr"), models.RoutingRule{}, false},
		{lang("fr"), lang("fr-CA"), true},
		{lang("fr-CA"), lang("fr"), false},
		{contains("help"), contains("/help/billing"), true},
		{contains("help"), prefix("/help"), true},
		{prefix("/help"), contains("/help"), false},
		{prefix("/help"), prefix("/help/billing"), true},
		{prefix("/help"), prefix("https://shop.example/help/x"), true},
		{prefix("/help"), prefix("https://shop.example"), false},
		{prefix("https://a.example/"), prefix("/x"), false},
		{contains("help"), models.RoutingRule{URLMatch: models.URLContains, URLValue: "help", Language: "fr"}, true},
		{models.RoutingRule{URLMatch: models.URLContains, URLValue: "help", Language: "fr"}, contains("help"), false},
	} {
		assert.Equal(t, tc.want, tc.a.Covers(&tc.b), "%+v covers %+v", tc.a, tc.b)
	}
}
