package models

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Item list sorts. Each has an index whose order matches (see
// migrations/00003_items.sql), so a page is an index range scan however
// many items there are, and paging is by keyset: no OFFSET, no count.
const (
	SortUpdated  = "updated"  // recently updated first (default)
	SortCreated  = "created"  // newest first
	SortDue      = "due"      // soonest due first, items without a due date last
	SortPriority = "priority" // urgent first, then recently updated
	SortNumber   = "number"   // highest number first
)

// ItemSorts lists the sorts a list offers.
var ItemSorts = []string{SortUpdated, SortCreated, SortDue, SortPriority, SortNumber}

// Item status filters besides a single status.
const (
	StatusAny      = ""          // every status
	StatusOpenOnes = "open_ones" // every status that still needs work
)

// ItemQuery selects one page of a Tickets or Tasks list.
type ItemQuery struct {
	Viewer     *User
	Kind       string
	Status     string // a status of Kind, StatusOpenOnes, or StatusAny
	AssigneeID int64  // 0: anyone
	Mine       bool   // created by, assigned to or followed by Viewer
	TeamID     int64  // 0: any team
	Priority   string // "": any
	// Overdue keeps open items due before Today (the viewer's date).
	Overdue bool
	Today   time.Time
	Sort    string
	Limit   int
	// After continues after a page's last row; Before goes back from a
	// page's first row. At most one is set.
	After, Before *ItemCursor
}

// ItemCursor is a position in a sorted list: the sort key of a row and its
// id, as strings in the order the sort compares them.
type ItemCursor struct {
	Sort string
	Keys []string
}

// ItemRow is one item in a list, with the names the row shows.
type ItemRow struct {
	Item
	AssigneeName  string
	TeamName      string
	RequesterName string
	PriorityRank  int
}

// sortSpec describes a sort: the key expressions in order, their SQL types
// (for the cursor's parameters), and the direction (all keys go the same
// way, so a row comparison is the keyset condition).
type sortSpec struct {
	exprs []string
	types []string
	desc  bool
}

var sortSpecs = map[string]sortSpec{
	SortUpdated:  {[]string{"i.updated_at", "i.id"}, []string{"timestamptz", "bigint"}, true},
	SortCreated:  {[]string{"i.created_at", "i.id"}, []string{"timestamptz", "bigint"}, true},
	SortDue:      {[]string{"COALESCE(i.due_on, 'infinity'::date)", "i.id"}, []string{"date", "bigint"}, false},
	SortPriority: {[]string{"i.priority_rank", "i.updated_at", "i.id"}, []string{"smallint", "timestamptz", "bigint"}, true},
	SortNumber:   {[]string{"i.number"}, []string{"bigint"}, true},
}

// ValidItemSort reports whether s is a sort.
func ValidItemSort(s string) bool { _, ok := sortSpecs[s]; return ok }

// CursorOf is the position of r in a list sorted by sort.
func (r *ItemRow) CursorOf(sort string) ItemCursor {
	id := strconv.FormatInt(r.ID, 10)
	micros := func(t time.Time) string { return strconv.FormatInt(t.UnixMicro(), 10) }
	switch sort {
	case SortCreated:
		return ItemCursor{sort, []string{micros(r.CreatedAt), id}}
	case SortDue:
		d := "infinity"
		if r.DueOn != nil {
			d = r.Due()
		}
		return ItemCursor{sort, []string{d, id}}
	case SortPriority:
		return ItemCursor{sort, []string{strconv.Itoa(r.PriorityRank), micros(r.UpdatedAt), id}}
	case SortNumber:
		return ItemCursor{sort, []string{strconv.FormatInt(r.Number, 10)}}
	}
	return ItemCursor{SortUpdated, []string{micros(r.UpdatedAt), id}}
}

// String encodes c for a URL.
func (c ItemCursor) String() string { return strings.Join(c.Keys, "_") }

// ErrBadItemCursor is returned for a cursor that CursorOf did not make.
var ErrBadItemCursor = errors.New("bad item cursor")

// ParseItemCursor decodes what ItemCursor.String made for sort; "" is no
// cursor.
func ParseItemCursor(sort, s string) (*ItemCursor, error) {
	if s == "" {
		return nil, nil
	}
	spec, ok := sortSpecs[sort]
	if !ok {
		return nil, ErrBadItemCursor
	}
	keys := strings.Split(s, "_")
	if len(keys) != len(spec.types) {
		return nil, ErrBadItemCursor
	}
	for i, k := range keys {
		switch spec.types[i] {
		case "date":
			if k == "infinity" {
				continue
			}
			if _, err := time.Parse(time.DateOnly, k); err != nil {
				return nil, ErrBadItemCursor
			}
		default:
			if _, err := strconv.ParseInt(k, 10, 64); err != nil {
				return nil, ErrBadItemCursor
			}
		}
	}
	return &ItemCursor{Sort: sort, Keys: keys}, nil
}

// cursorArgs turns a cursor's keys into query parameters and the SQL that
// reads them back as the sort key's types.
func (spec sortSpec) cursorArgs(c *ItemCursor, args map[string]any) []string {
	out := make([]string, len(c.Keys))
	for i, k := range c.Keys {
		name := "k" + strconv.Itoa(i)
		switch spec.types[i] {
		case "timestamptz":
			n, _ := strconv.ParseInt(k, 10, 64)
			args[name] = time.UnixMicro(n).UTC()
			out[i] = "CAST(@" + name + " AS timestamptz)"
		case "date":
			args[name] = k
			out[i] = "CAST(@" + name + " AS date)"
		default:
			n, _ := strconv.ParseInt(k, 10, 64)
			args[name] = n
			out[i] = "CAST(@" + name + " AS " + spec.types[i] + ")"
		}
	}
	return out
}

// ItemPage is one page of a list, with the cursors of the pages around it
// (nil when there is none).
type ItemPage struct {
	Rows       []ItemRow
	Next, Prev *ItemCursor
}

// ListItems returns one page of items for q (up to q.Limit rows, in the
// sort's order whichever way it pages). Lists of a kind the viewer may not
// see are ErrNotFound.
func ListItems(ctx context.Context, db *gorm.DB, q ItemQuery) (*ItemPage, error) {
	if !CanSeeItems(q.Viewer, q.Kind) {
		return nil, ErrNotFound
	}
	if q.Limit <= 0 || q.Limit > 200 {
		q.Limit = 50
	}
	if !ValidItemSort(q.Sort) {
		q.Sort = SortUpdated
	}
	spec := sortSpecs[q.Sort]
	args := map[string]any{"kind": q.Kind, "me": q.Viewer.ID, "limit": q.Limit + 1}
	where := []string{"i.kind = @kind"}
	switch {
	case q.Status == StatusOpenOnes:
		where = append(where, "i.open")
	case q.Status != StatusAny:
		where = append(where, "i.status = @status")
		args["status"] = q.Status
	}
	if q.AssigneeID != 0 {
		where = append(where, "i.assignee_id = @assignee")
		args["assignee"] = q.AssigneeID
	}
	if q.TeamID != 0 {
		where = append(where, "i.team_id = @team")
		args["team"] = q.TeamID
	}
	if q.Priority != "" {
		where = append(where, "i.priority = @priority")
		args["priority"] = q.Priority
	}
	if q.Overdue {
		where = append(where, "i.open AND i.due_on IS NOT NULL AND i.due_on < CAST(@today AS date)")
		args["today"] = q.Today.Format(time.DateOnly)
	}
	// Paging back runs the sort the other way from the page's first row,
	// then puts the rows back in order.
	desc, back := spec.desc, q.Before != nil && q.After == nil
	cur := q.After
	if back {
		desc, cur = !desc, q.Before
	}
	if cur != nil {
		if cur.Sort != q.Sort || len(cur.Keys) != len(spec.exprs) {
			return nil, ErrBadItemCursor
		}
		op := ">"
		if desc {
			op = "<"
		}
		where = append(where, "("+strings.Join(spec.exprs, ", ")+") "+op+" ("+strings.Join(spec.cursorArgs(cur, args), ", ")+")")
	}
	order := make([]string, len(spec.exprs))
	for i, e := range spec.exprs {
		order[i] = e + map[bool]string{true: " DESC", false: " ASC"}[desc]
	}
	// The page is chosen first (an index range scan), then its names are
	// joined: never a join over every matching item.
	orderBy := strings.Join(order, ", ")
	page := `SELECT * FROM items i WHERE ` + strings.Join(where, " AND ") + ` ORDER BY ` + orderBy + ` LIMIT @limit`
	if q.Mine {
		// Mine is three lists (assigned to me, created by me, followed by
		// me), each paged on its own index range in the list's order (the
		// followed ones by primary key from the follow list, a plan that
		// stays right for cached statements); the page is the first rows of
		// their union.
		cond := strings.Join(where, " AND ")
		page = `SELECT * FROM (
			(SELECT * FROM items i WHERE ` + cond + ` AND i.assignee_id = @me ORDER BY ` + orderBy + ` LIMIT @limit)
			UNION
			(SELECT * FROM items i WHERE ` + cond + ` AND i.created_by = @me ORDER BY ` + orderBy + ` LIMIT @limit)
			UNION
			(SELECT * FROM items i WHERE i.id = ANY (ARRAY(SELECT item_id FROM item_followers WHERE user_id = @me))
			 AND ` + cond + ` ORDER BY ` + orderBy + ` LIMIT @limit)) i
			ORDER BY ` + orderBy + ` LIMIT @limit`
	}
	var rows []ItemRow
	err := db.WithContext(ctx).Raw(`
		SELECT i.*, COALESCE(a.name, '') AS assignee_name, COALESCE(t.name, '') AS team_name,
		       COALESCE(NULLIF(cu.name, ''), cu.email, '') AS requester_name
		FROM (`+page+`) i
		LEFT JOIN users a ON a.id = i.assignee_id
		LEFT JOIN teams t ON t.id = i.team_id
		LEFT JOIN customers cu ON cu.id = i.requester_id
		ORDER BY `+strings.Join(order, ", "), args).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list items: %w", err)
	}
	// One row more than a page says there is a page beyond.
	more := len(rows) > q.Limit
	if more {
		rows = rows[:q.Limit]
	}
	if back {
		for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
			rows[i], rows[j] = rows[j], rows[i]
		}
	}
	p := &ItemPage{Rows: rows}
	if len(rows) == 0 {
		return p, nil
	}
	first, last := rows[0].CursorOf(q.Sort), rows[len(rows)-1].CursorOf(q.Sort)
	switch {
	case back:
		p.Next = &last
		if more {
			p.Prev = &first
		}
	default:
		if more {
			p.Next = &last
		}
		if cur != nil {
			p.Prev = &first
		}
	}
	return p, nil
}
