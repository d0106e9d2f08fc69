package storage_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/constancia/constancia"
	"github.com/constancia/constancia/storage"
	"github.com/constancia/constancia/storage/storagetest"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// MustOpenIndex opens an index in a temp dir and checks its consistency
// when the test ends.
func MustOpenIndex(tb testing.TB, path string) *storage.Index {
	tb.Helper()
	if path == "" {
		path = filepath.Join(tb.TempDir(), "index.db")
	}
	ix, err := storage.OpenIndex(path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := ix.Check(); err != nil {
			tb.Errorf("index inconsistent at cleanup: %v", err)
		}
		ix.Close()
	})
	return ix
}

func mustKeeper(tb testing.TB, store storage.ObjectStore, c *clock) *storage.Keeper {
	tb.Helper()
	k, err := storage.NewKeeper(store, MustOpenIndex(tb, ""), storage.Config{Now: c.Now, OrphanGrace: time.Nanosecond})
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func rec(cip string) *storage.Record {
	return &storage.Record{Merchant: "m1", OrderID: "o-" + cip, ContentType: "image/jpeg",
		Fields: map[string]string{"cip": cip, "amount": "149.90", "operation": "op" + cip}, PHash: 0xF0F0, Decision: "verified"}
}

func backends(t *testing.T) map[string]func(t *testing.T) storage.ObjectStore {
	srv := storagetest.StartS3Server(t)
	return map[string]func(t *testing.T) storage.ObjectStore{
		"fs": func(t *testing.T) storage.ObjectStore { return MustOpenFS(t) },
		"s3": func(t *testing.T) storage.ObjectStore { return storagetest.MustOpenS3(t, srv) },
	}
}

func TestRetention(t *testing.T) {
	ctx := context.Background()
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			c := &clock{t: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
			k := mustKeeper(t, open(t), c)
			r := rec("12345678")
			if err := k.Save(ctx, r, []byte("jpeg bytes")); err != nil {
				t.Fatal(err)
			}
			held := rec("87654321")
			if err := k.Save(ctx, held, []byte("disputed")); err != nil {
				t.Fatal(err)
			}
			if err := k.Hold(ctx, held.ID, true, "agent ana", "chargeback 991"); err != nil {
				t.Fatal(err)
			}
			c.Add(180*24*time.Hour - time.Second)
			if n, err := k.Sweep(ctx); err != nil || n != 0 {
				t.Fatalf("sweep one second before 180 days purged %d (%v)", n, err)
			}
			c.Add(2 * time.Second)
			if n, err := k.Sweep(ctx); err != nil || n != 1 {
				t.Fatalf("sweep after 180 days purged %d (%v), want 1 (the unheld one)", n, err)
			}
			if _, _, err := k.Image(ctx, r.ID); constancia.ErrorCode(err) != constancia.ENOTFOUND {
				t.Fatalf("purged image still readable: %v", err)
			}
			if _, err := k.Store.Stat(ctx, r.ObjectKey); constancia.ErrorCode(err) != constancia.ENOTFOUND {
				t.Fatalf("purged object still stored: %v", err)
			}
			got, err := k.Index.Get(r.ID)
			if err != nil || got.PurgedAt == nil || got.Fields["cip"] != "12345678" || got.Decision != "verified" {
				t.Fatalf("purged record lost its audit data: %+v %v", got, err)
			}
			rc, _, err := k.Image(ctx, held.ID)
			if err != nil {
				t.Fatalf("held image gone: %v", err)
			}
			b, _ := io.ReadAll(rc)
			rc.Close()
			if string(b) != "disputed" {
				t.Fatalf("held image = %q", b)
			}
			if err := k.Hold(ctx, held.ID, false, "agent ana", "resolved"); err != nil {
				t.Fatal(err)
			}
			if n, err := k.Sweep(ctx); err != nil || n != 1 {
				t.Fatalf("released hold past expiry: purged %d (%v)", n, err)
			}
			h, _ := k.Index.Get(held.ID)
			if len(h.Holds) != 2 || h.Holds[0].By != "agent ana" || !h.Holds[0].Hold || h.Holds[1].Hold {
				t.Fatalf("hold log = %+v", h.Holds)
			}
			if err := k.Hold(ctx, held.ID, true, "x", "too late"); constancia.ErrorCode(err) != constancia.ECONFLICT {
				t.Fatalf("hold on purged receipt: %v", err)
			}
			rep, err := k.Fsck(ctx, false)
			if err != nil || !rep.OK() {
				t.Fatalf("fsck after retention: %+v %v", rep, err)
			}
		})
	}
}

