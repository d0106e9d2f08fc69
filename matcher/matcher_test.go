package matcher_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/constancia/constancia"
	"github.com/constancia/constancia/matcher"
)

var t0 = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

// lima is Peru's time (UTC−5, no daylight saving), in which vouchers print.
var lima = time.FixedZone("PET", -5*3600)

func MustOpenBook(tb testing.TB) *matcher.Book {
	tb.Helper()
	b, err := matcher.OpenBook(filepath.Join(tb.TempDir(), "orders.db"))
	if err != nil {
		tb.Fatal(err)
	}
	b.Now = func() time.Time { return t0 }
	tb.Cleanup(func() { b.Close() })
	return b
}

func mustCreate(tb testing.TB, b *matcher.Book, id, cip string, cents int64, cur string) *matcher.Order {
	tb.Helper()
	o, err := b.Create(&matcher.Order{Merchant: "m1", OrderID: id, CIP: cip, AmountCents: cents, Currency: cur, CreatedAt: t0, ExpiresAt: t0.Add(72 * time.Hour)}, "test")
	if err != nil {
		tb.Fatal(err)
	}
	return o
}

func conf(c float64) map[string]float64 {
	return map[string]float64{"cip": c, "amount": c, "paid_at": c}
}

func TestMatchRules(t *testing.T) {
	paid := t0.Add(2 * time.Hour)
	for _, tc := range []struct {
		name     string
		setup    func(b *matcher.Book)
		v        matcher.Voucher
		policy   matcher.Policy
		decision string
		reasons  []string
		order    string
	}{
		{"exact CIP, amount and time: verified", nil,
			matcher.Voucher{CIP: "73488329", AmountCents: 14990, HasAmount: true, Currency: "PEN", PaidAt: paid, Confidence: conf(0.95)},
			matcher.DefaultPolicy, matcher.Verified, nil, "A"},
		{"underpaid", nil,
			matcher.Voucher{CIP: "73488329", AmountCents: 14000, HasAmount: true, Currency: "PEN", PaidAt: paid, Confidence: conf(0.95)},
			matcher.DefaultPolicy, matcher.Rejected, []string{"amount_mismatch_underpaid"}, "A"},
		{"underpaid but the amount is unsure: a person decides", nil,
			matcher.Voucher{CIP: "73488329", AmountCents: 1490, HasAmount: true, Currency: "PEN", PaidAt: paid, Confidence: map[string]float64{"cip": 0.95, "amount": 0.6, "paid_at": 0.95}},
			matcher.DefaultPolicy, matcher.NeedsReview, []string{"amount_mismatch_underpaid", "low_confidence"}, "A"},
		{"currency mismatch on an unsure amount", nil,
			matcher.Voucher{CIP: "73488329", AmountCents: 14990, HasAmount: true, Currency: "USD", PaidAt: paid, Confidence: map[string]float64{"cip": 0.95, "amount": 0.5, "paid_at": 0.95}},
			matcher.DefaultPolicy, matcher.NeedsReview, []string{"currency_mismatch", "low_confidence"}, "A"},
		{"paid after expiry by an unsure date", nil,
			matcher.Voucher{CIP: "73488329", AmountCents: 14990, HasAmount: true, Currency: "PEN", PaidAt: t0.Add(80 * time.Hour), Confidence: map[string]float64{"cip": 0.95, "amount": 0.95, "paid_at": 0.55}},
			matcher.DefaultPolicy, matcher.NeedsReview, []string{"paid_after_expiry", "low_confidence"}, "A"},
		{"paid before the order by an unsure date", nil,
			matcher.Voucher{CIP: "73488329", AmountCents: 14990, HasAmount: true, Currency: "PEN", PaidAt: t0.Add(-48 * time.Hour), Confidence: map[string]float64{"cip": 0.95, "amount": 0.95, "paid_at": 0.55}},
			matcher.DefaultPolicy, matcher.NeedsReview, []string{"paid_before_order", "low_confidence"}, "A"},
		{"overpaid goes to a person", nil,
			matcher.Voucher{CIP: "73488329", AmountCents: 15990, HasAmount: true, Currency: "PEN", PaidAt: paid, Confidence: conf(0.95)},
			matcher.DefaultPolicy, matcher.NeedsReview, []string{"amount_mismatch_overpaid"}, "A"},
		{"within tolerance", nil,
			matcher.Voucher{CIP: "73488329", AmountCents: 14980, HasAmount: true, Currency: "PEN", PaidAt: paid, Confidence: conf(0.95)},
			matcher.Policy{AmountToleranceCents: 10}, matcher.Verified, nil, "A"},
		{"currency mismatch", nil,
			matcher.Voucher{CIP: "73488329", AmountCents: 14990, HasAmount: true, Currency: "USD", PaidAt: paid, Confidence: conf(0.95)},
			matcher.DefaultPolicy, matcher.Rejected, []string{"currency_mismatch"}, "A"},
		{"paid after expiry", nil,
			matcher.Voucher{CIP: "73488329", AmountCents: 14990, HasAmount: true, Currency: "PEN", PaidAt: t0.Add(80 * time.Hour), Confidence: conf(0.95)},
			matcher.DefaultPolicy, matcher.Rejected, []string{"paid_after_expiry"}, "A"},
		{"paid before the order by a poor photo's sure date: a person decides", nil,
			matcher.Voucher{CIP: "73488329", AmountCents: 14990, HasAmount: true, Currency: "PEN", PaidAt: t0.Add(-48 * time.Hour), Confidence: map[string]float64{"cip": 0.95, "amount": 0.95, "paid_at": 0.91}, Quality: []string{"blurry"}},
			matcher.DefaultPolicy, matcher.NeedsReview, []string{"paid_before_order", "poor_image"}, "A"},
		{"underpaid by a poor photo's sure amount: a person decides", nil,
			matcher.Voucher{CIP: "73488329", AmountCents: 1490, HasAmount: true, Currency: "PEN", PaidAt: paid, Confidence: conf(0.95), Quality: []string{"too_small"}},
			matcher.DefaultPolicy, matcher.NeedsReview, []string{"amount_mismatch_underpaid", "poor_image"}, "A"},
		{"unknown CIP on a poor photo: a person looks", nil,
			matcher.Voucher{CIP: "11111111", AmountCents: 777, HasAmount: true, Currency: "PEN", PaidAt: paid, Confidence: conf(0.95), Quality: []string{"blurry"}},
			matcher.DefaultPolicy, matcher.NeedsReview, []string{"order_not_found", "poor_image"}, ""},
		{"no CIP on a poor photo, no order of its amount: a person looks", nil,
			matcher.Voucher{AmountCents: 777, HasAmount: true, Currency: "PEN", PaidAt: paid, Confidence: conf(0.95), Quality: []string{"blurry"}},
			matcher.DefaultPolicy, matcher.NeedsReview, []string{"order_not_found", "poor_image"}, ""},
		{"no CIP, amount paid a minute before the order was recorded (clocks apart): found by amount", nil,
			matcher.Voucher{AmountCents: 14990, HasAmount: true, Currency: "PEN", PaidAt: t0.Add(-time.Minute), Confidence: conf(0.95)},
			matcher.DefaultPolicy, matcher.NeedsReview, []string{"amount_and_time", "cip_not_read"}, "A"},
		{"a voucher that prints only the day of the order: verified", nil,
			matcher.Voucher{CIP: "73488329", AmountCents: 14990, HasAmount: true, Currency: "PEN", PaidAt: time.Date(2026, 11, 21, 0, 0, 0, 0, lima), DateOnly: true, Confidence: conf(0.95)},
			matcher.DefaultPolicy, matcher.Verified, nil, "A"},
		{"a voucher that prints only the day before the order", nil,
			matcher.Voucher{CIP: "73488329", AmountCents: 14990, HasAmount: true, Currency: "PEN", PaidAt: time.Date(2026, 11, 20, 0, 0, 0, 0, lima), DateOnly: true, Confidence: conf(0.95)},
			matcher.DefaultPolicy, matcher.Rejected, []string{"paid_before_order"}, "A"},
		{"paid before the order existed", nil,
			matcher.Voucher{CIP: "73488329", AmountCents: 14990, HasAmount: true, Currency: "PEN", PaidAt: t0.Add(-48 * time.Hour), Confidence: conf(0.95)},
			matcher.DefaultPolicy, matcher.Rejected, []string{"paid_before_order"}, "A"},
		{"order already paid", func(b *matcher.Book) {
			b.Move("m1", "A", matcher.StatusVerified, "test", "", nil)
		}, matcher.Voucher{CIP: "73488329", AmountCents: 14990, HasAmount: true, Currency: "PEN", PaidAt: paid, Confidence: conf(0.95)},
			matcher.DefaultPolicy, matcher.Rejected, []string{"order_already_paid"}, "A"},
		{"cancelled order", func(b *matcher.Book) {
			b.Move("m1", "A", matcher.StatusCancelled, "test", "", nil)
		}, matcher.Voucher{CIP: "73488329", AmountCents: 14990, HasAmount: true, Currency: "PEN", PaidAt: paid, Confidence: conf(0.95)},
			matcher.DefaultPolicy, matcher.Rejected, []string{"order_closed"}, "A"},
		{"unknown CIP and amount", nil,
			matcher.Voucher{CIP: "11111111", AmountCents: 777, HasAmount: true, Currency: "PEN", PaidAt: paid, Confidence: conf(0.95)},
			matcher.DefaultPolicy, matcher.Rejected, []string{"order_not_found"}, ""},
		{"sent for order A, paying a CIP no order has", nil,
			matcher.Voucher{OrderID: "A", CIP: "11111111", AmountCents: 777, HasAmount: true, Currency: "PEN", PaidAt: paid, Confidence: conf(0.95)},
			matcher.DefaultPolicy, matcher.Rejected, []string{"cip_mismatch"}, "A"},
		{"sent for order A, an unsure CIP no order has: a person looks", nil,
			matcher.Voucher{OrderID: "A", CIP: "11111111", AmountCents: 777, HasAmount: true, Currency: "PEN", PaidAt: paid, Confidence: map[string]float64{"cip": 0.4, "amount": 0.95, "paid_at": 0.95}},
			matcher.DefaultPolicy, matcher.NeedsReview, []string{"cip_mismatch", "low_confidence"}, "A"},
		{"unknown CIP read unsure: a person looks", nil,
			matcher.Voucher{CIP: "11111111", AmountCents: 777, HasAmount: true, Currency: "PEN", PaidAt: paid, Confidence: map[string]float64{"cip": 0.4, "amount": 0.95, "paid_at": 0.95}},
			matcher.DefaultPolicy, matcher.NeedsReview, []string{"order_not_found", "low_confidence"}, ""},
		{"CIP one OCR confusion away (8 read as 0)", nil,
			matcher.Voucher{CIP: "73480329", AmountCents: 14990, HasAmount: true, Currency: "PEN", PaidAt: paid, Confidence: conf(0.95)},
			matcher.DefaultPolicy, matcher.NeedsReview, []string{"cip_near_match"}, "A"},
		{"no CIP read: amount and time window", nil,
			matcher.Voucher{AmountCents: 25000, HasAmount: true, Currency: "PEN", PaidAt: paid, Confidence: map[string]float64{"amount": 0.95, "paid_at": 0.95}},
			matcher.DefaultPolicy, matcher.NeedsReview, []string{"amount_and_time", "cip_not_read"}, "B"},
		{"two open orders with the same amount: ambiguous", func(b *matcher.Book) {
			mustCreate(t, b, "C", "22334455", 25000, "PEN")
		}, matcher.Voucher{AmountCents: 25000, HasAmount: true, Currency: "PEN", PaidAt: paid},
			matcher.DefaultPolicy, matcher.NeedsReview, []string{"ambiguous_match"}, ""},
		{"low confidence", nil,
			matcher.Voucher{CIP: "73488329", AmountCents: 14990, HasAmount: true, Currency: "PEN", PaidAt: paid, Confidence: conf(0.5)},
			matcher.DefaultPolicy, matcher.NeedsReview, []string{"low_confidence"}, "A"},
		{"above the merchant's review amount", nil,
			matcher.Voucher{CIP: "73488329", AmountCents: 14990, HasAmount: true, Currency: "PEN", PaidAt: paid, Confidence: conf(0.95)},
			matcher.Policy{ReviewAboveCents: 10000}, matcher.NeedsReview, []string{"amount_above_review_threshold"}, "A"},
		{"duplicate voucher", nil,
			matcher.Voucher{CIP: "73488329", AmountCents: 14990, HasAmount: true, Currency: "PEN", PaidAt: paid, Confidence: conf(0.95), Flags: []string{"duplicate"}},
			matcher.DefaultPolicy, matcher.Rejected, []string{"duplicate"}, "A"},
		{"edited voucher", nil,
			matcher.Voucher{CIP: "73488329", AmountCents: 14990, HasAmount: true, Currency: "PEN", PaidAt: paid, Confidence: conf(0.95), Flags: []string{"edited"}, DuplicateOf: "r1"},
			matcher.DefaultPolicy, matcher.Rejected, []string{"edited"}, "A"},
		{"edit seen in the image alone", nil,
			matcher.Voucher{CIP: "73488329", AmountCents: 14990, HasAmount: true, Currency: "PEN", PaidAt: paid, Confidence: conf(0.95), Flags: []string{"edited"}},
			matcher.DefaultPolicy, matcher.NeedsReview, []string{"edited"}, "A"},
		{"suspicious pixels", nil,
			matcher.Voucher{CIP: "73488329", AmountCents: 14990, HasAmount: true, Currency: "PEN", PaidAt: paid, Confidence: conf(0.95), Flags: []string{"suspicious_pixels"}},
			matcher.DefaultPolicy, matcher.NeedsReview, []string{"suspicious_pixels"}, "A"},
		{"nothing read", nil, matcher.Voucher{}, matcher.DefaultPolicy, matcher.NeedsReview, []string{"fields_not_read"}, ""},
		{"voucher for another order than the link's", nil,
			matcher.Voucher{OrderID: "B", CIP: "73488329", AmountCents: 14990, HasAmount: true, Currency: "PEN", PaidAt: paid, Confidence: conf(0.95)},
			matcher.DefaultPolicy, matcher.NeedsReview, []string{"order_id_mismatch"}, "A"},
		{"poor image, read at full confidence, merchant verifies those", nil,
			matcher.Voucher{CIP: "73488329", AmountCents: 14990, HasAmount: true, Currency: "PEN", PaidAt: paid, Confidence: conf(0.95), Quality: []string{"blurry"}},
			matcher.Policy{VerifyPoorImages: true}, matcher.Verified, nil, "A"},
		{"poor image, one field unsure, merchant verifies poor images", nil,
			matcher.Voucher{CIP: "73488329", AmountCents: 14990, HasAmount: true, Currency: "PEN", PaidAt: paid, Confidence: map[string]float64{"cip": 0.95, "amount": 0.7, "paid_at": 0.95}, Quality: []string{"blurry"}},
			matcher.Policy{VerifyPoorImages: true}, matcher.NeedsReview, []string{"low_confidence", "poor_image"}, "A"},
		{"poor image", nil,
			matcher.Voucher{CIP: "73488329", AmountCents: 14990, HasAmount: true, Currency: "PEN", PaidAt: paid, Confidence: conf(0.95), Quality: []string{"blurry"}},
			matcher.DefaultPolicy, matcher.NeedsReview, []string{"poor_image"}, "A"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := MustOpenBook(t)
			mustCreate(t, b, "A", "73488329", 14990, "PEN")
			mustCreate(t, b, "B", "55667788", 25000, "PEN")
			if tc.setup != nil {
				tc.setup(b)
			}
			tc.v.Merchant = "m1"
			d := b.Match(tc.v, tc.policy)
			if d.Decision != tc.decision || d.OrderID != tc.order || fmt.Sprint(d.Reasons) != fmt.Sprint(orEmpty(tc.reasons)) {
				t.Fatalf("got %s %v order %q, want %s %v order %q (candidates %+v)", d.Decision, d.Reasons, d.OrderID, tc.decision, tc.reasons, tc.order, d.Candidates)
			}
		})
	}
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func TestLifecycleAndPersistence(t *testing.T) {
	dir := t.TempDir()
	b, err := matcher.OpenBook(filepath.Join(dir, "o.db"))
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, b, "A", "73488329", 14990, "PEN")
	if _, err := b.Create(&matcher.Order{Merchant: "m1", OrderID: "A", CIP: "73488329", AmountCents: 100, Currency: "PEN"}, "api"); constancia.ErrorCode(err) != constancia.ECONFLICT {
		t.Fatalf("same id, other amount: %v", err)
	}
	if _, err := b.Create(&matcher.Order{Merchant: "m1", OrderID: "X", CIP: "12", AmountCents: 100, Currency: "PEN"}, "api"); constancia.ErrorCode(err) != constancia.EINVALID {
		t.Fatalf("bad cip: %v", err)
	}
	d := b.Match(matcher.Voucher{Merchant: "m1", CIP: "73488329", AmountCents: 14990, HasAmount: true, Currency: "PEN", PaidAt: t0.Add(2 * time.Hour), Confidence: conf(0.9)}, matcher.DefaultPolicy)
	if _, err := b.Apply(d, "m1", "r1"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Move("m1", "A", matcher.StatusOpen, "x", "", nil); constancia.ErrorCode(err) != constancia.ECONFLICT {
		t.Fatalf("verified → open allowed: %v", err)
	}
	b.Close()
	b, err = matcher.OpenBook(filepath.Join(dir, "o.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	o, err := b.Get("m1", "A")
	if err != nil || o.Status != matcher.StatusVerified || o.ReceiptID != "r1" || len(o.History) != 2 || o.History[1].By != "voucher:r1" {
		t.Fatalf("after reopen: %+v %v", o, err)
	}
}

func sign(secret, body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(body))
	return hex.EncodeToString(m.Sum(nil))
}

func TestNotifications(t *testing.T) {
	b := MustOpenBook(t)
	mustCreate(t, b, "A", "73488329", 14990, "PEN")
	secret := "s3cret"
	body := `{"id":"ev1","event":"cip.paid","cip":"73488329","amount":"149.90","currency":"PEN","paid_at":"2026-11-21T18:42:07-05:00"}`
	if _, err := b.HandleNotification("m1", []byte(secret), []byte(body+" "), sign(secret, body)); constancia.ErrorCode(err) != constancia.EINVALID {
		t.Fatalf("tampered body accepted: %v", err)
	}
	if _, err := b.HandleNotification("m1", []byte(secret), []byte(body), "zz"); constancia.ErrorCode(err) != constancia.EINVALID {
		t.Fatalf("garbage signature accepted: %v", err)
	}
	if o, _ := b.Get("m1", "A"); o.Status != matcher.StatusOpen {
		t.Fatalf("refused notification changed the order: %s", o.Status)
	}
	res, err := b.HandleNotification("m1", []byte(secret), []byte(body), "sha256="+sign(secret, body))
	if err != nil || res.Status != matcher.StatusPaid || res.Replay {
		t.Fatalf("paid: %+v %v", res, err)
	}
	res, err = b.HandleNotification("m1", []byte(secret), []byte(body), sign(secret, body))
	if err != nil || !res.Replay {
		t.Fatalf("replay: %+v %v", res, err)
	}
	o, _ := b.Get("m1", "A")
	if len(o.History) != 2 || o.PaidAt == nil || o.PaidCents != 14990 {
		t.Fatalf("after replay: %+v", o)
	}
	unk := `{"id":"ev2","event":"cip.something_new","cip":"73488329"}`
	res, err = b.HandleNotification("m1", []byte(secret), []byte(unk), sign(secret, unk))
	if err != nil || res.Known || res.Replay {
		t.Fatalf("unknown event: %+v %v", res, err)
	}
	if res, _ := b.HandleNotification("m1", []byte(secret), []byte(unk), sign(secret, unk)); !res.Replay {
		t.Fatal("unknown event was not kept")
	}
}

// TestNotificationBeforeOrder: PagoEfectivo may notify a payment before the
// merchant's system has registered the order. The first delivery is
// refused (404) and not remembered, so its resend pays the order.
func TestNotificationBeforeOrder(t *testing.T) {
	b := MustOpenBook(t)
	secret := "s3cret"
	body := `{"id":"ev1","event":"cip.paid","cip":"73488329","amount":"149.90","paid_at":"2026-11-21T18:42:07-05:00"}`
	if _, err := b.HandleNotification("m1", []byte(secret), []byte(body), sign(secret, body)); constancia.ErrorCode(err) != constancia.ENOTFOUND {
		t.Fatalf("payment of an unknown CIP: %v", err)
	}
	mustCreate(t, b, "A", "73488329", 14990, "PEN")
	res, err := b.HandleNotification("m1", []byte(secret), []byte(body), sign(secret, body))
	if err != nil || res.Replay || !res.Moved || res.Status != matcher.StatusPaid {
		t.Fatalf("resent payment: %+v %v", res, err)
	}
	if res, _ := b.HandleNotification("m1", []byte(secret), []byte(body), sign(secret, body)); !res.Replay {
		t.Fatalf("third delivery: %+v", res)
	}
}

// TestStaleNotifications: an event the order is past is answered (so
// PagoEfectivo stops resending it) and changes nothing, except that a
// payment of a cancelled order is recorded and reported: a refund is due.
func TestStaleNotifications(t *testing.T) {
	b := MustOpenBook(t)
	secret := "s3cret"
	mustCreate(t, b, "A", "73488329", 14990, "PEN")
	mustCreate(t, b, "C", "55667788", 5000, "PEN")
	send := func(body string) matcher.NotificationResult {
		t.Helper()
		res, err := b.HandleNotification("m1", []byte(secret), []byte(body), sign(secret, body))
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		return res
	}
	send(`{"id":"p1","event":"cip.paid","cip":"73488329","amount":"149.90"}`)
	if res := send(`{"id":"x1","event":"cip.expired","cip":"73488329"}`); !res.Stale || res.PaidLate || res.Moved || res.Status != matcher.StatusPaid {
		t.Fatalf("expiry after the payment: %+v", res)
	}
	if _, err := b.Move("m1", "C", matcher.StatusCancelled, "api", "", nil); err != nil {
		t.Fatal(err)
	}
	res := send(`{"id":"p2","event":"cip.paid","cip":"55667788","amount":"50.00","paid_at":"2026-11-21T18:42:07-05:00"}`)
	if !res.Stale || !res.PaidLate || res.Moved || res.Status != matcher.StatusCancelled {
		t.Fatalf("payment of a cancelled order: %+v", res)
	}
	o, _ := b.Get("m1", "C")
	if o.Status != matcher.StatusCancelled || o.PaidAt == nil || o.PaidCents != 5000 || len(o.History) != 3 {
		t.Fatalf("cancelled order after its payment: %+v", o)
	}
	out := b.Outstanding("m1", 48*time.Hour)
	found := false
	for _, d := range out {
		found = found || d.Code == matcher.DiscPaidCancelled && d.OrderID == "C"
	}
	if !found {
		t.Fatalf("outstanding %+v lacks the payment of the cancelled order", out)
	}
}

// TestConcurrentNotifications: PagoEfectivo resends an event it thinks
// was lost while the first delivery is still being handled. The deliveries
// take effect once: one payment of a cancelled order is one note on it,
// one late payment to report, and the others are replays.
func TestConcurrentNotifications(t *testing.T) {
	b := MustOpenBook(t)
	secret := "s3cret"
	mustCreate(t, b, "C", "55667788", 5000, "PEN")
	if _, err := b.Move("m1", "C", matcher.StatusCancelled, "api", "", nil); err != nil {
		t.Fatal(err)
	}
	body := `{"id":"p9","event":"cip.paid","cip":"55667788","amount":"50.00","paid_at":"2026-11-21T18:42:07-05:00"}`
	const n = 8
	results := make(chan matcher.NotificationResult, n)
	errs := make(chan error, n)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		go func() {
			<-start
			res, err := b.HandleNotification("m1", []byte(secret), []byte(body), sign(secret, body))
			results <- res
			errs <- err
		}()
	}
	close(start)
	late, replays := 0, 0
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		res := <-results
		if res.PaidLate {
			late++
		}
		if res.Replay {
			replays++
		}
	}
	o, _ := b.Get("m1", "C")
	if late != 1 || replays != n-1 || len(o.History) != 3 {
		t.Fatalf("%d deliveries: %d late payments, %d replays, %d history entries (want 1, %d, 3)", n, late, replays, len(o.History), n-1)
	}
}

