package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Team groups agents, e.g. "Billing" or "Tier 2"; conversations and tickets
// are later assigned to teams as well as to agents.
type Team struct {
	ID        int64
	Name      string
	CreatedAt time.Time
	UpdatedAt time.Time
	Members   []User `gorm:"many2many:team_members;joinForeignKey:TeamID;joinReferences:UserID"`
}

func validateTeamName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch n := len([]rune(name)); {
	case n == 0:
		return "", Invalid("name", "name_required", nil)
	case n > 80:
		return "", Invalid("name", "name_too_long", map[string]any{"Max": 80})
	}
	return name, nil
}

// CreateTeam stores a new team; names are unique regardless of case.
func CreateTeam(ctx context.Context, db *gorm.DB, name string) (*Team, error) {
	name, err := validateTeamName(name)
	if err != nil {
		return nil, err
	}
	t := &Team{Name: name}
	err = db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return tx.Select("Name").Create(t).Error
	})
	if isUniqueViolation(err, "teams_name_key") {
		return nil, Invalid("name", "team_name_taken", nil)
	}
	if err != nil {
		return nil, fmt.Errorf("create team: %w", err)
	}
	return t, nil
}

// RenameTeam changes a team's name.
func RenameTeam(ctx context.Context, db *gorm.DB, id int64, name string) error {
	name, err := validateTeamName(name)
	if err != nil {
		return err
	}
	var res *gorm.DB
	err = db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res = tx.Model(&Team{}).Where("id = ?", id).Updates(map[string]any{"name": name, "updated_at": gorm.Expr("now()")})
		return res.Error
	})
	if isUniqueViolation(err, "teams_name_key") {
		return Invalid("name", "team_name_taken", nil)
	}
	if err != nil {
		return fmt.Errorf("rename team %d: %w", id, err)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// DeleteTeam removes a team and its memberships (not its members).
func DeleteTeam(ctx context.Context, db *gorm.DB, id int64) error {
	res := db.WithContext(ctx).Delete(&Team{}, id)
	if res.Error != nil {
		return fmt.Errorf("delete team %d: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// ListTeams returns all teams by name, each with its members by name.
func ListTeams(ctx context.Context, db *gorm.DB) ([]Team, error) {
	var teams []Team
	err := db.WithContext(ctx).
		Preload("Members", func(q *gorm.DB) *gorm.DB { return q.Order("lower(users.name), users.id") }).
		Order("lower(name), id").Find(&teams).Error
	if err != nil {
		return nil, fmt.Errorf("list teams: %w", err)
	}
	return teams, nil
}

// FindTeam returns one team with its members.
func FindTeam(ctx context.Context, db *gorm.DB, id int64) (*Team, error) {
	var t Team
	err := db.WithContext(ctx).
		Preload("Members", func(q *gorm.DB) *gorm.DB { return q.Order("lower(users.name), users.id") }).
		Take(&t, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find team %d: %w", id, err)
	}
	return &t, nil
}

// AddTeamMember puts a user in a team; adding someone twice is harmless.
func AddTeamMember(ctx context.Context, db *gorm.DB, teamID, userID int64) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if _, err := FindTeam(ctx, tx, teamID); err != nil {
			return err
		}
		if _, err := FindUser(ctx, tx, userID); err != nil {
			if errors.Is(err, ErrNotFound) {
				return Invalid("user_id", "user_unknown", nil)
			}
			return err
		}
		return tx.Exec("INSERT INTO team_members (team_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING", teamID, userID).Error
	})
}

// RemoveTeamMember takes a user out of a team.
func RemoveTeamMember(ctx context.Context, db *gorm.DB, teamID, userID int64) error {
	return db.WithContext(ctx).Exec("DELETE FROM team_members WHERE team_id = ? AND user_id = ?", teamID, userID).Error
}