func TestCrashMidSweepIsFinishedLater(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	k := mustKeeper(t, MustOpenFS(t), c)
	r := rec("11112222")
	if err := k.Save(ctx, r, []byte("x")); err != nil {
		t.Fatal(err)
	}
	c.Add(181 * 24 * time.Hour)
	// The sweeper deleted the object and died before marking the record.
	if err := k.Store.Delete(ctx, r.ObjectKey); err != nil {
		t.Fatal(err)
	}
	rep, _ := k.Fsck(ctx, false)
	if len(rep.Unswept) != 1 || len(rep.Dangling) != 0 {
		t.Fatalf("fsck did not see the half-swept record as unswept: %+v", rep)
	}
	if n, err := k.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("resumed sweep purged %d (%v)", n, err)
	}
	if rep, _ := k.Fsck(ctx, false); !rep.OK() {
		t.Fatalf("fsck after resumed sweep: %+v", rep)
	}
}

func TestFsckOrphanAndRepair(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: time.Now()}
	k := mustKeeper(t, MustOpenFS(t), c)
	if err := k.Store.Put(ctx, "2026/01/01/orphan.jpg", bytes.NewReader([]byte("o")), 1, "image/jpeg", ""); err != nil {
		t.Fatal(err)
	}
	r := rec("33334444")
	if err := k.Save(ctx, r, []byte("kept")); err != nil {
		t.Fatal(err)
	}
	c.Add(time.Minute)
	rep, err := k.Fsck(ctx, true)
	if err != nil || len(rep.Orphans) != 1 || rep.Orphans[0] != "2026/01/01/orphan.jpg" || len(rep.Dangling) != 0 || !rep.Repaired {
		t.Fatalf("fsck = %+v, %v", rep, err)
	}
	if rep, _ := k.Fsck(ctx, false); !rep.OK() {
		t.Fatalf("after repair: %+v", rep)
	}
	if _, _, err := k.Image(ctx, r.ID); err != nil {
		t.Fatalf("repair touched a good image: %v", err)
	}
}

func TestFailedIndexWriteLeavesNoObject(t *testing.T) {
	ctx := context.Background()
	store := MustOpenFS(t)
	ix, err := storage.OpenIndex(filepath.Join(t.TempDir(), "i.db"))
	if err != nil {
		t.Fatal(err)
	}
	k, _ := storage.NewKeeper(store, ix, storage.Config{})
	ix.Close() // every index write now fails
	if err := k.Save(ctx, rec("55556666"), []byte("img")); err == nil {
		t.Fatal("Save succeeded with a closed index")
	}
	n := 0
	store.List(ctx, "", func(storage.ObjectInfo) error { n++; return nil })
	if n != 0 {
		t.Fatalf("%d objects left after a failed save", n)
	}
}

func TestBadRecordIsRejected(t *testing.T) {
	ix := MustOpenIndex(t, "")
	if err := ix.Put(&storage.Record{ID: "x"}); constancia.ErrorCode(err) != constancia.EINVALID {
		t.Fatalf("record without key/hash: %v", err)
	}
	if _, err := ix.Get("nope"); constancia.ErrorCode(err) != constancia.ENOTFOUND {
		t.Fatalf("Get unknown: %v", err)
	}
}

