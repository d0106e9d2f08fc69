package fraud_test

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/constancia/constancia/fraud"
	"github.com/constancia/constancia/storage"
)

// world is a real bbolt index with its in-memory hash index.
type world struct {
	ix     *storage.Index
	hashes *fraud.HashIndex
	c      *fraud.Checker
	n      int
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ix, err := storage.OpenIndex(filepath.Join(t.TempDir(), "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	h := &fraud.HashIndex{}
	return &world{ix: ix, hashes: h, c: fraud.NewChecker(fraud.DefaultConfig, ix, h)}
}

// store records an earlier upload and returns its id.
func (w *world) store(t *testing.T, e fraud.Evidence) string {
	t.Helper()
	w.n++
	id := fmt.Sprintf("r%03d", w.n)
	r := &storage.Record{ID: id, Merchant: e.Merchant, OrderID: e.OrderID, ObjectKey: "2026/01/01/" + id + ".jpg", SHA256: e.SHA256,
		PHash: e.Hashes.PHash, Fields: e.Fields, Confidence: e.Confidence, Quality: e.Quality, UploadedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}
	if err := w.ix.Put(r); err != nil {
		t.Fatal(err)
	}
	w.hashes.Add(e.Hashes.PHash, id)
	return id
}

func fields(cip, op, amount, paid string) map[string]string {
	return map[string]string{"cip": cip, "operation": op, "amount": amount, "currency": "PEN", "paid_at": paid}
}

const h0 = uint64(0xA5A5_0F0F_3C3C_9999)

// TestRetakeOfHeldVoucher: another photo of the same voucher for the same
// order is a retry (answered with the earlier receipt) when that receipt
// verified the order, and otherwise a retake read on its own, measured
// against the order's latest receipt of it; for another order it stays a
// duplicate; the very same bytes are a retry, unless their receipt was
// superseded by a newer capture.
func TestRetakeOfHeldVoucher(t *testing.T) {
	capture := func(sha string, bits int) fraud.Evidence {
		return fraud.Evidence{Merchant: "m", OrderID: "o1", SHA256: sha, Hashes: fraud.Hashes{PHash: h0 ^ (1<<uint(bits) - 1)},
			Fields: fields("73488329", "174009305", "149.90", "2026-11-21T18:42:07-05:00")}
	}
	type earlier struct {
		e        fraud.Evidence
		decision string
	}
	other := capture("sha-sharp", 3)
	other.OrderID = "o2"
	for _, tc := range []struct {
		name    string
		before  []earlier
		e       fraud.Evidence
		retryOf int // index into before, -1 for none
		retake  int
		flags   string
	}{
		{"new photo, first held for review", []earlier{{capture("sha-blurry", 0), "needs_review"}}, capture("sha-sharp", 3), -1, 0, "[]"},
		{"new photo, first verified", []earlier{{capture("sha-blurry", 0), "verified"}}, capture("sha-sharp", 3), 0, -1, "[]"},
		{"new photo after a new one was asked for", []earlier{{capture("sha-blurry", 0), "rejected"}}, capture("sha-sharp", 3), -1, 0, "[]"},
		{"same bytes, first held for review", []earlier{{capture("sha-blurry", 0), "needs_review"}}, capture("sha-blurry", 0), 0, -1, "[]"},
		{"third photo: measured against the latest", []earlier{{capture("sha-1", 0), "superseded"}, {capture("sha-2", 2), "needs_review"}}, capture("sha-3", 3), -1, 1, "[]"},
		{"superseded bytes again: the latest answers", []earlier{{capture("sha-1", 0), "superseded"}, {capture("sha-2", 2), "verified"}}, capture("sha-1", 0), 1, -1, "[]"},
		{"new photo for another order", []earlier{{capture("sha-blurry", 0), "needs_review"}}, other, -1, -1, "[duplicate]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			var ids []string
			for i, b := range tc.before {
				id := w.store(t, b.e)
				d := b.decision
				at := time.Now().Add(time.Duration(i-10) * time.Minute)
				if err := w.ix.Update(id, func(r *storage.Record) error { r.Decision, r.UploadedAt = d, at; return nil }); err != nil {
					t.Fatal(err)
				}
				ids = append(ids, id)
			}
			f, err := w.c.Check(tc.e)
			if err != nil {
				t.Fatal(err)
			}
			wantRetry, wantRetake := "", ""
			if tc.retryOf >= 0 {
				wantRetry = ids[tc.retryOf]
			}
			if tc.retake >= 0 {
				wantRetake = ids[tc.retake]
			}
			if f.Retry != (wantRetry != "") || f.RetryOf != wantRetry || f.RetakeOf != wantRetake || fmt.Sprint(f.Flags) != tc.flags {
				t.Fatalf("retry %v of %q, retake of %q, flags %v; want retry of %q, retake of %q, flags %s", f.Retry, f.RetryOf, f.RetakeOf, f.Flags, wantRetry, wantRetake, tc.flags)
			}
		})
	}
}

func TestCheckLayers(t *testing.T) {
	orig := fraud.Evidence{Merchant: "m", OrderID: "o1", SHA256: "sha-orig", Hashes: fraud.Hashes{PHash: h0},
		Fields: fields("73488329", "174009305", "149.90", "2026-11-21T18:42:07-05:00")}
	flip := func(h uint64, n int) uint64 { // h with n low bits flipped
		return h ^ (1<<uint(n) - 1)
	}
	for _, tc := range []struct {
		name      string
		e         fraud.Evidence
		flags     []string
		field     string
		retry     bool
		dupOfOrig bool
	}{
		{"exact copy for another order", fraud.Evidence{Merchant: "m", OrderID: "o2", SHA256: "sha-orig", Fields: orig.Fields}, []string{"duplicate"}, "", false, true},
		{"exact copy for the same order is a retry", fraud.Evidence{Merchant: "m", OrderID: "o1", SHA256: "sha-orig", Fields: orig.Fields}, nil, "", true, false},
		{"re-photographed: same fields, other bytes", fraud.Evidence{Merchant: "m", OrderID: "o3", SHA256: "sha-2", Hashes: fraud.Hashes{PHash: flip(h0, 9)},
			Fields: fields("73488329", "174009305", "149.90", "2026-11-21T18:42:00-05:00")}, []string{"duplicate"}, "", false, true},
		{"same payment, different hash (screenshot of a screenshot)", fraud.Evidence{Merchant: "m", OrderID: "o4", SHA256: "sha-3", Hashes: fraud.Hashes{PHash: ^h0},
			Fields: fields("73488329", "174009305", "149.90", "")}, []string{"duplicate"}, "", false, true},
		{"amount edited", fraud.Evidence{Merchant: "m", OrderID: "o5", SHA256: "sha-4", Hashes: fraud.Hashes{PHash: flip(h0, 4)},
			Fields: fields("73488329", "174009305", "849.90", "2026-11-21T18:42:07-05:00")}, []string{"edited"}, "amount", false, true},
		{"date edited", fraud.Evidence{Merchant: "m", OrderID: "o6", SHA256: "sha-5", Hashes: fraud.Hashes{PHash: flip(h0, 3)},
			Fields: fields("73488329", "174009305", "149.90", "2026-11-24T18:42:07-05:00")}, []string{"edited"}, "paid_at", false, true},
		{"CIP edited to match another order", fraud.Evidence{Merchant: "m", OrderID: "o7", SHA256: "sha-6", Hashes: fraud.Hashes{PHash: flip(h0, 5)},
			Fields: fields("51110000", "174009305", "149.90", "2026-11-21T18:42:07-05:00")}, []string{"edited"}, "cip", false, true},
		{"same template look-alike: near hash, same amount and day, other CIP and operation", fraud.Evidence{Merchant: "m", OrderID: "o8", SHA256: "sha-7", Hashes: fraud.Hashes{PHash: flip(h0, 6)},
			Fields: fields("22223333", "998877665", "149.90", "2026-11-21T16:10:44-05:00")}, nil, "", false, false},
		{"near hash alone, nothing read", fraud.Evidence{Merchant: "m", OrderID: "o9", SHA256: "sha-8", Hashes: fraud.Hashes{PHash: h0}, Fields: map[string]string{}}, nil, "", false, false},
		{"re-capture with an OCR slip in the CIP", fraud.Evidence{Merchant: "m", OrderID: "o10", SHA256: "sha-9", Hashes: fraud.Hashes{PHash: flip(h0, 8)},
			Fields: fields("73488320", "", "149.90", "2026-11-21T18:42:07-05:00")}, []string{"duplicate"}, "", false, true},
		{"unrelated voucher", fraud.Evidence{Merchant: "m", OrderID: "o11", SHA256: "sha-10", Hashes: fraud.Hashes{PHash: ^h0},
			Fields: fields("12121212", "343434", "10.00", "2026-01-02T10:00:00-05:00")}, nil, "", false, false},
		{"editor named in metadata", fraud.Evidence{Merchant: "m", OrderID: "o12", SHA256: "sha-11", Hashes: fraud.Hashes{PHash: ^h0}, Data: []byte("\xff\xd8\xff\xe1..Exif..Adobe Photoshop 25.0..."),
			Fields: fields("45454545", "676767", "12.00", "2026-01-02T10:00:00-05:00")}, []string{"suspicious_metadata"}, "", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			origID := w.store(t, orig)
			f, err := w.c.Check(tc.e)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(f.Flags) != fmt.Sprint(tc.flags) && !(len(f.Flags) == 0 && len(tc.flags) == 0) {
				t.Fatalf("flags = %v, want %v (reasons %+v)", f.Flags, tc.flags, f.Reasons)
			}
			if f.Retry != tc.retry {
				t.Fatalf("retry = %v, want %v", f.Retry, tc.retry)
			}
			if tc.dupOfOrig != (f.DuplicateOf == origID) {
				t.Fatalf("duplicate_of = %q, want original %v", f.DuplicateOf, tc.dupOfOrig)
			}
			if tc.field != "" {
				found := false
				for _, r := range f.Reasons {
					found = found || (r.Code == "edited" && r.Field == tc.field && r.RefID == origID)
				}
				if !found {
					t.Fatalf("no edited reason naming %s: %+v", tc.field, f.Reasons)
				}
			}
			if len(f.Flags) > 0 && len(f.Reasons) == 0 {
				t.Fatal("a flag without a reason")
			}
		})
	}
}