// TestSettlementOfCancelledOrder: a settled row whose order was cancelled
// is reported and kept on the order; it does not stop the file's other
// rows, and importing the file again (even after a refund) changes nothing.
func TestSettlementOfCancelledOrder(t *testing.T) {
	b := MustOpenBook(t)
	mustCreate(t, b, "A", "73488329", 14990, "PEN")
	mustCreate(t, b, "C", "55667788", 5000, "PEN")
	if _, err := b.Move("m1", "C", matcher.StatusCancelled, "api", "", nil); err != nil {
		t.Fatal(err)
	}
	file := "cip,amount,currency,settled_at,fee\n55667788,50.00,PEN,2026-11-23,1.00\n73488329,149.90,PEN,2026-11-23,3.50\n"
	rows, bad, err := matcher.ParseSettlement(strings.NewReader(file))
	if err != nil || len(bad) != 0 || len(rows) != 2 {
		t.Fatalf("parse: %d rows, %+v, %v", len(rows), bad, err)
	}
	res, err := b.ImportSettlement("m1", "f.csv", rows)
	if err != nil || res.Settled != 1 || len(res.Discrepancies) != 1 || res.Discrepancies[0].Code != matcher.DiscPaidCancelled {
		t.Fatalf("import: %+v %v", res, err)
	}
	if c, _ := b.Get("m1", "C"); c.Status != matcher.StatusCancelled || c.SettledAt == nil || c.NetCents != 4900 {
		t.Fatalf("cancelled order: %+v", c)
	}
	if all := b.WithOutstanding("m1", res, 48*time.Hour); len(all) != 2 || all[0].Line != 2 || all[1].Code != matcher.DiscPaidNoVoucher {
		t.Fatalf("with outstanding (the cancelled order once, from its line): %+v", all)
	}
	if _, err := b.Move("m1", "A", matcher.StatusRefunded, "api", "", nil); err != nil {
		t.Fatal(err)
	}
	again, err := b.ImportSettlement("m1", "f.csv", rows)
	if err != nil || again.Settled != 0 || again.AlreadyDone != 2 || len(again.Discrepancies) != 0 {
		t.Fatalf("re-import: %+v %v", again, err)
	}
}

