package storage_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/constancia/constancia/storage"
)

// put stores a record uploaded at t with decision d.
func put(t *testing.T, ix *storage.Index, id, d string, at time.Time) *storage.Record {
	t.Helper()
	r := rec(id)
	r.ID, r.ObjectKey, r.SHA256, r.Decision, r.UploadedAt = id, "k/"+id, "sha-"+id, d, at
	if err := ix.Put(r); err != nil {
		t.Fatal(err)
	}
	return r
}

func ids(t *testing.T, scan func(func(*storage.Record) error) error) string {
	t.Helper()
	var out []string
	if err := scan(func(r *storage.Record) error { out = append(out, r.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	return strings.Join(out, ",")
}

func TestByDecisionAndUploadedSince(t *testing.T) {
	ix := MustOpenIndex(t, "")
	t0 := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	put(t, ix, "c", "needs_review", t0.Add(2*time.Hour))
	put(t, ix, "a", "needs_review", t0)
	put(t, ix, "b", "verified", t0.Add(time.Hour))
	put(t, ix, "d", "needs_review_x", t0.Add(-time.Hour)) // a longer decision sharing the prefix
	queue := func(f func(*storage.Record) error) error { return ix.ByDecision("needs_review", f) }
	if got := ids(t, queue); got != "a,c" {
		t.Fatalf("queue %s, want a,c (oldest first)", got)
	}
	if got := ids(t, func(f func(*storage.Record) error) error { return ix.UploadedSince(t0.Add(time.Hour), f) }); got != "b,c" {
		t.Fatalf("uploaded since 10:00: %s, want b,c", got)
	}
	// A decision changes: the record leaves the queue.
	put(t, ix, "a", "verified", t0)
	if got := ids(t, queue); got != "c" {
		t.Fatalf("queue after approving a: %s, want c", got)
	}
	// ErrStop ends a scan early and quietly.
	n := 0
	if err := ix.UploadedSince(time.Time{}, func(*storage.Record) error { n++; return storage.ErrStop }); err != nil || n != 1 {
		t.Fatalf("stopped scan: %d calls, %v", n, err)
	}
}

func TestMigrationBuildsDecisionIndex(t *testing.T) {
	p := filepath.Join(t.TempDir(), "i.db")
	ix, err := storage.OpenIndex(p)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	for i := 0; i < 5; i++ {
		put(t, ix, fmt.Sprint("r", i), []string{"needs_review", "verified"}[i%2], t0.Add(time.Duration(i)*time.Minute))
	}
	ix.Close()
	// Make it a version 1 file: no decision or upload-time buckets.
	db, err := bolt.Open(p, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		for _, b := range []string{"idx_decision", "idx_uploaded"} {
			if err := tx.DeleteBucket([]byte(b)); err != nil {
				return err
			}
		}
		return tx.Bucket([]byte("meta")).Put([]byte("schema_version"), []byte{0, 0, 0, 1})
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	ix = MustOpenIndex(t, p)
	if got := ids(t, func(f func(*storage.Record) error) error { return ix.ByDecision("needs_review", f) }); got != "r0,r2,r4" {
		t.Fatalf("queue after migration: %s", got)
	}
	if got := ids(t, func(f func(*storage.Record) error) error { return ix.UploadedSince(t0.Add(3*time.Minute), f) }); got != "r3,r4" {
		t.Fatalf("uploaded since after migration: %s", got)
	}
}
