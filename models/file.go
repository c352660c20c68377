package models

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// File is a file sent in a conversation (issue 14). Its bytes are in the
// configured storage under StorageKey (package storage); this row records
// what it is, who sent it and with which message. It is pending
// (MessageID nil) from its upload until its uploader posts the message it
// goes with (PostOpts.Files).
type File struct {
	ID                 int64
	PublicID           string `gorm:"->"`
	ConversationID     int64
	MessageID          *int64
	UploaderUserID     *int64
	UploaderCustomerID *int64
	StorageKey         string
	Name               string
	ContentType        string
	Category           string
	Size               int64
	SHA256             string `gorm:"column:sha256"`
	CreatedAt          time.Time
	// DeletedAt: removed (its message deleted, retention, an abandoned
	// upload, the customer's erasure); nobody may download it and the
	// delete_files job removes its bytes (PurgedAt).
	DeletedAt *time.Time
	PurgedAt  *time.Time
}

// TableName maps File to its table.
func (File) TableName() string { return "files" }

// Inline reports whether f is shown in the thread (thumbnail or player)
// and may be served inline.
func (f *File) Inline() bool { return InlineSafe(f.ContentType) }

// Limits of the admin setting.
const (
	MinFileBytes         = 1 << 10
	MaxFileBytes         = 1 << 30
	MaxFilesPerMessage   = 20
	MaxFileRetentionDays = 36500
	// MaxPendingFiles caps the uploads one author keeps unsent in one
	// conversation (an abandoned one is swept after PendingFileTTL).
	MaxPendingFiles = 40
	// PendingFileTTL is how long an upload waits for its message.
	PendingFileTTL = 24 * time.Hour
)

// FileLimits are the desk's rules for uploads (Admin → Conversations).
type FileLimits struct {
	MaxBytes      int64
	Types         []string
	PerMessage    int
	RetentionDays *int
}

// FileLimits are s's upload rules.
func (s *DeskSettings) FileLimits() FileLimits {
	return FileLimits{MaxBytes: s.FileMaxBytes, Types: s.FileTypes, PerMessage: s.FilesPerMessage, RetentionDays: s.FileRetentionDays}
}

// Allows reports whether files of category are accepted.
func (l FileLimits) Allows(category string) bool { return slices.Contains(l.Types, category) }

// CheckSize refuses a declared upload size over the limit (file_too_large,
// naming it) or an empty file, before anything is read.
func (l FileLimits) CheckSize(size int64) error {
	switch {
	case size == 0:
		return Invalid("file", "file_empty", nil)
	case size > l.MaxBytes:
		return Invalid("file", "file_too_large", map[string]any{"Max": FormatBytes(l.MaxBytes), "Size": FormatBytes(size)})
	}
	return nil
}

// CheckType refuses a category the desk does not allow, naming those it
// does.
func (l FileLimits) CheckType(category string) error {
	if l.Allows(category) {
		return nil
	}
	return Invalid("file", "file_type_not_allowed", map[string]any{"Type": category, "Allowed": strings.Join(l.Types, ", ")})
}

// FileLimitsInput is the admin form's fields, as typed.
type FileLimitsInput struct {
	MaxMB         string
	Types         []string
	PerMessage    string
	RetentionDays string // empty: keep for ever
}

