package models

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Canned reply scopes: who sees a reply (CanUseCanned) and who manages it
// (CanManageCanned).
const (
	CannedPersonal = "personal" // its owner only
	CannedTeam     = "team"     // the team's members; admins manage every team's
	CannedDesk     = "desk"     // everyone uses them; admins manage them
)

// Limits of a canned reply's fields, in characters.
const (
	MaxCannedTitle    = 80
	MaxCannedShortcut = 30
	MaxCannedBody     = 5000
	MaxLinkURL        = 2000
)

// ErrForbidden is returned when the caller may see a record but not change
// it (a desk-wide canned reply edited by a non-admin); handlers answer 403.
var ErrForbidden = errors.New("forbidden")

// CannedReply is a text an agent inserts into the composer ("text block",
// saved reply): typed '#' then part of its title, shortcut or body. Its
// body may hold placeholders (Placeholders), resolved when inserted; URL,
// if set, is sent with the message and shown to the customer as a card.
type CannedReply struct {
	ID         int64
	Scope      string
	OwnerID    *int64
	TeamID     *int64
	Title      string
	Shortcut   string
	Body       string
	URL        string `gorm:"column:url"`
	UsageCount int64
	CreatedBy  *int64
	CreatedAt  time.Time
	UpdatedAt  time.Time

	Team *Team `gorm:"foreignKey:TeamID"`
	// Manage says whether the user who listed or found the reply may edit
	// and delete it (CanManageCanned).
	Manage bool `gorm:"-"`
}

// CannedInput is what the canned reply form supplies.
type CannedInput struct {
	Scope    string
	TeamID   int64 // for CannedTeam
	Title    string
	Shortcut string
	Body     string
	URL      string
}

// Placeholders are the names a canned reply may use, as {{name}} or with a
// default for an empty value, {{name | default}}.
var Placeholders = []string{"customer.name", "customer.email", "agent.name", "conversation.number"}

// placeholderRE finds every {{…}}: name, then an optional "| default".
var placeholderRE = regexp.MustCompile(`\{\{([^{}|]*)(?:\|([^{}]*))?\}\}`)

func knownPlaceholder(name string) bool {
	for _, p := range Placeholders {
		if p == name {
			return true
		}
	}
	return false
}

// checkPlaceholders refuses a body naming a placeholder we cannot fill,
// listing the ones we can.
func checkPlaceholders(body string) error {
	for _, m := range placeholderRE.FindAllStringSubmatch(body, -1) {
		if name := strings.TrimSpace(m[1]); !knownPlaceholder(name) {
			return Invalid("body", "canned_placeholder_unknown", map[string]any{
				"Name": strings.TrimSpace(m[0]), "Valid": "{{" + strings.Join(Placeholders, "}}, {{") + "}}"})
		}
	}
	return nil
}

// ResolvePlaceholders replaces each placeholder of body by its value in
// values, or by its default where the value is empty (or absent); a name
// values lacks and that has no default becomes empty.
func ResolvePlaceholders(body string, values map[string]string) string {
	return placeholderRE.ReplaceAllStringFunc(body, func(s string) string {
		m := placeholderRE.FindStringSubmatch(s)
		name := strings.TrimSpace(m[1])
		if !knownPlaceholder(name) {
			return s // saved before the name was known: left as typed
		}
		if v := strings.TrimSpace(values[name]); v != "" {
			return v
		}
		return strings.TrimSpace(m[2])
	})
}

// PlaceholderValues are the values of the placeholders for u writing in
// conv. Customer fields are filled only for users who may see customer data
// (CanSeeCustomerData): for anyone else they stay empty (their defaults).
func PlaceholderValues(u *User, conv *Conversation) map[string]string {
	v := map[string]string{"agent.name": u.Name, "conversation.number": strconv.FormatInt(conv.ID, 10)}
	if conv.Customer != nil && CanSeeCustomerData(u) {
		v["customer.name"] = conv.Customer.Name
		v["customer.email"] = conv.Customer.Email
	}
	return v
}

// ValidateLinkURL checks a link sent with a message or kept by a canned
// reply: absolute http or https with a host, no spaces, at most MaxLinkURL.
// Anything else (javascript:, data:, relative or malformed) is refused on
// field.
func ValidateLinkURL(field, raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", nil
	}
	if len(raw) > MaxLinkURL {
		return "", Invalid(field, "link_url_too_long", map[string]any{"Max": MaxLinkURL})
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" ||
		strings.ContainsAny(raw, " \t\r\n\"<>\\") {
		return "", Invalid(field, "link_url_invalid", nil)
	}
	return raw, nil
}

// userTeamIDs are the teams u is in.
func userTeamIDs(ctx context.Context, db *gorm.DB, u *User) ([]int64, error) {
	var ids []int64
	err := db.WithContext(ctx).Raw("SELECT team_id FROM team_members WHERE user_id = ? ORDER BY team_id", u.ID).Scan(&ids).Error
	return ids, err
}