func TestLookupsAndBackup(t *testing.T) {
	ctx := context.Background()
	k := mustKeeper(t, MustOpenFS(t), &clock{t: time.Now()})
	a, b := rec("10000001"), rec("10000002")
	for _, r := range []*storage.Record{a, b} {
		if err := k.Save(ctx, r, []byte(r.Fields["cip"])); err != nil {
			t.Fatal(err)
		}
	}
	if rs, _ := k.Index.ByCIP("10000001"); len(rs) != 1 || rs[0].ID != a.ID {
		t.Fatalf("ByCIP = %v", rs)
	}
	if rs, _ := k.Index.BySHA256(b.SHA256); len(rs) != 1 || rs[0].ID != b.ID {
		t.Fatalf("BySHA256 = %v", rs)
	}
	if rs, _ := k.Index.ByOperation("op10000002"); len(rs) != 1 {
		t.Fatalf("ByOperation = %v", rs)
	}
	if rs, _ := k.Index.ByOrder("m1", "o-10000001"); len(rs) != 1 {
		t.Fatalf("ByOrder = %v", rs)
	}
	if rs, _ := k.Index.ByCIP("1000000"); len(rs) != 0 {
		t.Fatalf("prefix of a CIP matched: %v", rs)
	}
	// A record that changes its CIP is reindexed.
	if err := k.Index.Update(a.ID, func(r *storage.Record) error { r.Fields["cip"] = "20000001"; return nil }); err != nil {
		t.Fatal(err)
	}
	if rs, _ := k.Index.ByCIP("10000001"); len(rs) != 0 {
		t.Fatalf("stale index entry after update: %v", rs)
	}
	var buf bytes.Buffer
	if _, err := k.Index.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "backup.db")
	if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	cp := MustOpenIndex(t, p)
	if cp.Count() != 2 {
		t.Fatalf("backup has %d records", cp.Count())
	}
}

func TestConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	k := mustKeeper(t, MustOpenFS(t), &clock{t: time.Now()})
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 40; i++ {
				if err := k.Save(ctx, rec(fmt.Sprintf("%d%07d", w+1, i)), []byte(fmt.Sprint(w, i))); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if n := k.Index.Count(); n != 320 {
		t.Fatalf("%d records, want 320", n)
	}
	if rep, err := k.Fsck(ctx, false); err != nil || !rep.OK() {
		t.Fatalf("fsck: %+v %v", rep, err)
	}
}

func TestSchemaVersion(t *testing.T) {
	p := filepath.Join(t.TempDir(), "i.db")
	ix, err := storage.OpenIndex(p)
	if err != nil {
		t.Fatal(err)
	}
	ix.Close()
	db, err := bolt.Open(p, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("meta")).Put([]byte("schema_version"), []byte{0, 0, 0, 99})
	})
	db.Close()
	if _, err := storage.OpenIndex(p); err == nil {
		t.Fatal("opened an index from a newer schema")
	}
}