// SetFileLimits stores the desk's file rules: the largest file in MB (1 to
// 1024), the allowed categories (at least one of FileCategories), files per
// message (1 to 20) and the retention in days (empty for ever, else 1 to
// 36500). A bad field is a ValidationError; nothing is stored then. It
// records a settings event: every instance drops the limits it keeps
// (what composers show after a post) when it hears of it.
func SetFileLimits(ctx context.Context, t Tx, in FileLimitsInput) error {
	verr := &ValidationError{}
	mb, err := strconv.ParseFloat(strings.TrimSpace(in.MaxMB), 64)
	maxBytes := int64(mb * (1 << 20))
	if err != nil || maxBytes < MinFileBytes || maxBytes > MaxFileBytes {
		verr.Add("file_max_mb", "file_max_range", map[string]any{"Max": MaxFileBytes >> 20})
	}
	var types []string
	for _, c := range FileCategories {
		if slices.Contains(in.Types, c) {
			types = append(types, c)
		}
	}
	for _, t := range in.Types {
		if !slices.Contains(FileCategories, t) {
			verr.Add("file_types", "file_types_invalid", nil)
			break
		}
	}
	if len(types) == 0 {
		verr.Add("file_types", "file_types_none", nil)
	}
	per, err := strconv.Atoi(strings.TrimSpace(in.PerMessage))
	if err != nil || per < 1 || per > MaxFilesPerMessage {
		verr.Add("files_per_message", "files_per_message_range", map[string]any{"Max": MaxFilesPerMessage})
	}
	var retention *int
	if s := strings.TrimSpace(in.RetentionDays); s != "" {
		d, err := strconv.Atoi(s)
		if err != nil || d < 1 || d > MaxFileRetentionDays {
			verr.Add("file_retention_days", "file_retention_range", map[string]any{"Max": MaxFileRetentionDays})
		}
		retention = &d
	}
	if len(verr.Errors) > 0 {
		return verr
	}
	return t.run(ctx, func(tx *gorm.DB) error {
		err := tx.Exec(`UPDATE desk_settings SET file_max_bytes = ?, file_types = ?, files_per_message = ?,
			file_retention_days = ?, updated_at = now() WHERE id = 1`, maxBytes, pq.StringArray(types), per, retention).Error
		if err != nil {
			return fmt.Errorf("set file limits: %w", err)
		}
		return appendEvent(t, Event{Data: SettingsEvent{}})
	})
}

// UploadInput is a stored upload to record: the bytes are in storage
// already, under Key.
type UploadInput struct {
	Key, Name, ContentType, Category, SHA256 string
	Size                                     int64
}

// RecordUpload records a pending upload by actor in conv (which the caller
// found for actor). It records no event: nobody else sees a file until its
// message is posted. More than MaxPendingFiles unsent uploads by one author
// in one conversation is a ValidationError.
func RecordUpload(ctx context.Context, db *gorm.DB, actor Actor, conv *Conversation, in UploadInput) (*File, error) {
	f := &File{ConversationID: conv.ID, StorageKey: in.Key, Name: in.Name, ContentType: in.ContentType,
		Category: in.Category, Size: in.Size, SHA256: in.SHA256}
	switch {
	case actor.User != nil:
		f.UploaderUserID = &actor.User.ID
	case actor.Customer != nil && conv.CustomerID != nil && *conv.CustomerID == actor.Customer.ID && conv.Kind == KindCustomer:
		f.UploaderCustomerID = &actor.Customer.ID
	default:
		return nil, ErrNotFound
	}
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Serialise one author's uploads in a conversation so the cap holds.
		lock := fmt.Sprintf("upload:%d:%d:%d", conv.ID, ptrOr(f.UploaderUserID), ptrOr(f.UploaderCustomerID))
		if err := tx.Exec(`SELECT pg_advisory_xact_lock(hashtextextended(?, 0))`, lock).Error; err != nil {
			return err
		}
		var n int64
		if err := tx.Model(&File{}).Where(`conversation_id = ? AND message_id IS NULL AND deleted_at IS NULL
			AND uploader_user_id IS NOT DISTINCT FROM ? AND uploader_customer_id IS NOT DISTINCT FROM ?`,
			conv.ID, f.UploaderUserID, f.UploaderCustomerID).Count(&n).Error; err != nil {
			return err
		}
		if n >= MaxPendingFiles {
			return Invalid("file", "file_too_many_pending", map[string]any{"Max": MaxPendingFiles})
		}
		return tx.Omit("PublicID").Create(f).Error
	})
	if err != nil {
		return nil, wrapUnlessDomain(err, "record upload in conversation %d", conv.ID)
	}
	if err := db.WithContext(ctx).Select("public_id", "created_at").Take(f, f.ID).Error; err != nil {
		return nil, fmt.Errorf("record upload: %w", err)
	}
	return f, nil
}