func latin1(s string) string {
	var out []byte
	for _, r := range s {
		out = append(out, byte(r))
	}
	return string(out)
}

func TestSettlementFiles(t *testing.T) {
	csvSemi := "Código CIP;Nro. Operación;Monto;Moneda;Fecha de pago;Fecha de liquidación;Comisión\n" +
		"73488329;174009305;149,90;PEN;21/11/2026 18:42;23/11/2026;3,50\n" +
		"55667788;0001;abc;PEN;21/11/2026 10:00;23/11/2026;1,00\n" +
		"99999999;0002;10,00;PEN;21/11/2026 10:00;23/11/2026;0,20\n"
	csvComma := "cip,operation,amount,currency,paid_at,settled_at,fee\n" +
		"73488329,174009305,149.90,PEN,2026-11-21 18:42,2026-11-23,3.50\n" +
		"55667788,0001,abc,PEN,2026-11-21 10:00,2026-11-23,1.00\n" +
		"99999999,0002,10.00,PEN,2026-11-21 10:00,2026-11-23,0.20\n"
	jsonFile := `[{"cip":"73488329","amount":"149.90","currency":"PEN","fee":"3.50","settled_at":"2026-11-23"},{"cip":"55667788","amount":"abc"},{"cip":"99999999","amount":"10.00"}]`
	for name, file := range map[string]string{
		"utf-8 with BOM, semicolons": "\xef\xbb\xbf" + csvSemi,
		"iso-8859-1, semicolons":     latin1(csvSemi),
		"utf-8, commas":              csvComma,
		"json":                       jsonFile,
	} {
		t.Run(name, func(t *testing.T) {
			b := MustOpenBook(t)
			mustCreate(t, b, "A", "73488329", 14990, "PEN")
			mustCreate(t, b, "B", "55667788", 25000, "PEN")
			rows, bad, err := matcher.ParseSettlement(strings.NewReader(file))
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 2 || len(bad) != 1 || bad[0].Line != 3 && name != "json" || name == "json" && bad[0].Line != 2 {
				t.Fatalf("rows %d, bad %+v", len(rows), bad)
			}
			res, err := b.ImportSettlement("m1", "f.csv", rows)
			if err != nil {
				t.Fatal(err)
			}
			if res.Settled != 1 || len(res.Discrepancies) != 1 || res.Discrepancies[0].Code != matcher.DiscNoOrder {
				t.Fatalf("import: %+v", res)
			}
			o, _ := b.Get("m1", "A")
			if o.Status != matcher.StatusSettled || o.FeeCents != 350 || o.NetCents != 14640 {
				t.Fatalf("settled order: %+v", o)
			}
			again, err := b.ImportSettlement("m1", "f.csv", rows)
			if err != nil || again.Settled != 0 || again.AlreadyDone != 1 {
				t.Fatalf("re-import changed something: %+v %v", again, err)
			}
			if o2, _ := b.Get("m1", "A"); len(o2.History) != len(o.History) {
				t.Fatal("re-import added history")
			}
			// Paid per PagoEfectivo with no voucher.
			if out := b.Outstanding("m1", 48*time.Hour); len(out) != 1 || out[0].Code != matcher.DiscPaidNoVoucher {
				t.Fatalf("outstanding: %+v", out)
			}
		})
	}
	if _, _, err := matcher.ParseSettlement(strings.NewReader("foo;bar\n1;2\n")); constancia.ErrorCode(err) != constancia.EINVALID {
		t.Fatalf("file without cip column: %v", err)
	}
	// A photo sent as the settlement file: named, not dumped.
	if _, _, err := matcher.ParseSettlement(strings.NewReader("\xff\xd8\xff\xe0\x00\x10JFIF\x00")); constancia.ErrorCode(err) != constancia.EINVALID || !strings.Contains(err.Error(), "not text") {
		t.Fatalf("binary file: %v", err)
	}
	// JSON numbers keep their digits (1500000 is not "1.5e+06").
	rows, bad, err := matcher.ParseSettlement(strings.NewReader(`[{"cip":"73488329","amount":1500000}]`))
	if err != nil || len(bad) != 0 || len(rows) != 1 || rows[0].AmountCents != 150000000 {
		t.Fatalf("JSON number: %+v %+v %v", rows, bad, err)
	}
	// "1.500" may be thousands or decimals: the row says so.
	_, bad, err = matcher.ParseSettlement(strings.NewReader("cip;monto\n73488329;1.500\n"))
	if err != nil || len(bad) != 1 || !strings.Contains(bad[0].Err, "ambiguous") {
		t.Fatalf("ambiguous amount: %+v %v", bad, err)
	}
}

