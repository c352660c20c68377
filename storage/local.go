package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Local stores files under a directory (PARLEY_DATA_DIR/files by default).
// An upload is written to a temporary file beside its destination and
// renamed into place only when complete, so an interrupted one leaves
// nothing behind.
type Local struct {
	dir string
}

// NewLocal returns the store in dir, creating it (0700).
func NewLocal(dir string) (*Local, error) {
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o700); err != nil {
		return nil, fmt.Errorf("file storage directory: %w", err)
	}
	return &Local{dir: dir}, nil
}

// Name is "local".
func (l *Local) Name() string { return "local" }

func (l *Local) path(key string) (string, error) {
	if !validKey(key) {
		return "", fmt.Errorf("storage: bad key %q", key)
	}
	return filepath.Join(l.dir, filepath.FromSlash(key)), nil
}

// Put writes r to a temporary file, then renames it to key's path.
func (l *Local) Put(ctx context.Context, key string, r io.Reader, size int64, _ string) (err error) {
	dst, err := l.path(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	tmp, err := os.CreateTemp(filepath.Join(l.dir, "tmp"), "upload-*")
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	src := &exact{r: ctxReader{ctx, r}, left: size}
	if _, err = io.Copy(tmp, src); err != nil {
		if src.err != nil {
			return fmt.Errorf("store %s: %w", key, src.err)
		}
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if err = os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return nil
}

// Open opens key's file.
func (l *Local) Open(_ context.Context, key string) (Object, error) {
	p, err := l.path(key)
	if err != nil {
		return nil, ErrNotFound
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return localObject{f, st.Size(), st.ModTime()}, nil
}

// Delete removes key's file.
func (l *Local) Delete(_ context.Context, key string) error {
	p, err := l.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return nil
}

// Leftovers lists temporary files of uploads in progress or interrupted
// by a crash (tests check none is left; nothing else needs it).
func (l *Local) Leftovers() ([]string, error) {
	es, err := os.ReadDir(filepath.Join(l.dir, "tmp"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out, nil
}

type localObject struct {
	*os.File
	size int64
	mod  time.Time
}

func (o localObject) Size() int64        { return o.size }
func (o localObject) ModTime() time.Time { return o.mod }

// ctxReader stops reading once ctx is done (a request whose client left).
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
