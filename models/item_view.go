package models

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
)

// ItemActivity is one entry of an item's history.
type ItemActivity struct {
	ID        int64
	ItemID    int64
	ActorID   *int64
	ActorName string
	Field     string
	OldValue  string
	NewValue  string
	CreatedAt time.Time
	// CustomerHidden is set on a "linked"/"unlinked" entry whose customer's
	// name was withheld from a viewer without the support flag
	// (ItemActivity.Redact): the entry still says a customer's conversation
	// was linked, without naming them.
	CustomerHidden bool `gorm:"-"`
}

// Redact withholds customer data from u in an entry of an item's history:
// "linked"/"unlinked" entries name the customer of the conversation (a
// teammate chat has no name there). Tasks are for all staff, so their
// history reaches agents who may not see customers.
func (a *ItemActivity) Redact(u *User) {
	if CanSeeCustomerData(u) || (a.Field != "linked" && a.Field != "unlinked") {
		return
	}
	if a.OldValue != "" || a.NewValue != "" {
		a.OldValue, a.NewValue, a.CustomerHidden = "", "", true
	}
}

// ItemView is everything an item's page shows.
type ItemView struct {
	Item          *Item
	Activities    []ItemActivity
	Conversations []InboxRow
	Following     bool
	// Teams are where the item may be sent (who it may be assigned to
	// loads with the menu: ItemAssignees).
	Teams []TeamOption
}

// ItemActivityLimit is how much history an item page shows (newest).
const ItemActivityLimit = 200

// OpenItem loads the item page of kind/number for u.
func OpenItem(ctx context.Context, db *gorm.DB, u *User, kind string, number int64) (*ItemView, error) {
	it, err := FindItem(ctx, db, u, kind, number)
	if err != nil {
		return nil, err
	}
	v := &ItemView{Item: it}
	db = db.WithContext(ctx)
	if err := db.Raw(`SELECT * FROM (SELECT * FROM item_activities WHERE item_id = ? ORDER BY id DESC LIMIT ?) a ORDER BY id`,
		it.ID, ItemActivityLimit).Scan(&v.Activities).Error; err != nil {
		return nil, fmt.Errorf("item activities: %w", err)
	}
	for i := range v.Activities {
		v.Activities[i].Redact(u)
	}
	// Only the conversations u may open.
	if err := db.Raw(rowSelect+` WHERE c.id IN (SELECT conversation_id FROM conversation_items WHERE item_id = @item) AND `+visibleToUser+` ORDER BY c.last_message_at DESC, c.id DESC LIMIT 100`,
		map[string]any{"me": u.ID, "support": CanSeeCustomerData(u), "item": it.ID}).Scan(&v.Conversations).Error; err != nil {
		return nil, fmt.Errorf("item conversations: %w", err)
	}
	if err := db.Raw("SELECT EXISTS (SELECT 1 FROM item_followers WHERE item_id = ? AND user_id = ?)", it.ID, u.ID).Scan(&v.Following).Error; err != nil {
		return nil, fmt.Errorf("item following: %w", err)
	}
	if v.Teams, err = TeamOptions(ctx, db); err != nil {
		return nil, err
	}
	return v, nil
}

// ItemAssignees lists who items of kind may be assigned to, by name:
// support agents for a ticket, any active user for a task.
func ItemAssignees(ctx context.Context, db *gorm.DB, kind string) ([]User, error) {
	var us []User
	var err error
	if kind == ItemTicket {
		us, err = SupportAgents(ctx, db)
	} else {
		us, err = ActiveUsers(ctx, db)
	}
	if err != nil {
		return nil, fmt.Errorf("item assignees: %w", err)
	}
	return us, nil
}

// ItemPanel is an item as a side panel or its page's details show it.
type ItemPanel struct {
	Item      *Item
	Following bool
	// Teams are where the item may be sent; who it may be assigned to
	// loads with the menu (ItemAssignees).
	Teams []TeamOption
	// Key tells the element ids of one item's details apart where a
	// conversation's panel shows several (ItemPanelKey); empty on the item
	// page, whose ids stay plain.
	Key string
}

// ItemPanelKey is the id suffix of it's details in a conversation's panel
// ("-t-12"): unique among the panel's items, and safe in an element id.
func ItemPanelKey(it *Item) string {
	return "-" + strings.ToLower(it.Ref())
}

// ConversationItems returns the panels of conv's items that u may see, in
// the order they were linked: none when conv has no item or u may see none
// of them (an agent without the support flag sees no ticket). One query for
// the items (with the viewer's follow), and one for the teams if there are
// any and the caller has not read them (teams nil; the conversation page
// has, with their service levels).
func ConversationItems(ctx context.Context, db *gorm.DB, u *User, conv *Conversation, teams []TeamOption) ([]ItemPanel, error) {
	var rows []conversationItemRow
	if err := pipelined(ctx, db, conversationItemsRead(u, conv, &rows)); err != nil {
		return nil, fmt.Errorf("conversation items: %w", err)
	}
	panels := itemPanels(u, rows)
	if err := withTeams(ctx, db, panels, teams); err != nil {
		return nil, err
	}
	return panels, nil
}

// withTeams gives each panel the teams its item may be sent to: teams, or
// read here if the caller has not (nil) and there is a panel.
func withTeams(ctx context.Context, db *gorm.DB, panels []ItemPanel, teams []TeamOption) error {
	if len(panels) == 0 {
		return nil
	}
	if teams == nil {
		var err error
		if teams, err = TeamOptions(ctx, db); err != nil {
			return err
		}
	}
	for i := range panels {
		panels[i].Teams = teams
	}
	return nil
}

