package models_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/parleydesk/parley/internal/factory"
	"github.com/parleydesk/parley/models"
)

var (
	pngHead = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	pdfHead = []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
)

// Types come from the content; the name only has to agree with it.
func TestClassifyFile(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		head     []byte
		ctype    string
		category string
		mismatch bool
	}{
		{"screen.png", pngHead, "image/png", models.FileImage, false},
		{"screen", pngHead, "image/png", models.FileImage, false},
		{"guide.pdf", pdfHead, "application/pdf", models.FilePDF, false},
		{"notes.txt", []byte("hello\nworld"), "text/plain; charset=utf-8", models.FileText, false},
		{"server.log", []byte("2026-01-01 INFO started"), "text/plain; charset=utf-8", models.FileText, false},
		{"song.mp3", []byte("ID3\x03\x00\x00\x00"), "audio/mpeg", models.FileAudio, false},
		{"clip.webm", []byte("\x1a\x45\xdf\xa3\x01\x00\x00\x00\x00\x00\x00\x1fB\x86\x81\x01B\xf7\x81\x01B\xf2\x81\x04B\xf3\x81\x08B\x82\x84webm"), "video/webm", models.FileVideo, false},
		{"voice.weba", []byte("\x1a\x45\xdf\xa3\x01\x00\x00\x00\x00\x00\x00\x1fB\x86\x81\x01B\xf7\x81\x01B\xf2\x81\x04B\xf3\x81\x08B\x82\x84webm"), "audio/webm", models.FileAudio, false},
		{"logs.zip", []byte("PK\x03\x04\x14\x00"), "application/zip", models.FileArchive, false},
		{"report.docx", []byte("PK\x03\x04\x14\x00"), "application/vnd.openxmlformats-officedocument.wordprocessingml.document", models.FileDocument, false},
		// HTML and SVG are never shown: "other", a plain download.
		{"page.html", []byte("<!DOCTYPE html><script>x</script>"), "application/octet-stream", models.FileOther, false},
		{"logo.svg", []byte("<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"/>"), "application/octet-stream", models.FileOther, false},
		// Contradictions.
		{"photo.png", pdfHead, "", "", true},
		{"notes.txt", []byte("<html><body><script>x</script>"), "", "", true},
		{"notes.txt", []byte("\x00\x01\x02binary"), "", "", true},
		{"guide.pdf", []byte("just text"), "", "", true},
		{"image.jpg", []byte("MZ\x90\x00executable"), "", "", true},
	} {
		ctype, category, err := models.ClassifyFile(c.name, c.head)
		if c.mismatch {
			require.Error(t, err, c.name)
			assert.Equal(t, "file_type_mismatch", fieldCode(t, err, "file"), c.name)
			continue
		}
		require.NoError(t, err, c.name)
		assert.Equal(t, c.ctype, ctype, c.name)
		assert.Equal(t, c.category, category, c.name)
	}
}

func TestCleanFileName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"report.pdf":                   "report.pdf",
		`C:\Users\ana\Desktop\a b.png`: "a b.png",
		"../../etc/passwd":             "passwd",
		"evil\u202egnp.exe":            "evilgnp.exe",
		"  spaced.txt \n":              "spaced.txt",
	} {
		got, err := models.CleanFileName(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "  ", "..", "dir/"} {
		_, err := models.CleanFileName(in)
		assert.Equal(t, "file_name_missing", fieldCode(t, err, "file"), in)
	}
}

// upload records a pending upload as the handler does after storing it.
func upload(t *testing.T, db *gorm.DB, actor models.Actor, conv *models.Conversation, name string) *models.File {
	t.Helper()
	sum := sha256.Sum256([]byte(name))
	f, err := models.RecordUpload(context.Background(), db, actor, conv, models.UploadInput{
		Key: fmt.Sprintf("f/%s/%s", hex.EncodeToString(sum[:1]), hex.EncodeToString(sum[:16])), Name: name,
		ContentType: "image/png", Category: models.FileImage, Size: 10, SHA256: hex.EncodeToString(sum[:]),
	})
	require.NoError(t, err)
	return f
}