func ptrOr(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// lockPendingFiles locks the pending uploads named by publicIDs: each must be
// actor's, in conv, pending and not removed, and there may be at most the
// desk's files per message; otherwise it is a ValidationError on "files"
// and the caller's transaction stores nothing. PostMessageWithOpts calls it
// inside its transaction, after the conversation lock, then attachFiles.
func lockPendingFiles(tx *gorm.DB, actor Actor, conv *Conversation, publicIDs []string) ([]File, error) {
	if len(publicIDs) == 0 {
		return nil, nil
	}
	var per int
	if err := tx.Raw(`SELECT files_per_message FROM desk_settings WHERE id = 1`).Scan(&per).Error; err != nil {
		return nil, err
	}
	ids := slices.Compact(slices.Sorted(slices.Values(publicIDs)))
	if len(ids) > per {
		return nil, Invalid("files", "files_too_many", map[string]any{"Max": per})
	}
	for _, id := range ids {
		if !validPublicID(id) {
			return nil, Invalid("files", "files_unknown", nil)
		}
	}
	q := tx.Clauses(clause.Locking{Strength: "UPDATE"}).
		Where("public_id IN ? AND conversation_id = ? AND message_id IS NULL AND deleted_at IS NULL", ids, conv.ID)
	if actor.User != nil {
		q = q.Where("uploader_user_id = ?", actor.User.ID)
	} else {
		q = q.Where("uploader_customer_id = ?", actor.Customer.ID)
	}
	var fs []File
	if err := q.Order("id").Find(&fs).Error; err != nil {
		return nil, err
	}
	if len(fs) != len(ids) {
		return nil, Invalid("files", "files_unknown", nil)
	}
	return fs, nil
}

// attachFiles links fs (locked by lockPendingFiles) to m, and gives a
// reply without text a preview naming its files.
func attachFiles(tx *gorm.DB, conv *Conversation, m *Message, fs []File) error {
	if len(fs) == 0 {
		return nil
	}
	ids := make([]int64, len(fs))
	names := make([]string, len(fs))
	for i := range fs {
		ids[i], names[i] = fs[i].ID, fs[i].Name
		fs[i].MessageID = &m.ID
	}
	if err := tx.Exec(`UPDATE files SET message_id = ? WHERE id IN ?`, m.ID, ids).Error; err != nil {
		return err
	}
	m.Files = fs
	if m.Body == "" && m.Kind == MessageText {
		p := preview("📎 " + strings.Join(names, ", "))
		if err := tx.Exec(`UPDATE conversations SET last_message_preview = ? WHERE id = ? AND last_message_id = ?`, p, conv.ID, m.ID).Error; err != nil {
			return err
		}
		conv.LastMessagePreview = p
	}
	return nil
}

// loadFiles fills Files of ms (one query): the files each message carries,
// removed ones included (threads say "removed").
func loadFiles(ctx context.Context, db *gorm.DB, ms []*Message) error {
	if len(ms) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(ms))
	byID := make(map[int64]*Message, len(ms))
	for _, m := range ms {
		m.Files = nil
		if m.HasFiles {
			ids = append(ids, m.ID)
			byID[m.ID] = m
		}
	}
	// Most pages and stream batches carry no file: no query then.
	if len(ids) == 0 {
		return nil
	}
	var fs []File
	if err := db.WithContext(ctx).Where("message_id IN ?", ids).Order("message_id, id").Find(&fs).Error; err != nil {
		return fmt.Errorf("load files: %w", err)
	}
	for _, f := range fs {
		if m := byID[*f.MessageID]; m != nil {
			m.Files = append(m.Files, f)
		}
	}
	return nil
}

// FindFileForUser returns the file publicID as the staff user u may
// download it (CanSeeFile, in its SQL form), with its message; anything
// else, removed files included, is ErrNotFound.
func FindFileForUser(ctx context.Context, db *gorm.DB, u *User, publicID string) (*File, error) {
	if u == nil || !u.Active || !validPublicID(publicID) {
		return nil, ErrNotFound
	}
	args := userArgs(u)
	args["pid"] = publicID
	return findFile(ctx, db, `f.public_id = @pid AND `+userSeesFileSQL("f", "m", "c"), args)
}