func TestHashIndexNear(t *testing.T) {
	var x fraud.HashIndex
	x.Add(0, "zero")
	x.Add(0b111, "three")
	x.Add(^uint64(0), "all")
	got := x.Near(0b1, 3, 10)
	if len(got) != 2 || got[0].ID != "zero" || got[0].Distance != 1 || got[1].ID != "three" || got[1].Distance != 2 {
		t.Fatalf("Near = %+v", got)
	}
	if got := x.Near(0b1, 3, 1); len(got) != 1 {
		t.Fatalf("limit ignored: %+v", got)
	}
}

// BenchmarkNear measures a Hamming search over one million hashes and
// reports p99 latency and the memory the index holds per million.
func BenchmarkNear(b *testing.B) {
	var x fraud.HashIndex
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 1_000_000; i++ {
		x.Add(r.Uint64(), fmt.Sprintf("%032x", i))
	}
	var lat []time.Duration
	for b.Loop() {
		t0 := time.Now()
		x.Near(r.Uint64(), 10, 32)
		lat = append(lat, time.Since(t0))
	}
	sortDur(lat)
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	// 8 bytes of hash + a 16-byte string header + 32 bytes of id per entry.
	b.ReportMetric(float64(1_000_000*(8+16+32))/(1<<20), "MiB/million")
}