func TestParseAmount(t *testing.T) {
	for in, want := range map[string]int64{"149.90": 14990, "1,249.00": 124900, "149,90": 14990, "S/ 3.00": 300, "US$ 45": 4500, "1.249,50": 124950, "7": 700} {
		if got, ok := matcher.ParseAmount(in); !ok || got != want {
			t.Errorf("ParseAmount(%q) = %d %v, want %d", in, got, ok, want)
		}
	}
	// A lone separator before three digits is thousands or decimals: refused.
	for _, in := range []string{"", "abc", "1e9", "1.999", "2,500", "S/ 1.250"} {
		if got, ok := matcher.ParseAmount(in); ok {
			t.Errorf("ParseAmount(%q) = %d, want refused", in, got)
		}
	}
	// Two separators settle it.
	for in, want := range map[string]int64{"1.999.000": 199900000, "1,999.000": -1} {
		got, ok := matcher.ParseAmount(in)
		if want < 0 && ok {
			t.Errorf("ParseAmount(%q) = %d, want refused", in, got)
		}
		if want >= 0 && (!ok || got != want) {
			t.Errorf("ParseAmount(%q) = %d %v, want %d", in, got, ok, want)
		}
	}
}

func TestParseDecimal(t *testing.T) {
	for in, want := range map[string]int64{"149.90": 14990, "7": 700, "0.5": 50, "1249.00": 124900, "000012.30": 1230} {
		if got, ok := matcher.ParseDecimal(in); !ok || got != want {
			t.Errorf("ParseDecimal(%q) = %d %v, want %d", in, got, ok, want)
		}
	}
	for _, in := range []string{"", ".", "1.", ".5", "1.999", "1,249.00", "149,90", "S/ 3.00", "-1", "+1", " 1", "1e9", "1.2.3", "9999999999999"} {
		if got, ok := matcher.ParseDecimal(in); ok {
			t.Errorf("ParseDecimal(%q) = %d, want refused", in, got)
		}
	}
}

