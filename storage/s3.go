package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/encrypt"
	"github.com/minio/minio-go/v7/pkg/lifecycle"
	"github.com/minio/minio-go/v7/pkg/tags"

	"github.com/constancia/constancia"
)

// S3Config points at an S3-compatible service (AWS S3, MinIO, Ceph RGW,
// versitygw…).
type S3Config struct {
	Endpoint  string // host:port, without scheme
	Bucket    string
	Region    string
	AccessKey string
	SecretKey string
	TLS       bool
	PathStyle bool // path-style URLs (MinIO, versitygw, most self-hosted)
	SSE       bool // ask for server-side encryption (SSE-S3)
	// LifecycleDays, when > 0, also installs a bucket lifecycle rule that
	// expires objects tagged for standard retention after that many days:
	// a second safety net behind the sweeper. Held objects are re-tagged
	// and escape it.
	LifecycleDays int
}

// Validate names the first missing field.
func (c S3Config) Validate() error {
	for name, v := range map[string]string{"Endpoint": c.Endpoint, "Bucket": c.Bucket, "AccessKey": c.AccessKey, "SecretKey": c.SecretKey} {
		if v == "" {
			return constancia.Errorf(constancia.EINVALID, "s3: %s is required", name)
		}
	}
	if strings.Contains(c.Endpoint, "://") {
		return constancia.Errorf(constancia.EINVALID, "s3: Endpoint is host:port without a scheme; set TLS for https")
	}
	return nil
}

const (
	retentionTag  = "constancia-retention"
	retentionStd  = "standard"
	retentionHold = "hold"
	shaMeta       = "Sha256"
)

// S3Store keeps objects in one bucket.
type S3Store struct {
	c   *minio.Client
	cfg S3Config
}

// NewS3Store connects and creates the bucket if it does not exist.
func NewS3Store(ctx context.Context, cfg S3Config) (*S3Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	lookup := minio.BucketLookupDNS
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	c, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:       cfg.TLS,
		Region:       cfg.Region,
		BucketLookup: lookup,
	})
	if err != nil {
		return nil, constancia.Wrap(err, constancia.EINVALID, "s3: bad configuration")
	}
	s := &S3Store{c: c, cfg: cfg}
	ok, err := c.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, constancia.Wrap(err, constancia.EUNAVAILABLE, "s3: service unreachable")
	}
	if !ok {
		if err := c.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region}); err != nil {
			return nil, constancia.Wrap(err, constancia.EUNAVAILABLE, "s3: cannot create bucket "+cfg.Bucket)
		}
	}
	if cfg.LifecycleDays > 0 {
		lc := lifecycle.NewConfiguration()
		lc.Rules = []lifecycle.Rule{{
			ID:         "constancia-retention",
			Status:     "Enabled",
			RuleFilter: lifecycle.Filter{Tag: lifecycle.Tag{Key: retentionTag, Value: retentionStd}},
			Expiration: lifecycle.Expiration{Days: lifecycle.ExpirationDays(cfg.LifecycleDays)},
		}}
		if err := c.SetBucketLifecycle(ctx, cfg.Bucket, lc); err != nil {
			return nil, constancia.Wrap(err, constancia.EUNAVAILABLE, "s3: cannot set the bucket lifecycle rule")
		}
	}
	return s, nil
}

func s3Err(err error, key string) error {
	var resp minio.ErrorResponse
	if errors.As(err, &resp) && (resp.Code == "NoSuchKey" || resp.StatusCode == http.StatusNotFound) {
		return notFound(key)
	}
	var ce *constancia.Error
	if errors.As(err, &ce) {
		return err
	}
	return constancia.Wrap(err, constancia.EUNAVAILABLE, "s3: request failed")
}

