package models

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// FileLinkTTL is how long a file's download link works. Threads are signed
// afresh whenever they are shown (pages, live appends), so a link copied
// out of a page stops working after a day.
const FileLinkTTL = 24 * time.Hour

// FileLinkSecret returns the server-only key that signs download links
// (the link secret chat and transcript links use, under its own prefix).
func FileLinkSecret(ctx context.Context, db *gorm.DB) ([]byte, error) { return linkSecret(ctx, db) }

// FileViewerUser and FileViewerVisitor name a link's viewer.
func FileViewerUser(u *User) string       { return "u" + strconv.FormatInt(u.ID, 10) }
func FileViewerVisitor(v *Visitor) string { return "v" + strconv.FormatInt(v.ID, 10) }

// SignFileLink returns the token of file publicID's link for viewer
// (FileViewerUser, FileViewerVisitor) until expires:
// "<viewer>.<unix expiry>.<HMAC-SHA256>". A download is a plain GET (an
// <img>, a link): it cannot carry the visitor's header, and the visitor's
// token never goes into a URL, so the link names its viewer and is checked
// against what that viewer may see when it is used (OpenFileLink).
func SignFileLink(secret []byte, publicID, viewer string, expires time.Time) string {
	payload := viewer + "." + strconv.FormatInt(expires.Unix(), 10)
	return payload + "." + signLink(secret, "file:"+publicID+":"+payload)
}

// OpenFileLink checks a download token for file publicID and returns the
// file as its viewer may download it now (FindFileForUser,
// FindFileForVisitor). A forged, altered or expired token, one for another
// file, a viewer gone (deactivated user, deleted visitor) or no longer
// allowed, and a removed file are all ErrNotFound.
func OpenFileLink(ctx context.Context, db *gorm.DB, secret []byte, publicID, token string, now time.Time) (*File, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || len(token) > 200 || len(parts[0]) < 2 || !validPublicID(publicID) {
		return nil, ErrNotFound
	}
	payload := parts[0] + "." + parts[1]
	if !hmac.Equal([]byte(parts[2]), []byte(signLink(secret, "file:"+publicID+":"+payload))) {
		return nil, ErrNotFound
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || now.Unix() > exp {
		return nil, ErrNotFound
	}
	id, err := strconv.ParseInt(parts[0][1:], 10, 64)
	if err != nil {
		return nil, ErrNotFound
	}
	switch parts[0][0] {
	case 'u':
		var u User
		if err := db.WithContext(ctx).Take(&u, id).Error; err != nil {
			return nil, notFoundOr(err, "file link user")
		}
		return FindFileForUser(ctx, db, &u, publicID)
	case 'v':
		var v Visitor
		if err := db.WithContext(ctx).Take(&v, id).Error; err != nil {
			return nil, notFoundOr(err, "file link visitor")
		}
		return FindFileForVisitor(ctx, db, &v, publicID)
	}
	return nil, ErrNotFound
}

func notFoundOr(err error, what string) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNotFound
	}
	return fmt.Errorf("%s: %w", what, err)
}
