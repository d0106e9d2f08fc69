package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/constancia/constancia"
	"github.com/constancia/constancia/storage"
)

// storeConfig is where evidence lives: the data directory (bbolt index and,
// by default, the filesystem object store) and optionally an S3 bucket.
type storeConfig struct {
	Data      string
	Retention time.Duration
	S3        storage.S3Config
}

func env(key, def string) string {
	if v, ok := os.LookupEnv(key); ok {
		return v
	}
	return def
}

func envBool(key string) bool { b, _ := strconv.ParseBool(os.Getenv(key)); return b }

// registerStoreFlags binds the storage settings to fs, defaulting from the
// CONSTANCIA_* environment.
func registerStoreFlags(fs *flag.FlagSet, c *storeConfig) {
	fs.StringVar(&c.Data, "data", env("CONSTANCIA_DATA", "./data"), "data directory (index, and images unless S3 is set) [CONSTANCIA_DATA]")
	ret, _ := time.ParseDuration(env("CONSTANCIA_RETENTION", "4320h"))
	fs.DurationVar(&c.Retention, "retention", ret, "how long images are kept [CONSTANCIA_RETENTION]")
	fs.StringVar(&c.S3.Endpoint, "s3-endpoint", env("CONSTANCIA_S3_ENDPOINT", ""), "S3 host:port; empty keeps images on the filesystem [CONSTANCIA_S3_ENDPOINT]")
	fs.StringVar(&c.S3.Bucket, "s3-bucket", env("CONSTANCIA_S3_BUCKET", "constancia"), "S3 bucket [CONSTANCIA_S3_BUCKET]")
	fs.StringVar(&c.S3.Region, "s3-region", env("CONSTANCIA_S3_REGION", "us-east-1"), "S3 region [CONSTANCIA_S3_REGION]")
	c.S3.AccessKey = env("CONSTANCIA_S3_ACCESS_KEY", "")
	c.S3.SecretKey = env("CONSTANCIA_S3_SECRET_KEY", "")
	c.S3.TLS = env("CONSTANCIA_S3_TLS", "true") != "false"
	c.S3.PathStyle = envBool("CONSTANCIA_S3_PATH_STYLE")
	c.S3.SSE = envBool("CONSTANCIA_S3_SSE")
	c.S3.LifecycleDays, _ = strconv.Atoi(env("CONSTANCIA_S3_LIFECYCLE_DAYS", "0"))
}

// Validate names the first bad setting.
func (c storeConfig) Validate() error {
	if strings.TrimSpace(c.Data) == "" {
		return usageError{"--data must not be empty"}
	}
	if c.S3.Endpoint != "" {
		if err := c.S3.Validate(); err != nil {
			return err
		}
		if c.S3.LifecycleDays > 0 && time.Duration(c.S3.LifecycleDays)*24*time.Hour <= c.Retention {
			return usageError{"CONSTANCIA_S3_LIFECYCLE_DAYS must exceed the retention period: the lifecycle rule is a safety net behind the sweeper"}
		}
	}
	return nil
}

// openKeeper opens the index and the object store described by c.
func (m *Main) openKeeper(ctx context.Context, c storeConfig) (*storage.Keeper, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(c.Data, 0o750); err != nil {
		return nil, err
	}
	var store storage.ObjectStore
	if c.S3.Endpoint != "" {
		s, err := storage.NewS3Store(ctx, c.S3)
		if err != nil {
			return nil, err
		}
		store = s
	} else {
		s, err := storage.NewFSStore(filepath.Join(c.Data, "objects"))
		if err != nil {
			return nil, err
		}
		store = s
	}
	ix, err := storage.OpenIndex(filepath.Join(c.Data, "index.db"))
	if err != nil {
		return nil, err
	}
	return storage.NewKeeper(store, ix, storage.Config{Retention: c.Retention, Logger: m.Logger})
}

func (m *Main) runFsck(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("fsck", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	var c storeConfig
	registerStoreFlags(fs, &c)
	repair := fs.Bool("repair", false, "delete orphan objects and mark records whose image is missing")
	if err := fs.Parse(args); err != nil {
		return err
	}
	k, err := m.openKeeper(ctx, c)
	if err != nil {
		return err
	}
	defer k.Index.Close()
	rep, err := k.Fsck(ctx, *repair)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "records=%d objects=%d dangling=%d unswept=%d orphans=%d repaired=%v\n", rep.Records, rep.Objects, len(rep.Dangling), len(rep.Unswept), len(rep.Orphans), rep.Repaired)
	for _, id := range rep.Dangling {
		fmt.Fprintln(m.Stdout, "dangling record", id)
	}
	for _, id := range rep.Unswept {
		fmt.Fprintln(m.Stdout, "unswept record (image expired and deleted, record not yet marked)", id)
	}
	for _, k := range rep.Orphans {
		fmt.Fprintln(m.Stdout, "orphan object", k)
	}
	if rep.IndexErr != nil {
		fmt.Fprintln(m.Stdout, "index inconsistency:", rep.IndexErr)
	}
	if !rep.OK() && !rep.Repaired {
		return fmt.Errorf("fsck found problems; run with --repair to fix them")
	}
	return nil
}

func (m *Main) runBackup(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	var c storeConfig
	registerStoreFlags(fs, &c)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"backup: give the file to write"}
	}
	ix, err := storage.OpenIndex(filepath.Join(c.Data, "index.db"))
	if err != nil {
		if constancia.ErrorCode(err) == constancia.EUNAVAILABLE {
			return fmt.Errorf("%v: while the service runs, an admin downloads the same consistent copy from /console/admin/backup", err)
		}
		return err
	}
	defer ix.Close()
	return writeBackup(ix, fs.Arg(0))
}

// writeBackup writes a consistent copy of the index to path atomically.
func writeBackup(ix *storage.Index, path string) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := ix.WriteTo(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
