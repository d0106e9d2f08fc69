package storage

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/constancia/constancia"
)

// SchemaVersion is the index layout this code writes. Open migrates older
// files forward and refuses newer ones.
const SchemaVersion = 2

// HoldEvent is one placement or release of a legal hold.
type HoldEvent struct {
	At     time.Time `json:"at"`
	By     string    `json:"by"`
	Hold   bool      `json:"hold"`
	Reason string    `json:"reason"`
}

// Record is everything kept about one uploaded voucher. The image itself
// lives in the object store under ObjectKey until PurgedAt.
type Record struct {
	ID          string             `json:"id"`
	Merchant    string             `json:"merchant"`
	OrderID     string             `json:"order_id,omitempty"`
	ObjectKey   string             `json:"object_key"`
	SHA256      string             `json:"sha256"`
	ContentType string             `json:"content_type"`
	Size        int64              `json:"size"`
	PHash       uint64             `json:"phash"`
	DHash       uint64             `json:"dhash"`
	Fields      map[string]string  `json:"fields"`
	Confidence  map[string]float64 `json:"confidence"`
	DateOnly    bool               `json:"date_only,omitempty"` // the voucher prints the payment's day, not its time: Fields["paid_at"] is that day's midnight
	Boxes       map[string][4]int  `json:"boxes,omitempty"`     // where each field was read: x0,y0,x1,y1 in the image's pixels
	Width       int                `json:"width,omitempty"`     // the image's size as a viewer shows it (EXIF orientation applied), the frame of Boxes
	Height      int                `json:"height,omitempty"`    // (0 in records written before it was kept)
	Turn        int                `json:"turn,omitempty"`      // quarter turns counter-clockwise that showed the voucher upright to the reader (a photo whose file lost its orientation)
	Quality     []string           `json:"quality"`
	Flags       []string           `json:"flags"`
	FraudDetail []string           `json:"fraud_detail,omitempty"` // the evidence behind the flags, for agents
	DuplicateOf string             `json:"duplicate_of,omitempty"`
	Decision    string             `json:"decision,omitempty"`
	Reasons     []string           `json:"reasons,omitempty"`
	UploadedAt  time.Time          `json:"uploaded_at"`
	ExpiresAt   time.Time          `json:"expires_at"`
	PurgedAt    *time.Time         `json:"purged_at,omitempty"`
	Held        bool               `json:"held"`
	Holds       []HoldEvent        `json:"holds,omitempty"`
	Note        string             `json:"note,omitempty"`
}

var (
	bMeta      = []byte("meta")
	bReceipts  = []byte("receipts")
	bSHA       = []byte("idx_sha256")
	bCIP       = []byte("idx_cip")
	bOp        = []byte("idx_operation")
	bOrder     = []byte("idx_order")
	bKey       = []byte("idx_object_key")
	bPHash     = []byte("idx_phash")
	bExpiry    = []byte("expiry")
	bDecision  = []byte("idx_decision") // decision \0 upload time (big-endian ns) id: the review queue
	bUploaded  = []byte("idx_uploaded") // upload time (big-endian ns) id: what came in since
	allBuckets = [][]byte{bMeta, bReceipts, bSHA, bCIP, bOp, bOrder, bKey, bPHash, bExpiry, bDecision, bUploaded}
	kSchema    = []byte("schema_version")
)

// Index is the bbolt file of receipt records.
type Index struct {
	db *bolt.DB
}

// OpenIndex opens (creating if needed) the index at path and migrates it to
// SchemaVersion. It fails with EUNAVAILABLE if another process holds it.
func OpenIndex(path string) (*Index, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, constancia.Wrap(err, constancia.EUNAVAILABLE, "the index is in use by another process")
		}
		return nil, constancia.Wrap(err, constancia.EUNAVAILABLE, "cannot open the index")
	}
	ix := &Index{db: db}
	if err := ix.migrate(); err != nil {
		db.Close()
		return nil, err
	}
	return ix, nil
}