func sortDur(d []time.Duration) {
	for i := 1; i < len(d); i++ {
		for j := i; j > 0 && d[j] < d[j-1]; j-- {
			d[j], d[j-1] = d[j-1], d[j]
		}
	}
}

// TestUnsureFieldIsNoEdit: a re-capture whose operation number was read
// with low confidence (and wrong) is a duplicate, not an edit of the
// operation; read with confidence, the same difference is an edit.
func TestUnsureFieldIsNoEdit(t *testing.T) {
	orig := fraud.Evidence{Merchant: "m", OrderID: "o1", SHA256: "sha-1", Hashes: fraud.Hashes{PHash: h0},
		Fields: fields("36410080", "1807827", "7.00", "2026-09-27T06:38:25-05:00")}
	for _, tc := range []struct {
		conf  float64
		flags string
	}{{0.35, "[duplicate]"}, {0.9, "[edited]"}} {
		w := newWorld(t)
		w.store(t, orig)
		e := fraud.Evidence{Merchant: "m", OrderID: "o2", SHA256: "sha-2", Hashes: fraud.Hashes{PHash: h0 ^ 0x3f},
			Fields:     fields("36410080", "1007327", "7.00", "2026-09-27T06:38:25-05:00"),
			Confidence: map[string]float64{"cip": 0.97, "operation": tc.conf, "amount": 0.95, "paid_at": 0.9}}
		f, err := w.c.Check(e)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(f.Flags) != tc.flags {
			t.Fatalf("operation read at %.2f: flags %v, want %s", tc.conf, f.Flags, tc.flags)
		}
	}
}

