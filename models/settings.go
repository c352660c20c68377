package models

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"
	"gorm.io/gorm"
)

// DeskSettings is the single row of desk-wide settings: how the widget looks,
// whether the desk is online, and the secret that signs visitor identities.
type DeskSettings struct {
	ID                    int16
	DeskName              string
	BrandColor            string
	Greeting              string
	OnlineMessage         string
	OfflineMessage        string
	Online                bool
	OnlineChangedAt       *time.Time
	OnlineChangedBy       *int64
	WidgetSecret          string
	RequireSignedIdentity bool
	AllowedOrigins        pq.StringArray `gorm:"type:text[]"`
	DemoEnabled           bool
	// AutoCloseAfterMinutes closes customer conversations idle this long
	// (nil: never); see AutoCloseIdle.
	AutoCloseAfterMinutes *int
	// TypingPreview lets agents see the customer's draft while they type
	// (off by default; see SetTypingPreview).
	TypingPreview bool
	// WaitingAmberMinutes and WaitingRedMinutes colour a customer's wait
	// (Waiting, SetWaitingThresholds).
	WaitingAmberMinutes int
	WaitingRedMinutes   int
	// File rules (FileLimits, SetFileLimits): the largest upload, the
	// categories allowed, files per message, retention in days (nil: for
	// ever).
	FileMaxBytes      int64
	FileTypes         pq.StringArray `gorm:"type:text[]"`
	FilesPerMessage   int
	FileRetentionDays *int
	// CustomerCalls lets customers start calls from the widget and the
	// full-page chat (off by default; SetCustomerCalls).
	CustomerCalls bool
	// The desk's service-level targets (LoadSLAPolicy).
	SlaFirstMinutes *int
	SlaNextMinutes  *int
	UpdatedAt       time.Time
}

// TableName maps DeskSettings to its table.
func (DeskSettings) TableName() string { return "desk_settings" }

// GetSettings returns the desk settings, creating the widget secret the first
// time it is needed.
func GetSettings(ctx context.Context, db *gorm.DB) (*DeskSettings, error) {
	var s DeskSettings
	if err := db.WithContext(ctx).Take(&s, 1).Error; err != nil {
		return nil, fmt.Errorf("load desk settings: %w", err)
	}
	if s.WidgetSecret == "" {
		secret := RandomToken(32)
		res := db.WithContext(ctx).Exec("UPDATE desk_settings SET widget_secret = ? WHERE id = 1 AND widget_secret = ''", secret)
		if res.Error != nil {
			return nil, fmt.Errorf("create widget secret: %w", res.Error)
		}
		if res.RowsAffected == 0 { // another request made it first
			return GetSettings(ctx, db)
		}
		s.WidgetSecret = secret
	}
	return &s, nil
}

// SettingsInput is what the admin settings form submits.
type SettingsInput struct {
	DeskName              string
	BrandColor            string
	Greeting              string
	OnlineMessage         string
	OfflineMessage        string
	RequireSignedIdentity bool
	AllowedOrigins        string // one origin per line (or separated by spaces/commas)
	DemoEnabled           bool
}

var colorRe = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// ParseOrigins turns the admin's list of sites into normalised origins
// (scheme://host[:port]); it reports the first entry that is not one. A
// site is http or https, a host name (letters, digits, hyphens, dots) or an
// IP address, and an optional port: no wildcard (origins are compared
// exactly, and go into the frame's CSP as they are), no path, query,
// fragment or user.
func ParseOrigins(text string) ([]string, string) {
	fields := strings.FieldsFunc(text, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' || r == ' ' || r == '\t' })
	seen := map[string]bool{}
	var out []string
	for _, f := range fields {
		u, err := url.Parse(f)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Opaque != "" || u.User != nil ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || !validOriginHost(u.Host) {
			return nil, f
		}
		o := strings.ToLower(u.Scheme + "://" + u.Host)
		if !seen[o] {
			seen[o] = true
			out = append(out, o)
		}
	}
	return out, ""
}

// hostLabels is a DNS host name: dot-separated labels of letters, digits
// and inner hyphens, each at most 63 characters.
var hostLabels = regexp.MustCompile(`^(?i)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$`)

// validOriginHost reports whether hostport (a URL's Host) is a host name,
// an IPv4 address or a bracketed IPv6 address, with an optional port from 1
// to 65535.
func validOriginHost(hostport string) bool {
	host, port := hostport, ""
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 && !strings.HasSuffix(hostport, "]") {
		host, port = hostport[:i], hostport[i+1:]
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || port[0] == '0' {
			return false
		}
	}
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		ip, err := netip.ParseAddr(host[1 : len(host)-1])
		return err == nil && ip.Is6() && ip.Zone() == ""
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return !strings.Contains(host, ":") // an IPv6 address needs its brackets
	}
	return len(host) <= 253 && hostLabels.MatchString(host)
}