func post(t *testing.T, db *gorm.DB, actor models.Actor, conv *models.Conversation, kind, body string, opts models.PostOpts) (*models.Message, error) {
	t.Helper()
	return factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.PostMessageWithOpts(context.Background(), tx, actor, conv, kind, body, opts)
	})
}

// Posting with files: only the author's pending uploads in that
// conversation, at most the desk's files per message, text optional; a
// refused post attaches nothing.
func TestPostMessageWithFiles(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	agent := factory.User(t, db, factory.UserOpts{CustomerSupport: true})
	v, cust := mkCustomer(t, db)
	_, other := mkCustomer(t, db)
	conv, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartCustomerConversation(ctx, tx, cust, "Hello", models.SessionInfo{})
	})
	require.NoError(t, err)
	me, them := models.Actor{Customer: cust}, models.Actor{User: agent}

	a := upload(t, db, me, conv, "a.png")
	b := upload(t, db, me, conv, "b.png")
	theirs := upload(t, db, them, conv, "theirs.png")
	_, err = models.RecordUpload(ctx, db, models.Actor{Customer: other}, conv, models.UploadInput{})
	require.ErrorIs(t, err, models.ErrNotFound, "another customer's conversation")

	_, err = post(t, db, me, conv, models.MessageText, "", models.PostOpts{Files: []string{a.PublicID, theirs.PublicID}})
	assert.Equal(t, "files_unknown", fieldCode(t, err, "files"), "someone else's upload")
	_, err = post(t, db, me, conv, models.MessageText, "", models.PostOpts{Files: []string{"not-a-uuid"}})
	assert.Equal(t, "files_unknown", fieldCode(t, err, "files"))
	require.NoError(t, factory.Write(db, func(tx models.Tx) error {
		return models.SetFileLimits(ctx, tx, models.FileLimitsInput{MaxMB: "25", Types: []string{"image"}, PerMessage: "1"})
	}))
	_, err = post(t, db, me, conv, models.MessageText, "two", models.PostOpts{Files: []string{a.PublicID, b.PublicID}})
	assert.Equal(t, "files_too_many", fieldCode(t, err, "files"))
	require.NoError(t, factory.Write(db, func(tx models.Tx) error {
		return models.SetFileLimits(ctx, tx, models.FileLimitsInput{MaxMB: "25", Types: []string{"image"}, PerMessage: "5"})
	}))

	m, err := post(t, db, me, conv, models.MessageText, "", models.PostOpts{Files: []string{a.PublicID, b.PublicID}})
	require.NoError(t, err)
	assert.Len(t, m.Files, 2)
	require.NoError(t, db.Take(conv, conv.ID).Error)
	assert.Equal(t, "📎 a.png, b.png", conv.LastMessagePreview)
	// Sent once: not again.
	_, err = post(t, db, me, conv, models.MessageText, "again", models.PostOpts{Files: []string{a.PublicID}})
	assert.Equal(t, "files_unknown", fieldCode(t, err, "files"))
	_, err = post(t, db, me, conv, models.MessageText, "", models.PostOpts{})
	assert.Equal(t, "message_empty", fieldCode(t, err, "body"), "no text and no file")

	page, err := models.ListMessagesBefore(ctx, db, conv, true, 0, 10)
	require.NoError(t, err)
	last := page.Messages[len(page.Messages)-1]
	assert.Len(t, last.Files, 2)
	f, err := models.FindFileForVisitor(ctx, db, v, a.PublicID)
	require.NoError(t, err)
	assert.Equal(t, a.ID, f.ID)
}

