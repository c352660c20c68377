// Package storage keeps the bytes of files sent in conversations: on local
// disk (the data directory, the default) or in an S3-compatible bucket, and
// scans them with ClamAV's clamd when configured. The records of files are
// in models (models.File); this package knows keys and bytes only.
//
// Every Store streams: Put reads its reader once, in small buffers, and
// keeps nothing of a failed or short upload; Open returns a reader that
// seeks (HTTP ranges) without loading the object.
package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"time"
)

// Store keeps files' bytes under keys (NewKey).
type Store interface {
	// Put stores exactly size bytes read from r under key, all or nothing:
	// if r fails or ends early (an interrupted upload), nothing is kept
	// and the error wraps r's (or ErrShort). A storage failure wraps
	// ErrUnavailable.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	// Open returns the object under key; ErrNotFound if there is none.
	Open(ctx context.Context, key string) (Object, error)
	// Delete removes key; a key already gone is not an error.
	Delete(ctx context.Context, key string) error
	// Name says which kind of store this is (logs, the admin page).
	Name() string
}

// Object is a stored file being read.
type Object interface {
	io.ReadSeekCloser
	Size() int64
	ModTime() time.Time
}

var (
	// ErrNotFound is a key with nothing stored.
	ErrNotFound = errors.New("storage: not found")
	// ErrUnavailable is a store that cannot be reached or refused the
	// operation: the caller may retry later.
	ErrUnavailable = errors.New("storage: unavailable")
	// ErrShort is an upload whose reader ended before its declared size.
	ErrShort = errors.New("storage: upload ended before its declared size")
)

// NewKey returns a new random key ("f/<2 hex>/<32 hex>"): keys say nothing
// about the file, its name or its conversation.
func NewKey() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error())
	}
	h := hex.EncodeToString(b)
	return "f/" + h[:2] + "/" + h
}

// validKey reports whether key is one NewKey could have made (what the
// local store turns into a path must never climb out of its directory).
func validKey(key string) bool {
	if len(key) != 37 || key[:2] != "f/" || key[4] != '/' || key[2:4] != key[5:7] {
		return false
	}
	for _, r := range key[5:] {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}

// exact wraps r so that reading past size bytes or ending before them is
// an error (ErrShort): a store never keeps a file of the wrong length.
type exact struct {
	r    io.Reader
	left int64
	err  error // the reader's own failure (or ErrShort): the client's, not the store's
}

func (e *exact) Read(p []byte) (int, error) {
	if e.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	switch {
	case err == io.EOF && e.left > 0:
		e.err = ErrShort
		return n, ErrShort
	case err == io.EOF:
		return n, io.EOF
	case err != nil:
		e.err = err
	}
	return n, err
}