// conversationItemRow is an item as ConversationItems reads it.
type conversationItemRow struct {
	Item
	Following    bool
	AssigneeName string
}

// conversationItemsRead is ConversationItems' statement.
func conversationItemsRead(u *User, conv *Conversation, dst *[]conversationItemRow) pipelinedRead {
	args := userArgs(u)
	args["conv"] = conv.ID
	return readNamed(dst, `
		SELECT i.*, EXISTS (SELECT 1 FROM item_followers f WHERE f.item_id = i.id AND f.user_id = @me) AS following,
		       COALESCE((SELECT name FROM users WHERE id = i.assignee_id), '') AS assignee_name
		FROM conversation_items l JOIN items i ON i.id = l.item_id
		WHERE l.conversation_id = @conv AND `+userSeesItemSQL("i")+`
		ORDER BY l.linked_at, l.item_id`, args)
}

// itemPanels are the panels of the rows u may see, without their teams.
func itemPanels(u *User, rows []conversationItemRow) []ItemPanel {
	if len(rows) == 0 {
		return nil
	}
	panels := make([]ItemPanel, 0, len(rows))
	for i := range rows {
		it := rows[i].Item
		if !CanSeeItems(u, it.Kind) {
			continue
		}
		if it.AssigneeID != nil {
			it.Assignee = &User{ID: *it.AssigneeID, Name: rows[i].AssigneeName}
		}
		panels = append(panels, ItemPanel{Item: &it, Following: rows[i].Following, Key: ItemPanelKey(&it)})
	}
	return panels
}

// ItemDraft is the new-item form filled in from a conversation: the
// customer's first message as title, the latest messages as description,
// the conversation's assignee and team.
type ItemDraft struct {
	Title, Description, Assignee, Team string
}

// DraftFromConversation prepares a new item from conv (already visible to
// the asker). Notes and status lines are left out of the excerpt.
func DraftFromConversation(ctx context.Context, db *gorm.DB, conv *Conversation) (ItemDraft, error) {
	var d ItemDraft
	db = db.WithContext(ctx)
	var first string
	if conv.Kind == KindCustomer {
		if err := db.Raw(`SELECT body FROM messages WHERE conversation_id = ? AND kind = 'message' AND author_type = 'customer' ORDER BY id LIMIT 1`,
			conv.ID).Scan(&first).Error; err != nil {
			return d, fmt.Errorf("draft title: %w", err)
		}
	}
	if first == "" {
		if err := db.Raw(`SELECT body FROM messages WHERE conversation_id = ? AND kind = 'message' ORDER BY id LIMIT 1`, conv.ID).Scan(&first).Error; err != nil {
			return d, fmt.Errorf("draft title: %w", err)
		}
	}
	d.Title = strings.Join(strings.Fields(first), " ")
	if utf8.RuneCountInString(d.Title) > MaxItemTitle {
		d.Title = strings.TrimSpace(string([]rune(d.Title)[:MaxItemTitle-1])) + "…"
	}
	var ms []Message
	if err := db.Joins("AuthorUser").Joins("AuthorCustomer").
		Where("messages.conversation_id = ? AND messages.kind = 'message'", conv.ID).
		Order("messages.id DESC").Limit(10).Find(&ms).Error; err != nil {
		return d, fmt.Errorf("draft excerpt: %w", err)
	}
	var b strings.Builder
	for i := len(ms) - 1; i >= 0; i-- {
		m := &ms[i]
		name := "?"
		switch {
		case m.AuthorUser != nil:
			name = m.AuthorUser.Name
		case m.AuthorCustomer != nil:
			name = m.AuthorCustomer.DisplayName()
		}
		fmt.Fprintf(&b, "%s (%s UTC): %s\n\n", name, m.CreatedAt.UTC().Format("2006-01-02 15:04"), m.Body)
	}
	d.Description = clip(strings.TrimSpace(b.String()), MaxItemDescription)
	if conv.AssigneeID != nil {
		d.Assignee = strconv.FormatInt(*conv.AssigneeID, 10)
	}
	if conv.TeamID != nil {
		d.Team = strconv.FormatInt(*conv.TeamID, 10)
	}
	return d, nil
}

// ItemPanelFor returns the details of kind/number as panels show them.
func ItemPanelFor(ctx context.Context, db *gorm.DB, u *User, kind string, number int64) (*ItemPanel, error) {
	it, err := FindItem(ctx, db, u, kind, number)
	if err != nil {
		return nil, err
	}
	p := &ItemPanel{Item: it}
	if err := db.WithContext(ctx).Raw("SELECT EXISTS (SELECT 1 FROM item_followers WHERE item_id = ? AND user_id = ?)", it.ID, u.ID).
		Scan(&p.Following).Error; err != nil {
		return nil, fmt.Errorf("item following: %w", err)
	}
	if p.Teams, err = TeamOptions(ctx, db); err != nil {
		return nil, err
	}
	return p, nil
}

// OpenItemByID is OpenItem for an item known by id (live updates).
func OpenItemByID(ctx context.Context, db *gorm.DB, u *User, id int64) (*ItemView, error) {
	var key struct {
		Kind   string
		Number int64
	}
	if err := db.WithContext(ctx).Raw("SELECT kind, number FROM items WHERE id = ?", id).Scan(&key).Error; err != nil {
		return nil, fmt.Errorf("item %d: %w", id, err)
	}
	if key.Number == 0 {
		return nil, ErrNotFound
	}
	return OpenItem(ctx, db, u, key.Kind, key.Number)
}