// TestKill9MidWrite starts a child process that saves vouchers in a loop,
// kills it with SIGKILL, and checks that nothing is lost or dangling: every
// record's image is there; at most one object has no record (the one being
// written), and fsck --repair removes it.
func TestKill9MidWrite(t *testing.T) {
	if os.Getenv("CONSTANCIA_CRASH_CHILD") != "" {
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
	cmd.Env = append(os.Environ(), "CONSTANCIA_CRASH_CHILD="+dir)
	out := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Let it write for a while, then kill it without warning.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		if b, _ := os.ReadFile(filepath.Join(dir, "progress")); len(b) > 0 && string(b) >= "0050" {
			break
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	store, _ := storage.NewFSStore(filepath.Join(dir, "objects"))
	ix := MustOpenIndex(t, filepath.Join(dir, "index.db"))
	k, _ := storage.NewKeeper(store, ix, storage.Config{OrphanGrace: time.Nanosecond})
	time.Sleep(time.Millisecond)
	rep, err := k.Fsck(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Records < 10 {
		t.Fatalf("child wrote only %d records before the kill: %s", rep.Records, out)
	}
	if len(rep.Dangling) != 0 || rep.IndexErr != nil {
		t.Fatalf("after kill -9: %d dangling records, index error %v", len(rep.Dangling), rep.IndexErr)
	}
	if len(rep.Orphans) > 2 {
		t.Fatalf("after kill -9: %d orphan objects, want at most the in-flight ones", len(rep.Orphans))
	}
	if rep2, _ := k.Fsck(context.Background(), false); !rep2.OK() {
		t.Fatalf("fsck after repair: %+v", rep2)
	}
	t.Logf("killed after %d records; %d orphan(s) repaired", rep.Records, len(rep.Orphans))
}

// TestCrashChild is the child of TestKill9MidWrite; it does nothing unless
// started by it.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv("CONSTANCIA_CRASH_CHILD")
	if dir == "" {
		t.Skip("helper process for TestKill9MidWrite")
	}
	store, _ := storage.NewFSStore(filepath.Join(dir, "objects"))
	ix, err := storage.OpenIndex(filepath.Join(dir, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	k, _ := storage.NewKeeper(store, ix, storage.Config{})
	data := bytes.Repeat([]byte("voucher image "), 20000)
	for i := 0; ; i++ {
		if err := k.Save(context.Background(), rec(fmt.Sprintf("%08d", i)), data); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "progress"), []byte(fmt.Sprintf("%04d", i)), 0o600)
	}
}

// TestKill9MidSweep kills a process in the middle of a retention sweep
// of many expired images; afterwards nothing is dangling, and the next
// sweep finishes the job.
func TestKill9MidSweep(t *testing.T) {
	if os.Getenv("CONSTANCIA_CRASH_CHILD") != "" {
		return
	}
	dir := t.TempDir()
	store, _ := storage.NewFSStore(filepath.Join(dir, "objects"))
	ix, err := storage.OpenIndex(filepath.Join(dir, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Now().Add(-200 * 24 * time.Hour)}
	k, _ := storage.NewKeeper(store, ix, storage.Config{Now: c.Now})
	const n = 1000
	for i := 0; i < n; i++ {
		if err := k.Save(context.Background(), rec(fmt.Sprintf("%08d", i)), []byte("img")); err != nil {
			t.Fatal(err)
		}
	}
	ix.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSweepChild$")
	cmd.Env = append(os.Environ(), "CONSTANCIA_CRASH_CHILD="+dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill once the sweep is under way but not done.
	for i := 0; i < 400; i++ {
		time.Sleep(25 * time.Millisecond)
		left := 0
		filepath.WalkDir(filepath.Join(dir, "objects"), func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && filepath.Ext(p) == ".jpg" {
				left++
			}
			return nil
		})
		if left < n*3/4 {
			break
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	ix2 := MustOpenIndex(t, filepath.Join(dir, "index.db"))
	k2, _ := storage.NewKeeper(store, ix2, storage.Config{OrphanGrace: time.Nanosecond})
	rep, err := k2.Fsck(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Records != n || len(rep.Orphans) != 0 || rep.IndexErr != nil {
		t.Fatalf("after kill -9 mid-sweep: %+v", rep)
	}
	// Only expired images are gone; at most the batch being swept at the
	// kill is unmarked, and the next sweep marks it.
	if len(rep.Dangling) != 0 || len(rep.Unswept) > 100 {
		t.Fatalf("after kill -9 mid-sweep: %d dangling, %d unswept", len(rep.Dangling), len(rep.Unswept))
	}
	left, err := k2.Sweep(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep, _ := k2.Fsck(context.Background(), false); !rep.OK() {
		t.Fatalf("after the resumed sweep: %+v", rep)
	}
	t.Logf("resumed sweep purged %d of %d", left, n)
	if left == 0 || left == n {
		t.Fatalf("the kill did not land mid-sweep (resumed sweep purged %d of %d)", left, n)
	}
}

// TestSweepChild is the child of TestKill9MidSweep.
func TestSweepChild(t *testing.T) {
	dir := os.Getenv("CONSTANCIA_CRASH_CHILD")
	if dir == "" {
		t.Skip("helper process for TestKill9MidSweep")
	}
	store, _ := storage.NewFSStore(filepath.Join(dir, "objects"))
	ix, err := storage.OpenIndex(filepath.Join(dir, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	k, _ := storage.NewKeeper(store, ix, storage.Config{SweepBatch: 100})
	k.Sweep(context.Background())
	time.Sleep(time.Hour) // only the parent's kill ends this process
}

// TestS3LifecycleAndHoldTags: asking for the lifecycle safety net on a
// server without lifecycle support (versitygw) fails at start with a clear
// error instead of running without it; a hold re-tags the object so a
// tag-filtered lifecycle rule cannot expire it.
func TestS3LifecycleAndHoldTags(t *testing.T) {
	srv := storagetest.StartS3Server(t)
	ctx := context.Background()
	cfg := srv.Config("lifecycle-test")
	cfg.LifecycleDays = 190
	_, err := storage.NewS3Store(ctx, cfg)
	if constancia.ErrorCode(err) != constancia.EUNAVAILABLE || !strings.Contains(constancia.ErrorMessage(err), "lifecycle") {
		t.Fatalf("lifecycle on a server without it: %v, want a clear unavailable error", err)
	}
	cfg.LifecycleDays = 0
	s, err := storage.NewS3Store(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "2026/01/01/h.jpg", bytes.NewReader([]byte("x")), 1, "image/jpeg", ""); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Tag(ctx, "2026/01/01/h.jpg"); err != nil || got != "standard" {
		t.Fatalf("new object tag = %q (%v), want standard", got, err)
	}
	for _, hold := range []bool{true, false} {
		if err := s.SetHold(ctx, "2026/01/01/h.jpg", hold); err != nil {
			t.Fatalf("SetHold(%v): %v", hold, err)
		}
		got, err := s.Tag(ctx, "2026/01/01/h.jpg")
		want := map[bool]string{true: "hold", false: "standard"}[hold]
		if err != nil || got != want {
			t.Fatalf("retention tag = %q (%v), want %q", got, err, want)
		}
	}
}

// TestFullDisk fills a small tmpfs holding both the objects and the index:
// every failed save is a clear unavailable error, and afterwards each record
// has its image, no image lacks a record, and the index is consistent.
func TestFullDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs (CI runs as root)")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount tmpfs here: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	store, err := storage.NewFSStore(filepath.Join(dir, "objects"))
	if err != nil {
		t.Fatal(err)
	}
	ix, err := storage.OpenIndex(filepath.Join(dir, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	k, _ := storage.NewKeeper(store, ix, storage.Config{OrphanGrace: time.Nanosecond})
	ctx := context.Background()
	data := bytes.Repeat([]byte("0123456789abcdef"), 2048) // 32 KiB
	saved, failed := 0, 0
	for i := 0; i < 64 && failed < 3; i++ {
		err := k.Save(ctx, rec(fmt.Sprintf("%08d", i)), data)
		switch {
		case err == nil:
			saved++
		case constancia.ErrorCode(err) == constancia.EUNAVAILABLE:
			failed++
		default:
			t.Fatalf("save %d on a full disk: %v, want unavailable", i, err)
		}
	}
	if saved == 0 || failed == 0 {
		t.Fatalf("saved %d, failed %d: the disk never filled", saved, failed)
	}
	if n := ix.Count(); n != saved {
		t.Fatalf("index holds %d records, %d saves succeeded", n, saved)
	}
	time.Sleep(time.Millisecond)
	rep, err := k.Fsck(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("after a full disk: %+v", rep)
	}
	ix.Close()
	t.Logf("saved %d vouchers, then %d clean failures", saved, failed)
}

// TestHotBackupDuringWrites copies the index while writers commit; the copy
// opens, passes bbolt's consistency check and holds a prefix of the writes.
func TestHotBackupDuringWrites(t *testing.T) {
	ctx := context.Background()
	k := mustKeeper(t, MustOpenFS(t), &clock{t: time.Now()})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := k.Save(ctx, rec(fmt.Sprintf("%d%07d", w+1, i)), []byte("x")); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	time.Sleep(200 * time.Millisecond)
	p := filepath.Join(t.TempDir(), "hot.db")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Index.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	time.Sleep(100 * time.Millisecond)
	close(stop)
	wg.Wait()
	cp := MustOpenIndex(t, p) // checks consistency on cleanup
	if n, all := cp.Count(), k.Index.Count(); n == 0 || n >= all {
		t.Fatalf("backup holds %d of %d records: want a consistent snapshot taken mid-way", n, all)
	}
}
