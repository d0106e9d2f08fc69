package storage

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/constancia/constancia"
)

// Config sets up a Keeper.
type Config struct {
	Retention     time.Duration    // how long images are kept (default 180 days)
	SweepInterval time.Duration    // how often expired images are deleted (default 1 h)
	OrphanGrace   time.Duration    // objects younger than this are never orphans (default 1 h)
	SweepBatch    int              // images deleted per index transaction (default 1000)
	Now           func() time.Time // the clock (default time.Now)
	Logger        *slog.Logger
}

// Validate names the first bad field.
func (c Config) Validate() error {
	if c.Retention < 0 || c.SweepInterval < 0 || c.OrphanGrace < 0 {
		return constancia.Errorf(constancia.EINVALID, "storage: Retention, SweepInterval and OrphanGrace must not be negative")
	}
	if c.Retention > 0 && c.Retention < 24*time.Hour {
		return constancia.Errorf(constancia.EINVALID, "storage: Retention must be at least 24h, got %s", c.Retention)
	}
	return nil
}

// Keeper stores voucher images with their records and enforces retention.
type Keeper struct {
	Store ObjectStore
	Index *Index
	cfg   Config
	log   *slog.Logger
	wg    sync.WaitGroup
}

// NewKeeper joins a store and an index.
func NewKeeper(store ObjectStore, ix *Index, cfg Config) (*Keeper, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Retention == 0 {
		cfg.Retention = 180 * 24 * time.Hour
	}
	if cfg.SweepInterval == 0 {
		cfg.SweepInterval = time.Hour
	}
	if cfg.OrphanGrace == 0 {
		cfg.OrphanGrace = time.Hour
	}
	if cfg.SweepBatch <= 0 {
		cfg.SweepBatch = 1000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Keeper{Store: store, Index: ix, cfg: cfg, log: cfg.Logger.With("component", "storage")}, nil
}

// NewID returns a random 128-bit identifier in hex.
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return hex.EncodeToString(b[:])
}

