package models

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Teams as queues. A customer conversation belongs to a team (its queue)
// and/or an agent. It reaches a team by a routing rule when it starts
// (routing.go) or by a transfer; then auto-assign gives it to the team's
// next agent round-robin, among those online (their own availability, not
// the desk's switch) and below their capacity. When nobody is available it
// waits in the queue, unassigned, until an agent of the team comes online
// or an admin raises a capacity (drainTeamQueues).

// Agent availability.
const (
	AvailabilityOnline = "online"
	AvailabilityAway   = "away"
)

// Status lines of teams (staff only: not in customerEvents).
const (
	SysRouted       = "routed"        // a routing rule put it in a team's queue
	SysTransferred  = "transferred"   // an agent moved it to a team or an agent
	SysAutoAssigned = "auto_assigned" // auto-assign gave it to the team's next agent
)

// MaxCapacity bounds an agent's capacity (open conversations at once).
const MaxCapacity = 1000

// agentLoadLock is the advisory-lock space of an agent's load: auto-assign
// holds (agentLoadLock, user id) while it counts and assigns, so two
// teams sharing an agent never both fill their last place.
const agentLoadLock = 21021

// agentLoadSQL counts the open customer conversations assigned to the
// users row alias (conversations_assignee_idx).
func agentLoadSQL(users string) string {
	return `(SELECT count(*) FROM conversations lc WHERE lc.assignee_id = ` + users + `.id AND lc.status = 'open' AND lc.kind = 'customer')`
}

// SetAvailability sets u's own availability. Coming online assigns them
// (and teammates) what waits in their teams' queues, as capacity allows.
func SetAvailability(ctx context.Context, t Tx, u *User, availability string) error {
	if availability != AvailabilityOnline && availability != AvailabilityAway {
		return Invalid("availability", "availability_invalid", nil)
	}
	err := t.run(ctx, func(tx *gorm.DB) error {
		res := tx.Exec(`UPDATE users SET availability = ?, availability_changed_at = now() WHERE id = ? AND active AND availability <> ?`,
			availability, u.ID, availability)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return nil
		}
		u.Availability = availability
		if err := appendEvent(t, Event{UserID: &u.ID, Data: AgentEvent{Availability: availability, ByUserID: u.ID}}); err != nil {
			return err
		}
		if availability == AvailabilityOnline {
			return drainTeamQueues(ctx, t, u.ID)
		}
		return nil
	})
	return wrapUnlessDomain(err, "set availability of %d", u.ID)
}

// ParseCapacity reads a capacity as typed in a form: empty is 0 (no limit);
// anything but a whole number from 0 to MaxCapacity is a ValidationError.
func ParseCapacity(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	switch {
	case err != nil:
		return 0, Invalid("capacity", "capacity_invalid", nil)
	case n < 0:
		return 0, Invalid("capacity", "capacity_negative", nil)
	case n > MaxCapacity:
		return 0, Invalid("capacity", "capacity_too_large", map[string]any{"Max": MaxCapacity})
	}
	return n, nil
}

// SetCapacity sets the agent userID's capacity (0: no limit); only admins
// may. A raised capacity takes what waits in the agent's teams' queues.
func SetCapacity(ctx context.Context, t Tx, admin *User, userID int64, capacity int) error {
	if !admin.IsAdmin() {
		return ErrForbidden
	}
	switch {
	case capacity < 0:
		return Invalid("capacity", "capacity_negative", nil)
	case capacity > MaxCapacity:
		return Invalid("capacity", "capacity_too_large", map[string]any{"Max": MaxCapacity})
	}
	err := t.run(ctx, func(tx *gorm.DB) error {
		var old []int
		if err := tx.Raw("SELECT capacity FROM users WHERE id = ? FOR UPDATE", userID).Scan(&old).Error; err != nil {
			return err
		}
		if len(old) == 0 {
			return ErrNotFound
		}
		if old[0] == capacity {
			return nil
		}
		if err := tx.Exec("UPDATE users SET capacity = ?, updated_at = now() WHERE id = ?", capacity, userID).Error; err != nil {
			return err
		}
		c := capacity
		if err := appendEvent(t, Event{UserID: &userID, Data: AgentEvent{Capacity: &c, ByUserID: admin.ID}}); err != nil {
			return err
		}
		if capacity == 0 || capacity > old[0] && old[0] != 0 {
			return drainTeamQueues(ctx, t, userID)
		}
		return nil
	})
	return wrapUnlessDomain(err, "set capacity of %d", userID)
}