// migrations[v] upgrades a file at version v to v+1.
var migrations = map[int]func(tx *bolt.Tx) error{
	0: func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	},
	// 1→2: records by decision and by upload time, so the review queue and
	// the dashboard read ranges instead of every record.
	1: func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bDecision, bUploaded} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return tx.Bucket(bReceipts).ForEach(func(k, v []byte) error {
			var r Record
			if err := json.Unmarshal(v, &r); err != nil {
				return constancia.Wrap(err, constancia.EINTERNAL, "corrupt record "+string(k))
			}
			for _, b := range [][]byte{bDecision, bUploaded} {
				for _, key := range entries(&r)[string(b)] {
					if err := tx.Bucket(b).Put(key, []byte{}); err != nil {
						return err
					}
				}
			}
			return nil
		})
	},
}

func (ix *Index) migrate() error {
	return ix.db.Update(func(tx *bolt.Tx) error {
		v := 0
		if m := tx.Bucket(bMeta); m != nil {
			if b := m.Get(kSchema); len(b) == 4 {
				v = int(binary.BigEndian.Uint32(b))
			}
		}
		if v > SchemaVersion {
			return constancia.Errorf(constancia.EUNAVAILABLE, "index schema %d is newer than this build (%d)", v, SchemaVersion)
		}
		for ; v < SchemaVersion; v++ {
			if err := migrations[v](tx); err != nil {
				return constancia.Wrap(err, constancia.EINTERNAL, fmt.Sprintf("index migration %d→%d failed", v, v+1))
			}
		}
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], SchemaVersion)
		return tx.Bucket(bMeta).Put(kSchema, b[:])
	})
}

// Close closes the file.
func (ix *Index) Close() error { return ix.db.Close() }

func join(parts ...string) []byte { return []byte(joinStr(parts...)) }

func joinStr(parts ...string) string {
	var b bytes.Buffer
	for i, p := range parts {
		if i > 0 {
			b.WriteByte(0)
		}
		b.WriteString(p)
	}
	return b.String()
}

// expiryKey sorts by time: 8-byte big-endian Unix seconds, then the id.
func expiryKey(t time.Time, id string) []byte {
	k := make([]byte, 8, 8+len(id))
	binary.BigEndian.PutUint64(k, uint64(t.Unix()))
	return append(k, id...)
}

func phashKey(h uint64, id string) []byte {
	k := make([]byte, 8, 8+len(id))
	binary.BigEndian.PutUint64(k, h)
	return append(k, id...)
}

// entries lists the secondary index keys of r, bucket by bucket.
func entries(r *Record) map[string][][]byte {
	e := map[string][][]byte{
		string(bSHA): {join(r.SHA256, r.ID)},
		string(bKey): {[]byte(r.ObjectKey)},
	}
	if c := r.Fields["cip"]; c != "" {
		e[string(bCIP)] = [][]byte{join(c, r.ID)}
	}
	if o := r.Fields["operation"]; o != "" {
		e[string(bOp)] = [][]byte{join(o, r.ID)}
	}
	if r.OrderID != "" {
		e[string(bOrder)] = [][]byte{join(r.Merchant, r.OrderID, r.ID)}
	}
	if r.PHash != 0 {
		e[string(bPHash)] = [][]byte{phashKey(r.PHash, r.ID)}
	}
	if r.PurgedAt == nil && !r.Held {
		e[string(bExpiry)] = [][]byte{expiryKey(r.ExpiresAt, r.ID)}
	}
	e[string(bUploaded)] = [][]byte{timeKey(nil, r.UploadedAt, r.ID)}
	if r.Decision != "" {
		e[string(bDecision)] = [][]byte{timeKey(append([]byte(r.Decision), 0), r.UploadedAt, r.ID)}
	}
	return e
}

// timeKey is prefix, t in big-endian nanoseconds, id: keys that sort by time.
func timeKey(prefix []byte, t time.Time, id string) []byte {
	k := make([]byte, len(prefix)+8, len(prefix)+8+len(id))
	copy(k, prefix)
	ns := int64(0) // before 1970 (the zero time) sorts first
	if t.After(time.Unix(0, 0)) {
		ns = t.UnixNano()
	}
	binary.BigEndian.PutUint64(k[len(prefix):], uint64(ns))
	return append(k, id...)
}