// Deleting a message, retention, abandoned uploads and a customer's
// erasure remove files with one files_removed event each (which inserts
// the delete_files job in the same transaction).
func TestFilesRemoved(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	agent := factory.User(t, db, factory.UserOpts{CustomerSupport: true})
	v, cust := mkCustomer(t, db)
	conv, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartCustomerConversation(ctx, tx, cust, "Hello", models.SessionInfo{})
	})
	require.NoError(t, err)
	me := models.Actor{User: agent}
	f := upload(t, db, me, conv, "guide.png")
	m, err := post(t, db, me, conv, models.MessageText, "the guide", models.PostOpts{Files: []string{f.PublicID}})
	require.NoError(t, err)
	_, err = models.FindFileForVisitor(ctx, db, v, f.PublicID)
	require.NoError(t, err)
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.DeleteMessage(ctx, tx, agent, conv, m.ID)
	})
	require.NoError(t, err)
	_, err = models.FindFileForVisitor(ctx, db, v, f.PublicID)
	assert.ErrorIs(t, err, models.ErrNotFound)
	assert.EqualValues(t, 1, countEvents(t, db, models.EventFilesRemoved))
	purge, err := models.FilesToPurge(ctx, db, []int64{f.ID}, 10)
	require.NoError(t, err)
	require.Len(t, purge, 1)

	// An upload nobody sent is swept after a day; retention removes old
	// files; erasure removes the customer's.
	pending := upload(t, db, me, conv, "pending.png")
	old := upload(t, db, me, conv, "old.png")
	_, err = post(t, db, me, conv, models.MessageText, "old", models.PostOpts{Files: []string{old.PublicID}})
	require.NoError(t, err)
	require.NoError(t, db.Exec(`UPDATE files SET created_at = now() - interval '40 days' WHERE id IN (?, ?)`, pending.ID, old.ID).Error)
	n, err := factory.Write1(db, func(tx models.Tx) (int, error) { return models.ExpireFiles(ctx, tx, time.Now(), 100) })
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the abandoned upload only: no retention set")
	require.NoError(t, factory.Write(db, func(tx models.Tx) error {
		return models.SetFileLimits(ctx, tx, models.FileLimitsInput{MaxMB: "25", Types: []string{"image"}, PerMessage: "5", RetentionDays: "30"})
	}))
	n, err = factory.Write1(db, func(tx models.Tx) (int, error) { return models.ExpireFiles(ctx, tx, time.Now(), 100) })
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the 40-day-old file")

	recent := upload(t, db, models.Actor{Customer: cust}, conv, "mine.png")
	n, err = factory.Write1(db, func(tx models.Tx) (int, error) { return models.EraseCustomerFiles(ctx, tx, cust.ID) })
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	_, err = models.FindFileForVisitor(ctx, db, v, recent.PublicID)
	assert.ErrorIs(t, err, models.ErrNotFound)
	use, err := models.DeskStorageUse(ctx, db)
	require.NoError(t, err)
	assert.Zero(t, use.Files)
	assert.EqualValues(t, 4, use.PendingPurge)
}