// TestBlurryMisreadIsNoEdit: a blurry photo misread the payment time at
// 0.85 and was held for a retake; the sharp retake of the same voucher for
// another order reads the time right. That difference rests on the blurry
// reading, so it is no edit: the retake is the same voucher. Read at 0.95
// on the blurry photo, the time would count, and the retake is edited.
func TestBlurryMisreadIsNoEdit(t *testing.T) {
	sharp := fields("46513464", "000312038", "1354.00", "2026-11-22T20:25:57-05:00")
	for _, tc := range []struct {
		conf  float64
		flags string
	}{{0.85, "[duplicate]"}, {0.95, "[edited]"}} {
		w := newWorld(t)
		w.store(t, fraud.Evidence{Merchant: "m", OrderID: "o1", SHA256: "sha-1", Hashes: fraud.Hashes{PHash: h0},
			Fields:     fields("46513464", "000312038", "1354.00", "2026-11-22T20:23:57-05:00"),
			Confidence: map[string]float64{"cip": 0.36, "operation": 0.91, "amount": 0.89, "paid_at": tc.conf},
			Quality:    []string{"blurry"}})
		f, err := w.c.Check(fraud.Evidence{Merchant: "m", OrderID: "o2", SHA256: "sha-2", Hashes: fraud.Hashes{PHash: h0 ^ 0x3f},
			Fields: sharp, Confidence: map[string]float64{"cip": 0.97, "operation": 0.96, "amount": 0.89, "paid_at": 0.97}})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(f.Flags) != tc.flags {
			t.Fatalf("blurry time read at %.2f: flags %v, want %s", tc.conf, f.Flags, tc.flags)
		}
	}
}

// TestRetakeOfPoorPhoto: the buyer asked for a sharper photo sends one for
// the same order; the blurry one had misread the payment day surely
// ("21" for 23 at 0.91). The retake is judged on its own reading, not
// flagged `edited`; the earlier reading is kept in the reasons. The same
// difference against a sharp earlier upload for the same order (an amount
// changed after a rejection), or against a blurry one of another order,
// stays an edit.
func TestRetakeOfPoorPhoto(t *testing.T) {
	sharp := fields("46513464", "000312038", "1354.00", "2026-11-23T00:12:25-05:00")
	sure := map[string]float64{"cip": 0.97, "operation": 0.96, "amount": 0.89, "paid_at": 0.97}
	for _, tc := range []struct {
		name          string
		earlierOrder  string
		earlierFields map[string]string
		quality       []string
		flags         string
		retake        bool
	}{
		{"blurry, same order", "o1", fields("46513464", "000312038", "1354.00", "2026-11-21T00:12:25-05:00"), []string{"blurry"}, "[]", true},
		{"blurry, another order", "o2", fields("46513464", "000312038", "1354.00", "2026-11-21T00:12:25-05:00"), []string{"blurry"}, "[edited]", false},
		{"sharp, same order, amount changed", "o1", fields("46513464", "000312038", "135.40", "2026-11-23T00:12:25-05:00"), nil, "[edited]", false},
	} {
		w := newWorld(t)
		w.store(t, fraud.Evidence{Merchant: "m", OrderID: tc.earlierOrder, SHA256: "sha-1", Hashes: fraud.Hashes{PHash: h0},
			Fields: tc.earlierFields, Confidence: map[string]float64{"cip": 0.89, "operation": 0.91, "amount": 0.89, "paid_at": 0.91},
			Quality: tc.quality})
		f, err := w.c.Check(fraud.Evidence{Merchant: "m", OrderID: "o1", SHA256: "sha-2", Hashes: fraud.Hashes{PHash: h0 ^ 0x3f},
			Fields: sharp, Confidence: sure})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(f.Flags) != tc.flags || (f.RetakeOf != "") != tc.retake {
			t.Fatalf("%s: flags %v, retake of %q; want %s, retake %v (%+v)", tc.name, f.Flags, f.RetakeOf, tc.flags, tc.retake, f.Reasons)
		}
		if tc.retake && !strings.Contains(fmt.Sprint(f.Reasons), "paid_at is 2026-11-23T00:12:25-05:00 here, read 2026-11-21T00:12:25-05:00") {
			t.Fatalf("%s: the earlier reading is not in the reasons: %+v", tc.name, f.Reasons)
		}
	}
	// Not the other way round: a blurry capture, read surely, after a
	// sharp one for the same order whose amount it changes is an edit.
	w := newWorld(t)
	w.store(t, fraud.Evidence{Merchant: "m", OrderID: "o1", SHA256: "sha-1", Hashes: fraud.Hashes{PHash: h0},
		Fields: fields("46513464", "000312038", "135.40", "2026-11-23T00:12:25-05:00"), Confidence: sure})
	f, err := w.c.Check(fraud.Evidence{Merchant: "m", OrderID: "o1", SHA256: "sha-2", Hashes: fraud.Hashes{PHash: h0 ^ 0x3f},
		Fields: sharp, Confidence: map[string]float64{"cip": 0.97, "operation": 0.96, "amount": 0.95, "paid_at": 0.97}, Quality: []string{"blurry"}})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(f.Flags) != "[edited]" || f.RetakeOf != "" {
		t.Fatalf("blurry capture after a sharp one, amount changed: flags %v, retake of %q; want [edited]", f.Flags, f.RetakeOf)
	}
}

