package storage_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parleydesk/parley/internal/filetest"
	"github.com/parleydesk/parley/storage"
)

// failing yields n bytes, then fails: a client that went away midway.
type failing struct{ n int }

func (f *failing) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("connection reset")
	}
	k := min(len(p), f.n)
	f.n -= k
	return k, nil
}

func stores(t *testing.T) map[string]storage.Store {
	local, err := storage.NewLocal(t.TempDir())
	require.NoError(t, err)
	s3, err := storage.NewS3(filetest.StartS3(t))
	require.NoError(t, err)
	require.NoError(t, s3.EnsureBucket(t.Context()))
	return map[string]storage.Store{"local": local, "s3": s3}
}

// Every store keeps a file whole or not at all: a round trip returns the
// same bytes (seeking too), an interrupted or short upload keeps nothing,
// a deleted key is gone and deleting it again is no error.
func TestStoresKeepWholeFilesOnly(t *testing.T) {
	t.Parallel()
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			data := make([]byte, 3<<20+17)
			rand.Read(data)
			key := storage.NewKey()
			require.NoError(t, s.Put(ctx, key, bytes.NewReader(data), int64(len(data)), "application/octet-stream"))
			o, err := s.Open(ctx, key)
			require.NoError(t, err)
			require.EqualValues(t, len(data), o.Size())
			_, err = o.Seek(1<<20, io.SeekStart)
			require.NoError(t, err)
			got, err := io.ReadAll(o)
			require.NoError(t, err)
			require.Equal(t, data[1<<20:], got)
			require.NoError(t, o.Close())

			// Interrupted midway: nothing kept, and the error is the client's.
			cut := storage.NewKey()
			err = s.Put(ctx, cut, &failing{n: 1 << 20}, 2<<20, "application/octet-stream")
			require.Error(t, err)
			require.NotErrorIs(t, err, storage.ErrUnavailable)
			_, err = s.Open(ctx, cut)
			require.ErrorIs(t, err, storage.ErrNotFound)

			// Shorter than declared: nothing kept.
			short := storage.NewKey()
			err = s.Put(ctx, short, strings.NewReader("abc"), 10, "text/plain")
			require.ErrorIs(t, err, storage.ErrShort)
			_, err = s.Open(ctx, short)
			require.ErrorIs(t, err, storage.ErrNotFound)

			require.NoError(t, s.Delete(ctx, key))
			_, err = s.Open(ctx, key)
			require.ErrorIs(t, err, storage.ErrNotFound)
			require.NoError(t, s.Delete(ctx, key))
			if l, ok := s.(*storage.Local); ok {
				left, err := l.Leftovers()
				require.NoError(t, err)
				require.Empty(t, left, "temporary files left behind")
			}
			if s3, ok := s.(*storage.S3); ok {
				n, err := s3.Count(ctx)
				require.NoError(t, err)
				require.Zero(t, n, "objects left in the bucket")
			}
		})
	}
}

// An unreachable S3 server is ErrUnavailable (a retryable error), quickly.
func TestS3UnreachableIsUnavailable(t *testing.T) {
	t.Parallel()
	s3, err := storage.NewS3(storage.S3Config{Endpoint: "http://127.0.0.1:1", Bucket: "b", AccessKey: "k", SecretKey: "s"})
	require.NoError(t, err)
	err = s3.Put(t.Context(), storage.NewKey(), strings.NewReader("hello"), 5, "text/plain")
	require.ErrorIs(t, err, storage.ErrUnavailable)
	_, err = s3.Open(t.Context(), storage.NewKey())
	require.ErrorIs(t, err, storage.ErrUnavailable)
}

// The real clamd finds the EICAR string with the local test signature,
// passes clean bytes, and a stopped daemon is ErrScanFailed.
func TestClamdScans(t *testing.T) {
	t.Parallel()
	c := filetest.StartClamd(t)
	ctx := t.Context()
	v, err := c.Scan(ctx, strings.NewReader(filetest.EICAR))
	require.NoError(t, err)
	require.True(t, v.Infected)
	require.Equal(t, filetest.EICARSignature, v.Signature)

	clean := make([]byte, 200<<10)
	rand.Read(clean)
	v, err = c.Scan(ctx, bytes.NewReader(clean))
	require.NoError(t, err)
	require.False(t, v.Infected)

	gone := &storage.Clamd{Network: "unix", Address: "/nonexistent/clamd.sock"}
	r := strings.NewReader("hello")
	_, err = gone.Scan(context.Background(), r)
	require.ErrorIs(t, err, storage.ErrScanFailed)
	require.Zero(t, r.Len(), "the reader is drained even when the scan fails")
}