// FindFileForVisitor returns the file publicID as visitor v may download
// it (Visitor.SeesFile, in its SQL form); anything else is ErrNotFound.
func FindFileForVisitor(ctx context.Context, db *gorm.DB, v *Visitor, publicID string) (*File, error) {
	if v == nil || !validPublicID(publicID) {
		return nil, ErrNotFound
	}
	args := visitorArgs(v)
	args["pid"] = publicID
	args["customer_events"] = customerEvents
	return findFile(ctx, db, `f.public_id = @pid AND `+visitorSeesFileSQL("f", "m", "c"), args)
}

func findFile(ctx context.Context, db *gorm.DB, where string, args map[string]any) (*File, error) {
	var f File
	err := db.WithContext(ctx).Raw(`SELECT f.* FROM files f JOIN conversations c ON c.id = f.conversation_id
		LEFT JOIN messages m ON m.id = f.message_id WHERE `+where+` LIMIT 1`, args).Scan(&f).Error
	if err != nil {
		return nil, fmt.Errorf("find file: %w", err)
	}
	if f.ID == 0 {
		return nil, ErrNotFound
	}
	return &f, nil
}

// FilesRemovedEvent says files were removed (FileIDs): their bytes are to
// be deleted from storage (jobs.FollowUps inserts a delete_files job in
// the same transaction). No stream renders it.
type FilesRemovedEvent struct {
	FileIDs []int64 `json:"file_ids"`
}

// Kind is EventFilesRemoved.
func (FilesRemovedEvent) Kind() string { return EventFilesRemoved }

// EventFilesRemoved: files were removed; their bytes follow (FilesRemovedEvent).
const EventFilesRemoved = "files_removed"

// removeFiles marks the live files matching where as removed and records
// one FilesRemovedEvent naming them (none if there were none).
func removeFiles(t Tx, where string, args ...any) (int, error) {
	var ids []int64
	err := t.db.Raw(`UPDATE files SET deleted_at = now() WHERE deleted_at IS NULL AND (`+where+`) RETURNING id`, args...).Scan(&ids).Error
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	slices.Sort(ids)
	return len(ids), appendEvent(t, Event{Data: FilesRemovedEvent{FileIDs: ids}})
}

// ExpireFiles removes, in batches of at most limit, uploads never sent
// within PendingFileTTL and, with a retention setting, files older than
// it; their bytes follow through the delete_files job. It returns how many
// it removed.
func ExpireFiles(ctx context.Context, t Tx, now time.Time, limit int) (int, error) {
	n := 0
	err := t.run(ctx, func(tx *gorm.DB) error {
		var retention *int
		if err := tx.Raw(`SELECT file_retention_days FROM desk_settings WHERE id = 1`).Scan(&retention).Error; err != nil {
			return err
		}
		var err error
		n, err = removeFiles(t, `id IN (SELECT id FROM files WHERE message_id IS NULL AND deleted_at IS NULL AND created_at < ? ORDER BY created_at LIMIT ?)`,
			now.Add(-PendingFileTTL), limit)
		if err != nil || retention == nil {
			return err
		}
		m, err := removeFiles(t, `id IN (SELECT id FROM files WHERE deleted_at IS NULL AND created_at < ? ORDER BY created_at LIMIT ?)`,
			now.AddDate(0, 0, -*retention), limit)
		n += m
		return err
	})
	return n, wrapUnlessDomain(err, "expire files")
}

// EraseCustomerFiles removes every file of the customer's conversations
// (what they sent and what they were sent), for an erasure on request; the
// bytes follow through the delete_files job.
func EraseCustomerFiles(ctx context.Context, t Tx, customerID int64) (int, error) {
	n := 0
	err := t.run(ctx, func(tx *gorm.DB) error {
		var err error
		n, err = removeFiles(t, `conversation_id IN (SELECT id FROM conversations WHERE customer_id = ?) OR uploader_customer_id = ?`, customerID, customerID)
		return err
	})
	return n, wrapUnlessDomain(err, "erase files of customer %d", customerID)
}