func inTeam(ids []int64, id *int64) bool {
	if id == nil {
		return false
	}
	for _, t := range ids {
		if t == *id {
			return true
		}
	}
	return false
}

// CannedQuery selects canned replies for a viewer.
type CannedQuery struct {
	Search string // in title, shortcut and body, ignoring case
	Limit  int    // 0: 200
}

// ListCanned returns the canned replies u may use, most used first, then by
// title.
func ListCanned(ctx context.Context, db *gorm.DB, u *User, q CannedQuery) ([]CannedReply, error) {
	if q.Limit <= 0 {
		q.Limit = 200
	}
	args := map[string]any{"me": u.ID, "admin": u.IsAdmin()}
	tx := db.WithContext(ctx).Preload("Team").Table("canned_replies AS r").Select("r.*").
		Where(userSeesCannedSQL("r"), args)
	if s := strings.TrimSpace(q.Search); s != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s) + "%"
		tx = tx.Where("(r.title ILIKE @q OR r.shortcut ILIKE @q OR r.body ILIKE @q)", map[string]any{"q": like})
	}
	var rs []CannedReply
	if err := tx.Order("r.usage_count DESC, lower(r.title), r.id").Limit(q.Limit).Find(&rs).Error; err != nil {
		return nil, fmt.Errorf("list canned replies: %w", err)
	}
	teams, err := userTeamIDs(ctx, db, u)
	if err != nil {
		return nil, fmt.Errorf("list canned replies: %w", err)
	}
	for i := range rs {
		rs[i].Manage = CanManageCanned(u, &rs[i], inTeam(teams, rs[i].TeamID))
	}
	return rs, nil
}

// FindCanned returns canned reply id if u may use it (ErrNotFound otherwise,
// so another agent's personal reply does not exist for u), and whether u
// may also manage it.
func FindCanned(ctx context.Context, db *gorm.DB, u *User, id int64) (*CannedReply, bool, error) {
	var r CannedReply
	err := db.WithContext(ctx).Preload("Team").Take(&r, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, false, ErrNotFound
	}
	if err != nil {
		return nil, false, fmt.Errorf("find canned reply %d: %w", id, err)
	}
	teams, err := userTeamIDs(ctx, db, u)
	if err != nil {
		return nil, false, fmt.Errorf("find canned reply %d: %w", id, err)
	}
	member := inTeam(teams, r.TeamID)
	if !CanUseCanned(u, &r, member) {
		return nil, false, ErrNotFound
	}
	r.Manage = CanManageCanned(u, &r, member)
	return &r, r.Manage, nil
}

// CannedTeams are the teams u may file canned replies under: every team for
// admins, their own teams for others.
func CannedTeams(ctx context.Context, db *gorm.DB, u *User) ([]Team, error) {
	var ts []Team
	tx := db.WithContext(ctx).Order("lower(name), id")
	if !u.IsAdmin() {
		tx = tx.Where("id IN (SELECT team_id FROM team_members WHERE user_id = ?)", u.ID)
	}
	if err := tx.Find(&ts).Error; err != nil {
		return nil, fmt.Errorf("canned teams: %w", err)
	}
	return ts, nil
}

// validate checks in and returns the reply it describes for u, whose right
// to manage that scope is checked too (a team u is not in, or desk-wide for
// a non-admin, is refused beside the scope field).
func (in CannedInput) validate(ctx context.Context, db *gorm.DB, u *User) (*CannedReply, error) {
	v := &ValidationError{}
	r := &CannedReply{Scope: in.Scope}
	r.Title = strings.TrimSpace(in.Title)
	switch n := utf8.RuneCountInString(r.Title); {
	case n == 0:
		v.Add("title", "canned_title_required", nil)
	case n > MaxCannedTitle:
		v.Add("title", "canned_title_too_long", map[string]any{"Max": MaxCannedTitle})
	}
	r.Shortcut = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(in.Shortcut), "#")))
	if len(r.Shortcut) > MaxCannedShortcut || strings.Trim(r.Shortcut, "abcdefghijklmnopqrstuvwxyz0123456789_-") != "" {
		v.Add("shortcut", "canned_shortcut_invalid", map[string]any{"Max": MaxCannedShortcut})
	}
	r.Body = strings.TrimSpace(strings.ReplaceAll(in.Body, "\r\n", "\n"))
	switch n := utf8.RuneCountInString(r.Body); {
	case n == 0:
		v.Add("body", "canned_body_required", nil)
	case n > MaxCannedBody:
		v.Add("body", "canned_body_too_long", map[string]any{"Max": MaxCannedBody, "Count": n})
	default:
		if err := checkPlaceholders(r.Body); err != nil {
			fe, _ := err.(*ValidationError).Field("body")
			v.Add(fe.Field, fe.Code, fe.Data)
		}
	}
	link, err := ValidateLinkURL("url", in.URL)
	if err != nil {
		fe, _ := err.(*ValidationError).Field("url")
		v.Add(fe.Field, fe.Code, fe.Data)
	}
	r.URL = link
	switch in.Scope {
	case CannedPersonal:
		r.OwnerID = &u.ID
	case CannedTeam:
		teams, err := userTeamIDs(ctx, db, u)
		if err != nil {
			return nil, err
		}
		var exists bool
		if err := db.WithContext(ctx).Raw("SELECT EXISTS (SELECT 1 FROM teams WHERE id = ?)", in.TeamID).Scan(&exists).Error; err != nil {
			return nil, err
		}
		r.TeamID = &in.TeamID
		if !exists || !CanManageCanned(u, r, inTeam(teams, r.TeamID)) {
			v.Add("team_id", "canned_team_invalid", nil)
		}
	case CannedDesk:
		if !CanManageCanned(u, r, false) {
			v.Add("scope", "canned_scope_forbidden", nil)
		}
	default:
		v.Add("scope", "canned_scope_invalid", nil)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return r, nil
}