var extOf = map[string]string{"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}

// Save stores data as r's image and commits r. It fills r.ID (if empty),
// ObjectKey, SHA256, Size, UploadedAt and ExpiresAt. The object is durable
// before the index entry commits; if the commit fails the object is removed
// again (and, if even that fails, Fsck finds it as an orphan).
func (k *Keeper) Save(ctx context.Context, r *Record, data []byte) error {
	if len(data) == 0 {
		return constancia.Errorf(constancia.EINVALID, "empty image")
	}
	now := k.cfg.Now().UTC()
	if r.ID == "" {
		r.ID = NewID()
	}
	sum := sha256.Sum256(data)
	r.SHA256 = hex.EncodeToString(sum[:])
	r.Size = int64(len(data))
	r.UploadedAt = now
	r.ExpiresAt = now.Add(k.cfg.Retention)
	r.ObjectKey = now.Format("2006/01/02/") + r.ID + extOf[r.ContentType]
	if err := k.Store.Put(ctx, r.ObjectKey, bytes.NewReader(data), r.Size, r.ContentType, r.SHA256); err != nil {
		return err
	}
	if err := k.Index.Put(r); err != nil {
		if derr := k.Store.Delete(context.WithoutCancel(ctx), r.ObjectKey); derr != nil {
			k.log.Error("could not remove object after failed index write; fsck will", "key", r.ObjectKey, "err", derr)
		}
		return err
	}
	return nil
}

// Image opens the stored image of record id: ENOTFOUND for an unknown id,
// EGONE-like ENOTFOUND with a clear message once purged.
func (k *Keeper) Image(ctx context.Context, id string) (io.ReadCloser, *Record, error) {
	r, err := k.Index.Get(id)
	if err != nil {
		return nil, nil, err
	}
	if r.PurgedAt != nil {
		return nil, r, constancia.Errorf(constancia.ENOTFOUND, "the image of receipt %s was deleted on %s after its retention period", id, r.PurgedAt.Format(time.DateOnly))
	}
	rc, _, err := k.Store.Get(ctx, r.ObjectKey)
	return rc, r, err
}

// Sweep deletes every expired, unheld image and marks its record purged,
// a batch at a time, objects first: a crash between the two leaves records
// whose images are gone, which the next sweep marks. It returns how many
// were purged.
func (k *Keeper) Sweep(ctx context.Context) (int, error) {
	n := 0
	for {
		batch, err := k.Index.Expired(k.cfg.Now(), k.cfg.SweepBatch)
		if err != nil || len(batch) == 0 {
			return n, err
		}
		if err := ctx.Err(); err != nil {
			return n, err
		}
		keys := make([]string, len(batch))
		ids := make([]string, len(batch))
		for i, e := range batch {
			keys[i], ids[i] = e.ObjectKey, e.ID
		}
		if err := deleteAll(ctx, k.Store, keys); err != nil {
			return n, err
		}
		if err := k.Index.MarkPurged(ids, k.cfg.Now().UTC()); err != nil {
			return n, err
		}
		n += len(batch)
	}
}

// Run sweeps every SweepInterval until ctx ends. Close waits for it.
func (k *Keeper) Run(ctx context.Context) {
	k.wg.Add(1)
	go func() {
		defer k.wg.Done()
		t := time.NewTicker(k.cfg.SweepInterval)
		defer t.Stop()
		for {
			if n, err := k.Sweep(ctx); err != nil && ctx.Err() == nil {
				k.log.Error("retention sweep failed", "err", err, "purged", n)
			} else if n > 0 {
				k.log.Info("retention sweep", "purged", n)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// Close waits for the sweeper started by Run to stop (cancel its ctx first).
func (k *Keeper) Close() error {
	k.wg.Wait()
	return nil
}

// Hold places (hold=true) or releases a legal hold on record id, logging
// who and why. A held image is never swept; released, it expires at its
// original time (or at once if that has passed).
func (k *Keeper) Hold(ctx context.Context, id string, hold bool, by, reason string) error {
	if strings.TrimSpace(by) == "" {
		return constancia.Errorf(constancia.EINVALID, "a hold needs the name of who places or releases it")
	}
	var key string
	err := k.Index.Update(id, func(r *Record) error {
		if r.PurgedAt != nil && hold {
			return constancia.Errorf(constancia.ECONFLICT, "receipt %s was already purged on %s", id, r.PurgedAt.Format(time.DateOnly))
		}
		r.Held = hold
		r.Holds = append(r.Holds, HoldEvent{At: k.cfg.Now().UTC(), By: by, Hold: hold, Reason: reason})
		key = r.ObjectKey
		return nil
	})
	if err != nil {
		return err
	}
	k.log.Info("legal hold", "receipt", id, "hold", hold, "by", by, "reason", reason)
	if s3, ok := k.Store.(*S3Store); ok {
		return s3.SetHold(ctx, key, hold)
	}
	return nil
}

// FsckReport lists what fsck found.
type FsckReport struct {
	Records  int      // records checked
	Objects  int      // objects checked
	Dangling []string // record ids whose unpurged, unexpired image is missing: lost evidence
	Unswept  []string // expired records whose image is gone but not yet marked (a sweep cut short)
	Orphans  []string // object keys no record owns (older than the grace period)
	Repaired bool
	IndexErr error // bbolt consistency problem, if any
}

// OK reports whether nothing was found.
func (r FsckReport) OK() bool {
	return len(r.Dangling) == 0 && len(r.Orphans) == 0 && r.IndexErr == nil
}

// Fsck checks both directions: every unpurged record's object exists, and
// every object belongs to a record. With repair, orphans are deleted and
// dangling records are marked purged with a note (their fields and hashes
// stay for audit).
func (k *Keeper) Fsck(ctx context.Context, repair bool) (FsckReport, error) {
	var rep FsckReport
	rep.IndexErr = k.Index.Check()
	err := k.Index.ForEach(func(r *Record) error {
		rep.Records++
		if r.PurgedAt != nil {
			return nil
		}
		if _, err := k.Store.Stat(ctx, r.ObjectKey); constancia.ErrorCode(err) == constancia.ENOTFOUND {
			if !r.Held && !r.ExpiresAt.After(k.cfg.Now()) {
				rep.Unswept = append(rep.Unswept, r.ID)
			} else {
				rep.Dangling = append(rep.Dangling, r.ID)
			}
		} else if err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	cutoff := k.cfg.Now().Add(-k.cfg.OrphanGrace)
	err = k.Store.List(ctx, "", func(o ObjectInfo) error {
		rep.Objects++
		if _, ok := k.Index.ByObjectKey(o.Key); !ok && o.Modified.Before(cutoff) {
			rep.Orphans = append(rep.Orphans, o.Key)
		}
		return nil
	})
	if err != nil || !repair {
		return rep, err
	}
	for _, key := range rep.Orphans {
		if err := k.Store.Delete(ctx, key); err != nil {
			return rep, err
		}
	}
	now := k.cfg.Now().UTC()
	if err := k.Index.MarkPurged(rep.Unswept, now); err != nil {
		return rep, err
	}
	for _, id := range rep.Dangling {
		err := k.Index.Update(id, func(r *Record) error {
			r.PurgedAt = &now
			r.Note = "image missing from the object store (found by fsck)"
			return nil
		})
		if err != nil {
			return rep, err
		}
	}
	rep.Repaired = true
	return rep, nil
}