func putTx(tx *bolt.Tx, r *Record) error {
	if r.ID == "" || r.ObjectKey == "" || r.SHA256 == "" {
		return constancia.Errorf(constancia.EINVALID, "record needs id, object key and sha256")
	}
	rb := tx.Bucket(bReceipts)
	if old := rb.Get([]byte(r.ID)); old != nil {
		var o Record
		if err := json.Unmarshal(old, &o); err != nil {
			return constancia.Wrap(err, constancia.EINTERNAL, "corrupt record "+r.ID)
		}
		for b, keys := range entries(&o) {
			for _, k := range keys {
				if err := tx.Bucket([]byte(b)).Delete(k); err != nil {
					return err
				}
			}
		}
	}
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := rb.Put([]byte(r.ID), data); err != nil {
		return err
	}
	for b, keys := range entries(r) {
		for _, k := range keys {
			v := []byte{}
			if b == string(bKey) {
				v = []byte(r.ID)
			}
			if err := tx.Bucket([]byte(b)).Put(k, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// Put inserts or replaces r and its index entries. Concurrent Puts are
// coalesced into shared transactions (bbolt's Batch), so many writers pay
// for one fsync.
func (ix *Index) Put(r *Record) error {
	err := ix.db.Batch(func(tx *bolt.Tx) error { return putTx(tx, r) })
	return dbErr(err)
}

// PutMany writes rs in one transaction.
func (ix *Index) PutMany(rs []*Record) error {
	return dbErr(ix.db.Update(func(tx *bolt.Tx) error {
		for _, r := range rs {
			if err := putTx(tx, r); err != nil {
				return err
			}
		}
		return nil
	}))
}

func dbErr(err error) error {
	if err == nil {
		return nil
	}
	var ce *constancia.Error
	if errors.As(err, &ce) {
		return err
	}
	return constancia.Wrap(err, constancia.EUNAVAILABLE, "index write failed")
}

func getTx(tx *bolt.Tx, id string) (*Record, error) {
	b := tx.Bucket(bReceipts).Get([]byte(id))
	if b == nil {
		return nil, constancia.Errorf(constancia.ENOTFOUND, "receipt %s not found", id)
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, constancia.Wrap(err, constancia.EINTERNAL, "corrupt record "+id)
	}
	return &r, nil
}

// Get returns the record with id, or ENOTFOUND.
func (ix *Index) Get(id string) (*Record, error) {
	var r *Record
	err := ix.db.View(func(tx *bolt.Tx) (err error) { r, err = getTx(tx, id); return })
	return r, err
}

// lookup returns the records whose key in bucket starts with prefix\0.
func (ix *Index) lookup(bucket []byte, parts ...string) ([]*Record, error) {
	prefix := append(join(parts...), 0)
	var out []*Record
	err := ix.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucket).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			r, err := getTx(tx, string(k[len(prefix):]))
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// BySHA256 returns the records of images with this content hash.
func (ix *Index) BySHA256(sum string) ([]*Record, error) { return ix.lookup(bSHA, sum) }

// ByCIP returns the records whose voucher shows this CIP.
func (ix *Index) ByCIP(cip string) ([]*Record, error) { return ix.lookup(bCIP, cip) }

// ByOperation returns the records whose voucher shows this operation number.
func (ix *Index) ByOperation(op string) ([]*Record, error) { return ix.lookup(bOp, op) }

// ByOrder returns the records uploaded for a merchant's order.
func (ix *Index) ByOrder(merchant, order string) ([]*Record, error) {
	return ix.lookup(bOrder, merchant, order)
}

// ByObjectKey returns the id of the record that owns an object key.
func (ix *Index) ByObjectKey(key string) (string, bool) {
	var id string
	_ = ix.db.View(func(tx *bolt.Tx) error {
		id = string(tx.Bucket(bKey).Get([]byte(key)))
		return nil
	})
	return id, id != ""
}

// PHashes calls fn for every (perceptual hash, id) pair, to load the
// in-memory near-duplicate search at start.
func (ix *Index) PHashes(fn func(h uint64, id string)) error {
	return ix.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bPHash).ForEach(func(k, _ []byte) error {
			fn(binary.BigEndian.Uint64(k[:8]), string(k[8:]))
			return nil
		})
	})
}

// ForEach calls fn for every record in id order until fn fails.
func (ix *Index) ForEach(fn func(*Record) error) error {
	return ix.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bReceipts).ForEach(func(k, v []byte) error {
			var r Record
			if err := json.Unmarshal(v, &r); err != nil {
				return constancia.Wrap(err, constancia.EINTERNAL, "corrupt record "+string(k))
			}
			return fn(&r)
		})
	})
}