// UpdateSettings validates and stores the settings form, and tells every open
// widget and desk (through the event log) so they update at once.
func UpdateSettings(ctx context.Context, t Tx, in SettingsInput) error {
	v := &ValidationError{}
	in.DeskName = strings.TrimSpace(in.DeskName)
	switch n := len([]rune(in.DeskName)); {
	case n == 0:
		v.Add("desk_name", "name_required", nil)
	case n > 80:
		v.Add("desk_name", "name_too_long", map[string]any{"Max": 80})
	}
	if !colorRe.MatchString(in.BrandColor) {
		v.Add("brand_color", "color_invalid", nil)
	}
	for field, text := range map[string]*string{"greeting": &in.Greeting, "online_message": &in.OnlineMessage, "offline_message": &in.OfflineMessage} {
		*text = strings.TrimSpace(*text)
		if len([]rune(*text)) > 500 {
			v.Add(field, "text_too_long", map[string]any{"Max": 500})
		}
	}
	origins, bad := ParseOrigins(in.AllowedOrigins)
	if bad != "" {
		v.Add("allowed_origins", "origin_invalid", map[string]any{"Value": bad})
	}
	if err := v.Err(); err != nil {
		return err
	}
	if origins == nil {
		origins = []string{} // NOT NULL: an empty list, not a nil array
	}
	return t.run(ctx, func(tx *gorm.DB) error {
		err := tx.Model(&DeskSettings{ID: 1}).Updates(map[string]any{
			"desk_name": in.DeskName, "brand_color": strings.ToLower(in.BrandColor), "greeting": in.Greeting,
			"online_message": in.OnlineMessage, "offline_message": in.OfflineMessage,
			"require_signed_identity": in.RequireSignedIdentity, "allowed_origins": pq.StringArray(origins),
			"demo_enabled": in.DemoEnabled, "updated_at": gorm.Expr("now()"),
		}).Error
		if err != nil {
			return fmt.Errorf("update settings: %w", err)
		}
		return appendEvent(t, Event{Data: SettingsEvent{}})
	})
}

// ErrNotAllowed is returned when the caller may not do what they asked
// (handlers answer 403).
var ErrNotAllowed = errors.New("not allowed")

// SetOnline flips the desk's online switch for the user userID, who must be
// allowed to (CanSwitchDesk), and records who switched it and when
// (RecentDeskStatusChanges). Every open widget hears of it.
func SetOnline(ctx context.Context, t Tx, userID int64, online bool) error {
	return t.run(ctx, func(tx *gorm.DB) error {
		var u User
		if err := tx.Take(&u, userID).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return ErrNotAllowed
			}
			return fmt.Errorf("set online: %w", err)
		}
		if !CanSwitchDesk(&u) {
			return ErrNotAllowed
		}
		res := tx.Exec("UPDATE desk_settings SET online = ?, online_changed_at = now(), online_changed_by = ? WHERE id = 1 AND online <> ?", online, userID, online)
		if res.Error != nil {
			return fmt.Errorf("set online: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return nil // already in that state: nothing to tell anyone
		}
		if err := tx.Exec("INSERT INTO desk_status_changes (user_id, user_name, online) VALUES (?, ?, ?)", u.ID, u.Name, online).Error; err != nil {
			return fmt.Errorf("record desk status change: %w", err)
		}
		return appendEvent(t, Event{UserID: &userID, Data: DeskStatusEvent{}})
	})
}

// DeskStatusChange is one switch of the desk online or offline.
type DeskStatusChange struct {
	ID        int64
	UserID    *int64
	UserName  string
	Online    bool // what it was set to
	CreatedAt time.Time
}

// RecentDeskStatusChanges lists the latest switches of the desk, newest
// first, at most limit.
func RecentDeskStatusChanges(ctx context.Context, db *gorm.DB, limit int) ([]DeskStatusChange, error) {
	var out []DeskStatusChange
	err := db.WithContext(ctx).Raw("SELECT * FROM desk_status_changes ORDER BY created_at DESC, id DESC LIMIT ?", limit).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("desk status changes: %w", err)
	}
	return out, nil
}

// RotateWidgetSecret replaces the identity secret; identities signed with the
// old one stop verifying.
func RotateWidgetSecret(ctx context.Context, db *gorm.DB) (string, error) {
	secret := RandomToken(32)
	err := db.WithContext(ctx).Exec("UPDATE desk_settings SET widget_secret = ?, updated_at = now() WHERE id = 1", secret).Error
	return secret, err
}