// CanSeeFile and Visitor.SeesFile agree with their SQL forms (the lookups
// downloads use) for every viewer and every kind of file: pending (only
// its uploader), of a message, a note, a private message (its author and
// recipients), a deleted message, a removed file, another customer's, a
// teammate chat's.
func TestFileAccessGoAndSQLAgree(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	ana := factory.User(t, db, factory.UserOpts{CustomerSupport: true})
	bob := factory.User(t, db, factory.UserOpts{CustomerSupport: true})
	carl := factory.User(t, db, factory.UserOpts{}) // no customer data
	gone := factory.User(t, db, factory.UserOpts{CustomerSupport: true})
	vA, custA := mkCustomer(t, db)
	vB, custB := mkCustomer(t, db)
	convA, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartCustomerConversation(ctx, tx, custA, "Hello", models.SessionInfo{})
	})
	require.NoError(t, err)
	convB, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartCustomerConversation(ctx, tx, custB, "Hi", models.SessionInfo{})
	})
	require.NoError(t, err)
	internal, _, err := factory.Write2(db, func(tx models.Tx) (*models.Conversation, *models.Message, error) {
		return models.StartInternalConversation(ctx, tx, carl, []int64{ana.ID}, "team chat")
	})
	require.NoError(t, err)
	scoped := &models.Visitor{CustomerID: custA.ID, ConversationID: &convB.ID}

	send := func(actor models.Actor, conv *models.Conversation, kind string, to []int64) *models.File {
		f := upload(t, db, actor, conv, fmt.Sprintf("%s-%d.png", kind, time.Now().UnixNano()))
		_, err := post(t, db, actor, conv, kind, "with a file", models.PostOpts{Files: []string{f.PublicID}, To: to})
		require.NoError(t, err)
		require.NoError(t, db.Take(f, f.ID).Error)
		return f
	}
	// Bob writes in A, so Ana may write to him privately.
	_, err = post(t, db, models.Actor{User: bob}, convA, models.MessageNote, "bob here", models.PostOpts{})
	require.NoError(t, err)
	files := []*models.File{
		upload(t, db, models.Actor{User: ana}, convA, "pending-ana.png"),
		upload(t, db, models.Actor{Customer: custA}, convA, "pending-custA.png"),
		send(models.Actor{User: ana}, convA, models.MessageText, nil),
		send(models.Actor{Customer: custA}, convA, models.MessageText, nil),
		send(models.Actor{User: ana}, convA, models.MessageNote, nil),
		send(models.Actor{User: ana}, convA, models.MessagePrivate, []int64{bob.ID}),
		send(models.Actor{Customer: custB}, convB, models.MessageText, nil),
		send(models.Actor{User: carl}, internal, models.MessageText, nil),
	}
	deleted := send(models.Actor{User: ana}, convA, models.MessageText, nil)
	_, err = factory.Write1(db, func(tx models.Tx) (*models.Message, error) {
		return models.DeleteMessage(ctx, tx, ana, convA, *deleted.MessageID)
	})
	require.NoError(t, err)
	removed := upload(t, db, models.Actor{User: bob}, convA, "removed.png")
	require.NoError(t, factory.Write(db, func(tx models.Tx) error {
		return models.DiscardUpload(ctx, tx, models.Actor{User: bob}, convA, removed.PublicID)
	}))
	files = append(files, deleted, removed)
	require.NoError(t, db.Exec(`UPDATE users SET active = false, deactivated_at = now() WHERE id = ?`, gone.ID).Error)
	gone.Active = false

	load := func(f *models.File) (*models.File, *models.Message, *models.Conversation) {
		var fresh models.File
		require.NoError(t, db.Take(&fresh, f.ID).Error)
		var conv models.Conversation
		require.NoError(t, db.Take(&conv, fresh.ConversationID).Error)
		var m *models.Message
		if fresh.MessageID != nil {
			m, err = models.FindMessage(ctx, db, &conv, *fresh.MessageID)
			require.NoError(t, err)
		}
		return &fresh, m, &conv
	}
	member := func(u *models.User, conv *models.Conversation) bool {
		var n int64
		require.NoError(t, db.Raw(`SELECT count(*) FROM conversation_users WHERE conversation_id = ? AND user_id = ? AND member`, conv.ID, u.ID).Scan(&n).Error)
		return n > 0
	}
	seen := map[string]int{}
	for _, file := range files {
		f, m, conv := load(file)
		for _, u := range []*models.User{ana, bob, carl, gone} {
			goSays := models.CanSeeFile(u, f, m, conv, member(u, conv))
			_, err := models.FindFileForUser(ctx, db, u, f.PublicID)
			require.True(t, err == nil || errors.Is(err, models.ErrNotFound), err)
			assert.Equal(t, goSays, err == nil, "user %s, file %s", u.Email, f.Name)
			if goSays {
				seen["user"]++
			}
		}
		for i, v := range []*models.Visitor{vA, vB, scoped} {
			goSays := v.SeesFile(f, m, conv)
			_, err := models.FindFileForVisitor(ctx, db, v, f.PublicID)
			require.True(t, err == nil || errors.Is(err, models.ErrNotFound), err)
			assert.Equal(t, goSays, err == nil, "visitor %d, file %s", i, f.Name)
			if goSays {
				seen["visitor"]++
			}
		}
	}
	// The population is not trivially closed: some files are seen.
	assert.Positive(t, seen["user"])
	assert.Positive(t, seen["visitor"])
	// And the rules themselves: a customer never sees a note's or a private
	// message's file; a private message's file only its author and recipient.
	note, _, noteConv := load(files[4])
	assert.False(t, vA.SeesFile(note, nil, noteConv))
	priv, pm, privConv := load(files[5])
	assert.True(t, models.CanSeeFile(bob, priv, pm, privConv, false))
	assert.False(t, models.CanSeeFile(carl, priv, pm, privConv, false))
}