// Expiring is an image due for deletion.
type Expiring struct {
	ID, ObjectKey string
}

// ByDecision calls fn with each record of decision d, oldest upload first,
// until fn returns an error (ErrStop ends early without one).
func (ix *Index) ByDecision(d string, fn func(*Record) error) error {
	prefix := append([]byte(d), 0)
	return ix.scan(bDecision, prefix, prefix, fn)
}

// UploadedSince calls fn with each record uploaded at or after t, oldest
// first.
func (ix *Index) UploadedSince(t time.Time, fn func(*Record) error) error {
	return ix.scan(bUploaded, nil, timeKey(nil, t, ""), fn)
}

// ErrStop, returned by a scan's callback, ends the scan without an error.
var ErrStop = errors.New("stop")

// scan walks bucket from seek while keys start with prefix, calling fn with
// each key's record (the id follows prefix and 8 bytes of time).
func (ix *Index) scan(bucket, prefix, seek []byte, fn func(*Record) error) error {
	err := ix.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucket).Cursor()
		for k, _ := c.Seek(seek); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			if len(k) < len(prefix)+8 {
				continue
			}
			r, err := getTx(tx, string(k[len(prefix)+8:]))
			if err != nil {
				return err
			}
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, ErrStop) {
		return nil
	}
	return err
}

// Expired returns up to limit images that expire at or before now and are
// neither purged nor held, oldest first: a range scan of the expiry bucket
// from its first key (the earliest time) up to now.
func (ix *Index) Expired(now time.Time, limit int) ([]Expiring, error) {
	var out []Expiring
	end := make([]byte, 8)
	binary.BigEndian.PutUint64(end, uint64(now.Unix()))
	err := ix.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bExpiry).Cursor()
		for k, _ := c.Seek(make([]byte, 8)); k != nil && bytes.Compare(k[:8], end) <= 0 && len(out) < limit; k, _ = c.Next() {
			r, err := getTx(tx, string(k[8:]))
			if err != nil {
				return err
			}
			out = append(out, Expiring{ID: r.ID, ObjectKey: r.ObjectKey})
		}
		return nil
	})
	return out, err
}

// MarkPurged records, in one transaction, that the images of ids were
// deleted at t; held records (a hold placed since they were listed) get a
// note saying so.
func (ix *Index) MarkPurged(ids []string, t time.Time) error {
	return dbErr(ix.db.Update(func(tx *bolt.Tx) error {
		for _, id := range ids {
			r, err := getTx(tx, id)
			if err != nil {
				return err
			}
			if r.Held {
				r.Note = "deleted by the sweeper while a hold was being placed"
			}
			r.PurgedAt = &t
			if err := putTx(tx, r); err != nil {
				return err
			}
		}
		return nil
	}))
}

// Update applies fn to the record with id in one transaction, reindexing it.
func (ix *Index) Update(id string, fn func(*Record) error) error {
	return dbErr(ix.db.Update(func(tx *bolt.Tx) error {
		r, err := getTx(tx, id)
		if err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
		return putTx(tx, r)
	}))
}

// WriteTo writes a consistent copy of the whole index to w while others
// keep reading and writing (a hot backup).
func (ix *Index) WriteTo(w io.Writer) (int64, error) {
	var n int64
	err := ix.db.View(func(tx *bolt.Tx) (err error) { n, err = tx.WriteTo(w); return })
	return n, err
}

// Check runs bbolt's page consistency check; it returns the first problem.
func (ix *Index) Check() error {
	return ix.db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	})
}

// Count returns the number of records.
func (ix *Index) Count() (n int) {
	_ = ix.db.View(func(tx *bolt.Tx) error { n = tx.Bucket(bReceipts).Stats().KeyN; return nil })
	return n
}