// BenchmarkMatch matches vouchers against one million open orders and
// reports p99 latency.
func BenchmarkMatch(b *testing.B) {
	bk := MustOpenBook(b)
	const n = 1_000_000
	for i := 0; i < n; i += 10000 {
		var batch []*matcher.Order
		for j := i; j < i+10000; j++ {
			batch = append(batch, &matcher.Order{Merchant: "m1", OrderID: fmt.Sprint("o", j), CIP: fmt.Sprintf("%08d", 10000000+j),
				AmountCents: int64(100 + j%50000), Currency: "PEN", CreatedAt: t0, ExpiresAt: t0.Add(72 * time.Hour)})
		}
		if err := bk.CreateMany(batch, "bench"); err != nil {
			b.Fatal(err)
		}
	}
	var lat []time.Duration
	i := 0
	for b.Loop() {
		j := (i * 7919) % n
		v := matcher.Voucher{Merchant: "m1", CIP: fmt.Sprintf("%08d", 10000000+j), AmountCents: int64(100 + j%50000), HasAmount: true, Currency: "PEN", PaidAt: t0.Add(time.Hour), Confidence: conf(0.9)}
		if i%3 == 2 {
			v.CIP = "" // fall back to amount and time
		}
		s := time.Now()
		d := bk.Match(v, matcher.DefaultPolicy)
		lat = append(lat, time.Since(s))
		if d.Decision == "" {
			b.Fatal("no decision")
		}
		i++
	}
	for a := 1; a < len(lat); a++ {
		for c := a; c > 0 && lat[c] < lat[c-1]; c-- {
			lat[c], lat[c-1] = lat[c-1], lat[c]
		}
	}
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

func TestMerchantPolicy(t *testing.T) {
	b := MustOpenBook(t)
	if p := b.Policy("m1"); p != matcher.DefaultPolicy {
		t.Fatalf("unset policy = %+v", p)
	}
	if err := b.SetPolicy("m1", matcher.Policy{AutoVerifyConfidence: 2}); constancia.ErrorCode(err) != constancia.EINVALID {
		t.Fatalf("bad policy accepted: %v", err)
	}
	if err := b.SetPolicy("m1", matcher.Policy{CIPExpiry: 48 * time.Hour, ReviewAboveCents: 100000}); err != nil {
		t.Fatal(err)
	}
	o, err := b.Create(&matcher.Order{Merchant: "m1", OrderID: "P", CIP: "12345678", AmountCents: 500, Currency: "PEN"}, "api")
	if err != nil {
		t.Fatal(err)
	}
	if got := o.ExpiresAt.Sub(o.CreatedAt); got != 48*time.Hour {
		t.Fatalf("order expires after %s, want the merchant's 48h", got)
	}
	o2, _ := b.Create(&matcher.Order{Merchant: "m2", OrderID: "P", CIP: "12345679", AmountCents: 500, Currency: "PEN"}, "api")
	if got := o2.ExpiresAt.Sub(o2.CreatedAt); got != 72*time.Hour {
		t.Fatalf("other merchant's order expires after %s, want the default 72h", got)
	}
	if p := b.Policy("m1"); p.ReviewAboveCents != 100000 || p.AutoVerifyConfidence != 0.8 {
		t.Fatalf("stored policy = %+v", p)
	}
}

func TestExpireDue(t *testing.T) {
	b := MustOpenBook(t)
	mustCreate(t, b, "A", "73488329", 14990, "PEN") // expires t0+72h
	if got, _ := b.ExpireDue(t0.Add(71 * time.Hour)); len(got) != 0 {
		t.Fatalf("expired early: %v", got)
	}
	got, err := b.ExpireDue(t0.Add(73 * time.Hour))
	if err != nil || len(got) != 1 || got[0].Status != matcher.StatusExpired {
		t.Fatalf("ExpireDue = %v, %v", got, err)
	}
	// PagoEfectivo can still report it paid.
	if _, err := b.Move("m1", "A", matcher.StatusPaid, "pagoefectivo:x", "", nil); err != nil {
		t.Fatalf("expired → paid refused: %v", err)
	}
}