// CreateCanned stores a canned reply for u; nothing is stored unless every
// field is valid and u may manage the chosen scope.
func CreateCanned(ctx context.Context, db *gorm.DB, u *User, in CannedInput) (*CannedReply, error) {
	r, err := in.validate(ctx, db, u)
	if err != nil {
		return nil, err
	}
	r.CreatedBy = &u.ID
	if err := db.WithContext(ctx).Omit(clause.Associations).
		Select("Scope", "OwnerID", "TeamID", "Title", "Shortcut", "Body", "URL", "CreatedBy").Create(r).Error; err != nil {
		return nil, fmt.Errorf("create canned reply: %w", err)
	}
	return r, nil
}

// UpdateCanned changes canned reply id, which u must be allowed to manage
// both as it is and as it becomes (moving a reply into a scope is creating
// it there).
func UpdateCanned(ctx context.Context, db *gorm.DB, u *User, id int64, in CannedInput) (*CannedReply, error) {
	old, manage, err := FindCanned(ctx, db, u, id)
	if err != nil {
		return nil, err
	}
	if !manage {
		return nil, ErrForbidden
	}
	r, err := in.validate(ctx, db, u)
	if err != nil {
		return nil, err
	}
	res := db.WithContext(ctx).Model(&CannedReply{}).Where("id = ?", old.ID).Updates(map[string]any{
		"scope": r.Scope, "owner_id": r.OwnerID, "team_id": r.TeamID, "title": r.Title, "shortcut": r.Shortcut,
		"body": r.Body, "url": r.URL, "updated_at": gorm.Expr("now()"),
	})
	if res.Error != nil {
		return nil, fmt.Errorf("update canned reply %d: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, ErrNotFound
	}
	r.ID, r.UsageCount = old.ID, old.UsageCount
	return r, nil
}

// DeleteCanned removes canned reply id if u may manage it.
func DeleteCanned(ctx context.Context, db *gorm.DB, u *User, id int64) error {
	_, manage, err := FindCanned(ctx, db, u, id)
	if err != nil {
		return err
	}
	if !manage {
		return ErrForbidden
	}
	if err := db.WithContext(ctx).Delete(&CannedReply{}, id).Error; err != nil {
		return fmt.Errorf("delete canned reply %d: %w", id, err)
	}
	return nil
}

// UseCanned is inserting canned reply id into u's composer in conv (which
// the caller found for u, so u may see it): it counts the use and returns
// the reply with its body resolved for u and conv.
func UseCanned(ctx context.Context, db *gorm.DB, u *User, conv *Conversation, id int64) (*CannedReply, string, error) {
	r, _, err := FindCanned(ctx, db, u, id)
	if err != nil {
		return nil, "", err
	}
	if !CanSeeConversation(u, conv, true) {
		return nil, "", ErrNotFound
	}
	if conv.CustomerID != nil && conv.Customer == nil {
		var c Customer
		if err := db.WithContext(ctx).Take(&c, *conv.CustomerID).Error; err != nil {
			return nil, "", fmt.Errorf("use canned reply %d: %w", id, err)
		}
		conv.Customer = &c
	}
	if err := db.WithContext(ctx).Exec("UPDATE canned_replies SET usage_count = usage_count + 1 WHERE id = ?", r.ID).Error; err != nil {
		return nil, "", fmt.Errorf("use canned reply %d: %w", id, err)
	}
	r.UsageCount++
	return r, ResolvePlaceholders(r.Body, PlaceholderValues(u, conv)), nil
}