// TeamMate is a member of one of the viewer's teams, as the roster shows
// them.
type TeamMate struct {
	ID           int64
	Name         string
	Availability string
	Load         int
	Capacity     int
	TeamNames    string
}

// MyTeamMates lists the support agents who share a team with u (u
// included), with their availability and load, by name.
func MyTeamMates(ctx context.Context, db *gorm.DB, u *User) ([]TeamMate, error) {
	var out []TeamMate
	err := db.WithContext(ctx).Raw(`
		SELECT u.id, u.name, u.availability, u.capacity, `+agentLoadSQL("u")+` AS load,
		       string_agg(t.name, ', ' ORDER BY lower(t.name)) AS team_names
		FROM users u
		JOIN team_members m ON m.user_id = u.id
		JOIN teams t ON t.id = m.team_id
		WHERE m.team_id IN (SELECT team_id FROM team_members WHERE user_id = ?) AND `+supportAgentSQL("u")+`
		GROUP BY u.id ORDER BY lower(u.name), u.id`, u.ID).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("my team mates: %w", err)
	}
	return out, nil
}

// TeamIDsOf returns the ids of u's teams.
func TeamIDsOf(ctx context.Context, db *gorm.DB, userID int64) ([]int64, error) {
	var ids []int64
	err := db.WithContext(ctx).Raw("SELECT team_id FROM team_members WHERE user_id = ? ORDER BY team_id", userID).Scan(&ids).Error
	if err != nil {
		return nil, fmt.Errorf("teams of %d: %w", userID, err)
	}
	return ids, nil
}

// TeamOption is a team as a menu offers it.
type TeamOption struct {
	ID   int64
	Name string
}

// TeamOptions lists every team by name, for menus (transfer, filters).
func TeamOptions(ctx context.Context, db *gorm.DB) ([]TeamOption, error) {
	var out []TeamOption
	if err := db.WithContext(ctx).Raw("SELECT id, name FROM teams ORDER BY lower(name), id").Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("team options: %w", err)
	}
	return out, nil
}

// TeamOptionsWithSLA is TeamOptions and the teams' own service levels
// (SLAPolicyOf's part, SLAPolicyWith) in one statement: opening a
// conversation shows both.
func TeamOptionsWithSLA(ctx context.Context, db *gorm.DB) ([]TeamOption, map[int64]SLAMinutes, error) {
	var rows []teamSLARow
	if err := pipelined(ctx, db, teamsWithSLARead(&rows)); err != nil {
		return nil, nil, fmt.Errorf("team options: %w", err)
	}
	teams, sla := teamsWithSLA(rows)
	return teams, sla, nil
}

// teamSLARow is a team as TeamOptionsWithSLA reads it.
type teamSLARow struct {
	ID              int64
	Name            string
	SlaFirstMinutes *int
	SlaNextMinutes  *int
}

// teamsWithSLARead is TeamOptionsWithSLA's statement.
func teamsWithSLARead(dst *[]teamSLARow) pipelinedRead {
	return readInto(dst, "SELECT id, name, sla_first_minutes, sla_next_minutes FROM teams ORDER BY lower(name), id")
}

// teamsWithSLA is what TeamOptionsWithSLA makes of its rows.
func teamsWithSLA(rows []teamSLARow) ([]TeamOption, map[int64]SLAMinutes) {
	out := make([]TeamOption, 0, len(rows))
	sla := map[int64]SLAMinutes{}
	for _, r := range rows {
		out = append(out, TeamOption{ID: r.ID, Name: r.Name})
		if r.SlaFirstMinutes != nil || r.SlaNextMinutes != nil {
			sla[r.ID] = SLAMinutes{First: r.SlaFirstMinutes, Next: r.SlaNextMinutes}
		}
	}
	return out, sla
}

