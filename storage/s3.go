package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config reaches an S3-compatible bucket (PARLEY_S3_*).
type S3Config struct {
	// Endpoint is the server's URL, e.g. https://s3.eu-west-1.amazonaws.com
	// or http://127.0.0.1:7070.
	Endpoint  string
	Bucket    string
	AccessKey string
	SecretKey string
	Region    string
}

// S3 stores files as objects of one bucket. Uploads are single PUTs of a
// known length with a streaming signature: read in 64 KiB chunks, never
// buffered whole, and an interrupted one creates no object.
type S3 struct {
	c      *minio.Client
	bucket string
}

// NewS3 returns the store for cfg. It does not contact the server:
// EnsureBucket does.
func NewS3(cfg S3Config) (*S3, error) {
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("S3 endpoint: want an http or https URL, got %q", cfg.Endpoint)
	}
	if cfg.Bucket == "" {
		return nil, errors.New("S3 bucket: required")
	}
	region := cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	// Fail fast when the server is unreachable: the upload is answered
	// with a retryable error instead of hanging.
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 2 * time.Minute,
	}
	c, err := minio.New(u.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:       u.Scheme == "https",
		Region:       region,
		BucketLookup: minio.BucketLookupPath,
		Transport:    tr,
		MaxRetries:   2,
	})
	if err != nil {
		return nil, fmt.Errorf("S3 client: %w", err)
	}
	return &S3{c: c, bucket: cfg.Bucket}, nil
}

// Name is "s3".
func (s *S3) Name() string { return "s3" }

// EnsureBucket creates the bucket if it does not exist.
func (s *S3) EnsureBucket(ctx context.Context) error {
	ok, err := s.c.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("%w: bucket %s: %v", ErrUnavailable, s.bucket, err)
	}
	if ok {
		return nil
	}
	if err := s.c.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{}); err != nil {
		return fmt.Errorf("%w: create bucket %s: %v", ErrUnavailable, s.bucket, err)
	}
	return nil
}

// Put uploads exactly size bytes of r as one object.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if !validKey(key) {
		return fmt.Errorf("storage: bad key %q", key)
	}
	src := &exact{r: r, left: size}
	_, err := s.c.PutObject(ctx, s.bucket, key, src, size, minio.PutObjectOptions{
		ContentType:      contentType,
		DisableMultipart: true,
	})
	if err == nil && src.left > 0 {
		err, src.err = ErrShort, ErrShort
	}
	if err != nil {
		// A failed single PUT stores nothing; a delete costs little and
		// covers a server that kept a partial object all the same.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = s.c.RemoveObject(dctx, s.bucket, key, minio.RemoveObjectOptions{})
		if src.err != nil {
			return fmt.Errorf("store %s: %w", key, src.err)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("store %s: %w", key, ctx.Err())
		}
		return fmt.Errorf("%w: put %s: %v", ErrUnavailable, key, err)
	}
	return nil
}

// Open returns the object; its size comes from one HEAD request.
func (s *S3) Open(ctx context.Context, key string) (Object, error) {
	if !validKey(key) {
		return nil, ErrNotFound
	}
	o, err := s.c.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("%w: get %s: %v", ErrUnavailable, key, err)
	}
	st, err := o.Stat()
	if err != nil {
		o.Close()
		if minio.ToErrorResponse(err).Code == "NoSuchKey" {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("%w: stat %s: %v", ErrUnavailable, key, err)
	}
	return s3Object{o, st.Size, st.LastModified}, nil
}

// Delete removes the object (S3 answers a missing key with success).
func (s *S3) Delete(ctx context.Context, key string) error {
	if !validKey(key) {
		return fmt.Errorf("storage: bad key %q", key)
	}
	if err := s.c.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return fmt.Errorf("%w: delete %s: %v", ErrUnavailable, key, err)
	}
	return nil
}

// Exists reports whether key is stored (tests: nothing half-stored).
func (s *S3) Exists(ctx context.Context, key string) (bool, error) {
	_, err := s.c.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err == nil {
		return true, nil
	}
	if minio.ToErrorResponse(err).Code == "NoSuchKey" {
		return false, nil
	}
	return false, err
}

// Count returns how many objects the bucket holds (tests).
func (s *S3) Count(ctx context.Context) (int, error) {
	n := 0
	for o := range s.c.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			return 0, o.Err
		}
		n++
	}
	return n, nil
}

type s3Object struct {
	*minio.Object
	size int64
	mod  time.Time
}

func (o s3Object) Size() int64        { return o.size }
func (o s3Object) ModTime() time.Time { return o.mod }