// Put implements ObjectStore. The checksum is verified while streaming;
// on a mismatch the uploaded object is deleted again.
func (s *S3Store) Put(ctx context.Context, key string, r io.Reader, size int64, contentType, sum string) error {
	if err := validKey(key); err != nil {
		return err
	}
	h := sha256.New()
	opts := minio.PutObjectOptions{
		ContentType:  contentType,
		UserMetadata: map[string]string{shaMeta: sum},
		UserTags:     map[string]string{retentionTag: retentionStd},
	}
	if s.cfg.SSE {
		opts.ServerSideEncryption = encrypt.NewSSE()
	}
	if _, err := s.c.PutObject(ctx, s.cfg.Bucket, key, io.TeeReader(r, h), size, opts); err != nil {
		return s3Err(err, key)
	}
	if got := hex.EncodeToString(h.Sum(nil)); sum != "" && got != sum {
		_ = s.c.RemoveObject(context.WithoutCancel(ctx), s.cfg.Bucket, key, minio.RemoveObjectOptions{})
		return constancia.Errorf(constancia.EINVALID, "checksum mismatch: got %s, want %s", got, sum)
	}
	return nil
}

func (s *S3Store) toInfo(o minio.ObjectInfo) ObjectInfo {
	sum := o.UserMetadata[shaMeta]
	if sum == "" {
		sum = o.Metadata.Get("X-Amz-Meta-" + shaMeta)
	}
	return ObjectInfo{Key: o.Key, Size: o.Size, ContentType: o.ContentType, SHA256: sum, Modified: o.LastModified}
}

// Stat implements ObjectStore.
func (s *S3Store) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	if err := validKey(key); err != nil {
		return ObjectInfo{}, err
	}
	o, err := s.c.StatObject(ctx, s.cfg.Bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return ObjectInfo{}, s3Err(err, key)
	}
	return s.toInfo(o), nil
}

// Get implements ObjectStore.
func (s *S3Store) Get(ctx context.Context, key string) (io.ReadCloser, ObjectInfo, error) {
	info, err := s.Stat(ctx, key)
	if err != nil {
		return nil, info, err
	}
	o, err := s.c.GetObject(ctx, s.cfg.Bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, info, s3Err(err, key)
	}
	return o, info, nil
}

// Delete implements ObjectStore.
func (s *S3Store) Delete(ctx context.Context, key string) error {
	if err := validKey(key); err != nil {
		return err
	}
	if err := s.c.RemoveObject(ctx, s.cfg.Bucket, key, minio.RemoveObjectOptions{}); err != nil {
		if e := s3Err(err, key); constancia.ErrorCode(e) != constancia.ENOTFOUND {
			return e
		}
	}
	return nil
}

// List implements ObjectStore.
func (s *S3Store) List(ctx context.Context, prefix string, fn func(ObjectInfo) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for o := range s.c.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			return s3Err(o.Err, prefix)
		}
		if err := fn(s.toInfo(o)); err != nil {
			return err
		}
	}
	return nil
}

// SetHold re-tags the object so the bucket lifecycle rule (if any) skips it
// while held, and restores standard retention when released.
func (s *S3Store) SetHold(ctx context.Context, key string, hold bool) error {
	v := retentionStd
	if hold {
		v = retentionHold
	}
	t, err := tags.NewTags(map[string]string{retentionTag: v}, true)
	if err != nil {
		return constancia.Wrap(err, constancia.EINTERNAL, "s3: tags")
	}
	if err := s.c.PutObjectTagging(ctx, s.cfg.Bucket, key, t, minio.PutObjectTaggingOptions{}); err != nil {
		return s3Err(err, key)
	}
	return nil
}

// Tag returns the object's retention tag ("standard" or "hold").
func (s *S3Store) Tag(ctx context.Context, key string) (string, error) {
	t, err := s.c.GetObjectTagging(ctx, s.cfg.Bucket, key, minio.GetObjectTaggingOptions{})
	if err != nil {
		return "", s3Err(err, key)
	}
	return t.ToMap()[retentionTag], nil
}

// DeleteMany implements BatchDeleter with S3's multi-object delete.
func (s *S3Store) DeleteMany(ctx context.Context, keys []string) error {
	ch := make(chan minio.ObjectInfo, len(keys))
	for _, k := range keys {
		if err := validKey(k); err != nil {
			return err
		}
		ch <- minio.ObjectInfo{Key: k}
	}
	close(ch)
	for e := range s.c.RemoveObjects(ctx, s.cfg.Bucket, ch, minio.RemoveObjectsOptions{}) {
		if err := s3Err(e.Err, e.ObjectName); constancia.ErrorCode(err) != constancia.ENOTFOUND {
			return err
		}
	}
	return nil
}