// autoAssign gives conv (held by t: new or locked) to the next available
// agent of team round-robin: support agents of the team who are online and
// below their capacity, taken in id order after the last one assigned
// (the team's cursor), wrapping around. It locks the team row while it
// picks (the cursor: concurrent picks in one team queue up; FOR NO KEY
// UPDATE, which the foreign-key checks of conversations.team_id do not
// wait for, so two transactions putting conversations in the team cannot
// deadlock on it) and each
// candidate's load lock (agentLoadLock, tried: an agent another
// transaction is assigning right now is skipped rather than waited for),
// and counts the load again under it, so no agent ever goes past their
// capacity, across teams and instances. by is the user on whose behalf it
// runs (nil: a routing rule or an agent's return). It returns the agent,
// or nil when nobody is available (the conversation stays in the queue).
func autoAssign(ctx context.Context, t Tx, conv *Conversation, teamID int64, by *User) (*User, error) {
	tx := t.db.WithContext(ctx)
	var team []struct {
		Name               string
		LastAssignedUserID *int64
	}
	if err := tx.Raw("SELECT name, last_assigned_user_id FROM teams WHERE id = ? FOR NO KEY UPDATE", teamID).Scan(&team).Error; err != nil {
		return nil, err
	}
	if len(team) == 0 {
		return nil, nil
	}
	var cursor int64
	if team[0].LastAssignedUserID != nil {
		cursor = *team[0].LastAssignedUserID
	}
	var candidates []User
	err := tx.Raw(`
		SELECT u.* FROM users u JOIN team_members m ON m.user_id = u.id AND m.team_id = @team
		WHERE `+supportAgentSQL("u")+` AND u.availability = 'online'
		  AND (u.capacity = 0 OR `+agentLoadSQL("u")+` < u.capacity)
		ORDER BY u.id <= @cursor, u.id`, map[string]any{"team": teamID, "cursor": cursor}).Scan(&candidates).Error
	if err != nil {
		return nil, err
	}
	var pick *User
	for i := range candidates {
		u := &candidates[i]
		if u.Capacity == 0 {
			pick = u
			break
		}
		var got bool
		if err := tx.Raw("SELECT pg_try_advisory_xact_lock(?, ?)", agentLoadLock, int32(u.ID)).Scan(&got).Error; err != nil {
			return nil, err
		}
		if !got {
			continue
		}
		var load int
		if err := tx.Raw(`SELECT `+agentLoadSQL("u")+` FROM users u WHERE u.id = ?`, u.ID).Scan(&load).Error; err != nil {
			return nil, err
		}
		if load < u.Capacity {
			pick = u
			break
		}
	}
	if pick == nil {
		return nil, nil
	}
	if err := tx.Exec("UPDATE teams SET last_assigned_user_id = ? WHERE id = ?", pick.ID, teamID).Error; err != nil {
		return nil, err
	}
	if err := tx.Model(&Conversation{}).Where("id = ?", conv.ID).Updates(map[string]any{"assignee_id": pick.ID, "updated_at": gorm.Expr("now()")}).Error; err != nil {
		return nil, err
	}
	conv.AssigneeID, conv.Assignee = &pick.ID, pick
	if _, err := insertSystemLine(t, conv, SysAutoAssigned, JSONMap{"to": pick.Name, "team": team[0].Name}); err != nil {
		return nil, err
	}
	ev := ConversationEvent{Assigned: true, AssigneeID: &pick.ID, Auto: true}
	if by != nil {
		ev.ByUserID = by.ID
	}
	if err := appendEvent(t, Event{ConversationID: &conv.ID, Data: ev}); err != nil {
		return nil, err
	}
	return pick, nil
}

// putInTeam moves conv (held by t) into team's queue, unassigned, with a
// status line (SysRouted or SysTransferred) and a Transferred event, then
// auto-assigns it within the team.
func putInTeam(ctx context.Context, t Tx, conv *Conversation, by *User, teamID int64, teamName, line string) error {
	tx := t.db.WithContext(ctx)
	if err := tx.Model(&Conversation{}).Where("id = ?", conv.ID).
		Updates(map[string]any{"team_id": teamID, "assignee_id": nil, "updated_at": gorm.Expr("now()")}).Error; err != nil {
		return err
	}
	conv.TeamID, conv.AssigneeID, conv.Assignee = &teamID, nil, nil
	data := JSONMap{"team": teamName}
	ev := ConversationEvent{Transferred: true, TeamID: &teamID}
	if by != nil {
		data["by"], ev.ByUserID = by.Name, by.ID
	}
	if _, err := insertSystemLine(t, conv, line, data); err != nil {
		return err
	}
	if err := appendEvent(t, Event{ConversationID: &conv.ID, Data: ev}); err != nil {
		return err
	}
	_, err := autoAssign(ctx, t, conv, teamID, by)
	return err
}

// drainLimit bounds how many waiting conversations one change assigns per
// team (the rest wait for the next agent to come online or free up).
const drainLimit = 50

