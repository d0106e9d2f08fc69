package storage_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/constancia/constancia/storage"
)

func benchN(def int) int {
	if n, err := strconv.Atoi(os.Getenv("CONSTANCIA_BENCH_RECORDS")); err == nil && n > 0 {
		return n
	}
	return def
}

func benchRecord(i int, expires time.Time) *storage.Record {
	id := fmt.Sprintf("%032x", i)
	return &storage.Record{ID: id, Merchant: "m1", OrderID: fmt.Sprintf("o%08d", i), ObjectKey: "2026/01/01/" + id + ".jpg",
		SHA256: fmt.Sprintf("%064x", i*7919), ContentType: "image/jpeg", Size: 180000, PHash: uint64(i) * 0x9E3779B97F4A7C15,
		Fields:     map[string]string{"cip": fmt.Sprintf("%08d", i), "operation": fmt.Sprintf("%09d", i), "amount": "149.90", "currency": "PEN", "paid_at": "2026-11-21T18:42:07-05:00"},
		Confidence: map[string]float64{"cip": 0.96, "amount": 0.93, "paid_at": 0.95}, Decision: "verified",
		UploadedAt: expires.Add(-180 * 24 * time.Hour), ExpiresAt: expires}
}

// BenchmarkIndexInsert measures receipt inserts per second with fsync,
// from 64 concurrent writers whose commits bbolt batches.
func BenchmarkIndexInsert(b *testing.B) {
	ix := MustOpenIndex(b, "")
	var n atomic.Int64
	exp := time.Now().Add(time.Hour)
	b.SetParallelism(32)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := ix.Put(benchRecord(int(n.Add(1)), exp)); err != nil {
				b.Error(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "inserts/s")
}

// BenchmarkIndexInsertBatch measures inserts per second when records are
// committed 500 to a transaction (one fsync each), as a bulk import does.
func BenchmarkIndexInsertBatch(b *testing.B) {
	ix := MustOpenIndex(b, "")
	exp := time.Now().Add(time.Hour)
	batch := make([]*storage.Record, 500)
	i := 0
	for b.Loop() {
		for j := range batch {
			batch[j] = benchRecord(i, exp)
			i++
		}
		if err := ix.PutMany(batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "inserts/s")
}

func fillIndex(b *testing.B, ix *storage.Index, n int, exp time.Time) {
	b.Helper()
	batch := make([]*storage.Record, 0, 10000)
	for i := 0; i < n; i++ {
		batch = append(batch, benchRecord(i, exp))
		if len(batch) == cap(batch) || i == n-1 {
			if err := ix.PutMany(batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
}

// BenchmarkIndexLookup measures lookups by CIP and by SHA-256 in an index
// of CONSTANCIA_BENCH_RECORDS records (default 200 000), reporting p99.
func BenchmarkIndexLookup(b *testing.B) {
	n := benchN(200_000)
	path := filepath.Join(b.TempDir(), "index.db")
	ix := MustOpenIndex(b, path)
	fillIndex(b, ix, n, time.Now().Add(time.Hour))
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	var lat []time.Duration
	i := 0
	b.ResetTimer()
	for b.Loop() {
		k := (i * 7901) % n
		t0 := time.Now()
		var rs []*storage.Record
		var err error
		if i%2 == 0 {
			rs, err = ix.ByCIP(fmt.Sprintf("%08d", k))
		} else {
			rs, err = ix.BySHA256(fmt.Sprintf("%064x", k*7919))
		}
		lat = append(lat, time.Since(t0))
		if err != nil || len(rs) != 1 {
			b.Fatalf("lookup %d: %d records, %v", k, len(rs), err)
		}
		i++
	}
	sort.Slice(lat, func(a, c int) bool { return lat[a] < lat[c] })
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(n), "records")
	b.ReportMetric(float64(st.Size())/float64(n), "file-bytes/record")
}

// BenchmarkSweep measures the retention sweep of expired records whose
// images are on the filesystem backend (CONSTANCIA_BENCH_RECORDS, default
// 20 000 per run).
func BenchmarkSweep(b *testing.B) {
	n := benchN(20_000)
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		store, _ := storage.NewFSStore(filepath.Join(dir, "objects"))
		ix, err := storage.OpenIndex(filepath.Join(dir, "index.db"))
		if err != nil {
			b.Fatal(err)
		}
		past := time.Now().Add(-time.Hour)
		fillIndex(b, ix, n, past)
		for i := 0; i < n; i++ {
			p := filepath.Join(dir, "objects", "2026", "01", "01")
			os.MkdirAll(p, 0o750)
			os.WriteFile(filepath.Join(p, fmt.Sprintf("%032x.jpg", i)), []byte("x"), 0o600)
		}
		k, _ := storage.NewKeeper(store, ix, storage.Config{})
		b.StartTimer()
		got, err := k.Sweep(ctx)
		if err != nil || got != n {
			b.Fatalf("swept %d of %d: %v", got, n, err)
		}
		b.StopTimer()
		ix.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkReviewQueue lists the review queue (one record in 200) and one
// day's uploads from an index of CONSTANCIA_BENCH_RECORDS records (default
// 200 000, uploads spread over 180 days): range reads of the decision and
// upload-time buckets that the console uses.
func BenchmarkReviewQueue(b *testing.B) {
	n := benchN(200_000)
	ix := MustOpenIndex(b, filepath.Join(b.TempDir(), "index.db"))
	now := time.Now()
	span := 180 * 24 * time.Hour
	batch := make([]*storage.Record, 0, 10000)
	for i := 0; i < n; i++ {
		r := benchRecord(i, now.Add(time.Hour))
		r.UploadedAt = now.Add(-span + time.Duration(i)*(span/time.Duration(n)))
		if i%200 == 0 {
			r.Decision = "needs_review"
		}
		batch = append(batch, r)
		if len(batch) == cap(batch) || i == n-1 {
			if err := ix.PutMany(batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	var queue, today int
	for b.Loop() {
		queue, today = 0, 0
		if err := ix.ByDecision("needs_review", func(*storage.Record) error { queue++; return nil }); err != nil {
			b.Fatal(err)
		}
		if err := ix.UploadedSince(now.Add(-24*time.Hour), func(*storage.Record) error { today++; return nil }); err != nil {
			b.Fatal(err)
		}
	}
	if queue != (n+199)/200 {
		b.Fatalf("queue of %d, want %d", queue, (n+199)/200)
	}
	b.ReportMetric(float64(queue), "queued")
	b.ReportMetric(float64(today), "today")
	b.ReportMetric(float64(n), "records")
}