// TestMisdirectedUploadClaimsNothing: a voucher first sent through another
// order's link (held for review as order_id_mismatch) and then through its
// own is not re-used, in the same bytes or another capture; once an agent
// has approved the misdirected one, it counts.
func TestMisdirectedUploadClaimsNothing(t *testing.T) {
	v := fields("46513464", "000312038", "1354.00", "2026-11-23T00:12:25-05:00")
	sure := map[string]float64{"cip": 0.97, "operation": 0.96, "amount": 0.96, "paid_at": 0.97}
	for _, tc := range []struct {
		decision string
		reason   string
		sha      string
		flags    string
	}{
		{"needs_review", "order_id_mismatch", "sha-1", "[]"},
		{"needs_review", "order_id_mismatch", "sha-2", "[]"},
		{"rejected", "order_id_mismatch", "sha-2", "[]"},
		{"verified", "order_id_mismatch", "sha-1", "[duplicate]"},
		{"verified", "order_id_mismatch", "sha-2", "[duplicate]"},
		// sent for B, whose CIP it does not pay, then for its own order
		{"rejected", "cip_mismatch", "sha-1", "[]"},
		{"needs_review", "cip_mismatch", "sha-2", "[]"},
		// sent before its order was registered
		{"rejected", "order_not_found", "sha-1", "[]"},
		{"rejected", "amount_mismatch_underpaid", "sha-1", "[duplicate]"},
	} {
		w := newWorld(t)
		id := w.store(t, fraud.Evidence{Merchant: "m", OrderID: "B", SHA256: "sha-1", Hashes: fraud.Hashes{PHash: h0}, Fields: v, Confidence: sure})
		if err := w.ix.Update(id, func(r *storage.Record) error {
			r.Decision, r.Reasons = tc.decision, []string{tc.reason}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		f, err := w.c.Check(fraud.Evidence{Merchant: "m", OrderID: "A", SHA256: tc.sha, Hashes: fraud.Hashes{PHash: h0 ^ 0x7}, Fields: v, Confidence: sure})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(f.Flags) != tc.flags {
			t.Errorf("earlier upload to order B %s (%s), now %s to A: flags %v, want %s", tc.decision, tc.reason, tc.sha, f.Flags, tc.flags)
		}
	}
}

// TestConfusedDigitIsNoEdit: a re-photo of a voucher for another order
// reads its operation number with an 8 taken for a 0, unsurely: the same
// voucher re-used (duplicate), not an edit. Read surely, or with a digit
// no OCR confuses, the difference is an edit.
func TestConfusedDigitIsNoEdit(t *testing.T) {
	for _, tc := range []struct {
		op    string
		conf  float64
		flags string
	}{{"281500", 0.64, "[duplicate]"}, {"281500", 0.85, "[edited]"}, {"281520", 0.64, "[edited]"}} {
		w := newWorld(t)
		w.store(t, fraud.Evidence{Merchant: "m", OrderID: "o1", SHA256: "sha-1", Hashes: fraud.Hashes{PHash: h0},
			Fields:     fields("83343091", "281580", "1878.00", "2026-03-01T10:42:00-05:00"),
			Confidence: map[string]float64{"cip": 0.89, "operation": 0.89, "amount": 0.89, "paid_at": 0.89}})
		f, err := w.c.Check(fraud.Evidence{Merchant: "m", OrderID: "o2", SHA256: "sha-2", Hashes: fraud.Hashes{PHash: h0 ^ 0x3f},
			Fields:     fields("83343091", tc.op, "1878.00", "2026-03-01T10:42:00-05:00"),
			Confidence: map[string]float64{"cip": 0.89, "operation": tc.conf, "amount": 0.87, "paid_at": 0.89}})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(f.Flags) != tc.flags {
			t.Errorf("operation %s read at %.2f: flags %v, want %s", tc.op, tc.conf, f.Flags, tc.flags)
		}
	}
}