// drainTeamQueues assigns what waits unassigned in the queues of userID's
// teams, oldest first, while agents are available. Conversations being
// written in at this moment are left for the next time (SKIP LOCKED: no
// waiting, no deadlock with a transfer that holds the conversation).
func drainTeamQueues(ctx context.Context, t Tx, userID int64) error {
	teams, err := TeamIDsOf(ctx, t.db, userID)
	if err != nil {
		return err
	}
	tx := t.db.WithContext(ctx)
	for _, team := range teams {
		for range drainLimit {
			var conv Conversation
			err := tx.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"}).Omit(clause.Associations).
				Where("team_id = ? AND kind = ? AND status = ? AND assignee_id IS NULL", team, KindCustomer, StatusOpen).
				Order("id").Take(&conv).Error
			if errors.Is(err, gorm.ErrRecordNotFound) {
				break
			}
			if err != nil {
				return err
			}
			who, err := autoAssign(ctx, t, &conv, team, nil)
			if err != nil {
				return err
			}
			if who == nil {
				break
			}
		}
	}
	return nil
}

// TransferInput is a transfer: to a team (TeamID) or to an agent
// (AssigneeID), exactly one, with an optional note to the receiver.
type TransferInput struct {
	TeamID     int64
	AssigneeID int64
	Note       string
}

// Transfer hands a customer conversation to a team (its queue: unassigned,
// then auto-assigned within the team) or to an agent (the team stays), with
// a staff-only status line and, if given, the note as an internal note
// (never shown to the customer). The receiving agent is notified (an
// assignment); a team transfer nobody could take notifies the team's
// agents (ReasonTeamQueue). Bad input stores nothing.
func Transfer(ctx context.Context, t Tx, by *User, conv *Conversation, in TransferInput) error {
	if conv.Kind != KindCustomer || !IsSupportAgent(by) {
		return Invalid("to", "transfer_invalid", nil)
	}
	if (in.TeamID > 0) == (in.AssigneeID > 0) {
		return Invalid("to", "transfer_target_required", nil)
	}
	note := strings.TrimSpace(in.Note)
	if note != "" {
		var err error
		if note, err = validateBody(note); err != nil {
			var v *ValidationError
			errors.As(err, &v)
			return Invalid("note", v.Errors[0].Code, v.Errors[0].Data)
		}
	}
	err := t.run(ctx, func(tx *gorm.DB) error {
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Omit(clause.Associations).Take(conv, conv.ID).Error; err != nil {
			return err
		}
		addNote := func() error {
			if note == "" {
				return nil
			}
			_, err := insertMessage(t, conv, Actor{User: by}, MessageNote, note, "", "")
			return err
		}
		if in.TeamID > 0 {
			var name string
			if err := tx.Raw("SELECT name FROM teams WHERE id = ? FOR KEY SHARE", in.TeamID).Scan(&name).Error; err != nil {
				return err
			}
			if name == "" {
				return Invalid("to", "transfer_team_unknown", nil)
			}
			if err := addNote(); err != nil {
				return err
			}
			return putInTeam(ctx, t, conv, by, in.TeamID, name, SysTransferred)
		}
		var agent User
		err := tx.Where("id = ? AND "+supportAgentSQL("users"), in.AssigneeID).Take(&agent).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return Invalid("to", "assignee_invalid", nil)
		}
		if err != nil {
			return err
		}
		if conv.AssigneeID != nil && *conv.AssigneeID == agent.ID {
			return Invalid("to", "transfer_same_agent", map[string]any{"Name": agent.Name})
		}
		if err := addNote(); err != nil {
			return err
		}
		if err := tx.Model(&Conversation{}).Where("id = ?", conv.ID).Updates(map[string]any{"assignee_id": agent.ID, "updated_at": gorm.Expr("now()")}).Error; err != nil {
			return err
		}
		conv.AssigneeID, conv.Assignee = &agent.ID, &agent
		if _, err := insertSystemLine(t, conv, SysTransferred, JSONMap{"by": by.Name, "to": agent.Name}); err != nil {
			return err
		}
		return appendEvent(t, Event{ConversationID: &conv.ID, Data: ConversationEvent{Assigned: true, ByUserID: by.ID, AssigneeID: &agent.ID}})
	})
	return wrapUnlessDomain(err, "transfer conversation %d", conv.ID)
}