// DiscardUpload removes a pending upload of actor's (the composer's ×).
func DiscardUpload(ctx context.Context, t Tx, actor Actor, conv *Conversation, publicID string) error {
	if !validPublicID(publicID) {
		return ErrNotFound
	}
	return t.run(ctx, func(tx *gorm.DB) error {
		where := `public_id = ? AND conversation_id = ? AND message_id IS NULL AND `
		var who int64
		if actor.User != nil {
			where, who = where+"uploader_user_id = ?", actor.User.ID
		} else {
			where, who = where+"uploader_customer_id = ?", actor.Customer.ID
		}
		n, err := removeFiles(t, where, publicID, conv.ID, who)
		if err == nil && n == 0 {
			return ErrNotFound
		}
		return err
	})
}

// FilesToPurge returns the storage keys of removed files among ids (all
// removed files if ids is empty, at most limit) whose bytes are still
// stored.
func FilesToPurge(ctx context.Context, db *gorm.DB, ids []int64, limit int) ([]File, error) {
	q := db.WithContext(ctx).Where("deleted_at IS NOT NULL AND purged_at IS NULL")
	if len(ids) > 0 {
		q = q.Where("id IN ?", ids)
	}
	var fs []File
	if err := q.Order("id").Limit(limit).Find(&fs).Error; err != nil {
		return nil, fmt.Errorf("files to purge: %w", err)
	}
	return fs, nil
}

// MarkPurged records that the bytes of file id are gone from storage.
func MarkPurged(ctx context.Context, db *gorm.DB, id int64) error {
	return db.WithContext(ctx).Exec(`UPDATE files SET purged_at = now() WHERE id = ? AND deleted_at IS NOT NULL`, id).Error
}

// StorageUse is what the desk's files take: live files (count and bytes)
// and removed ones whose bytes are still being deleted.
type StorageUse struct {
	Files        int64
	Bytes        int64
	PendingPurge int64
}

// DeskStorageUse sums the desk's files for the admin page.
func DeskStorageUse(ctx context.Context, db *gorm.DB) (StorageUse, error) {
	var u StorageUse
	err := db.WithContext(ctx).Raw(`SELECT count(*) FILTER (WHERE deleted_at IS NULL) AS files,
		COALESCE(sum(size) FILTER (WHERE deleted_at IS NULL), 0) AS bytes,
		count(*) FILTER (WHERE deleted_at IS NOT NULL AND purged_at IS NULL) AS pending_purge FROM files`).Scan(&u).Error
	if err != nil {
		return u, fmt.Errorf("storage use: %w", err)
	}
	return u, nil
}

// SysFileRefused is the desk-only status line saying an upload was refused
// by the virus scan (data: by, name, reason); the customer was told in the
// widget, the agents learn it here.
const SysFileRefused = "file_refused"

// RecordRefusedUpload writes SysFileRefused for a customer's upload the
// scanner refused; nothing of the file is stored.
func RecordRefusedUpload(ctx context.Context, t Tx, actor Actor, conv *Conversation, name, reason string) error {
	if actor.Customer == nil {
		return errors.New("record refused upload: customers only")
	}
	return t.run(ctx, func(tx *gorm.DB) error {
		_, err := insertSystemLine(t, conv, SysFileRefused, JSONMap{"by": actorName(actor), "name": name, "reason": reason})
		return err
	})
}

// PendingFiles returns those of publicIDs that are actor's pending uploads
// in conv (a rejected message's composer shows them again).
func PendingFiles(ctx context.Context, db *gorm.DB, actor Actor, conv *Conversation, publicIDs []string) ([]File, error) {
	var ids []string
	for _, id := range publicIDs {
		if validPublicID(id) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	q := db.WithContext(ctx).Where("public_id IN ? AND conversation_id = ? AND message_id IS NULL AND deleted_at IS NULL", ids, conv.ID)
	if actor.User != nil {
		q = q.Where("uploader_user_id = ?", actor.User.ID)
	} else if actor.Customer != nil {
		q = q.Where("uploader_customer_id = ?", actor.Customer.ID)
	} else {
		return nil, nil
	}
	var fs []File
	if err := q.Order("id").Find(&fs).Error; err != nil {
		return nil, fmt.Errorf("pending files: %w", err)
	}
	return fs, nil
}
