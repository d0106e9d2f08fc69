package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/disintegration/imaging"

	"github.com/constancia/constancia/matcher"
	"github.com/constancia/constancia/ocr"
	"github.com/constancia/constancia/ocr/synth"
	"github.com/constancia/constancia/storage"
)

type browser struct {
	t    *testing.T
	c    *http.Client
	base string
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) get(path string) (int, string, http.Header) {
	resp, err := b.c.Get(b.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

func (b *browser) post(path string, form url.Values) (int, string, http.Header) {
	resp, err := b.c.PostForm(b.base+path, form)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

func (b *browser) login(user, pass string) int {
	_, page, _ := b.get("/console/login")
	m := csrfRe.FindStringSubmatch(page)
	if m == nil {
		b.t.Fatalf("no csrf on the login page: %s", page)
	}
	st, _, _ := b.post("/console/login", url.Values{"csrf": {m[1]}, "user": {user}, "password": {pass}})
	return st
}

// consoleFixture starts the service's routes with three agents (ana, bob,
// carol; password "correct-horse-<name>"), order R-1 and one voucher in
// review.
func consoleFixture(t *testing.T) (*server, *httptest.Server, *storage.Record) {
	t.Helper()
	data := t.TempDir()
	t.Setenv("CONSTANCIA_API_KEY", testKey)
	m := NewMain(io.Discard, io.Discard)
	s, err := m.newServer(context.Background(), serveConfig{Addr: "x", PublicURL: "http://test", Workers: 1, Queue: 1, MaxUpload: 15 << 20,
		Store: storeConfig{Data: data, Retention: 4320 * time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.close)
	ts := httptest.NewServer(s.routes())
	t.Cleanup(ts.Close)
	for _, a := range [][2]string{{"ana", "agent"}, {"bob", "agent"}, {"carol", "admin"}} {
		if err := s.svc.setAgent(a[0], a[1], "correct-horse-"+a[0], true); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.book.Create(&matcher.Order{Merchant: "default", OrderID: "R-1", CIP: "73488329", AmountCents: 14990, Currency: "PEN"}, "test"); err != nil {
		t.Fatal(err)
	}
	rec := &storage.Record{Merchant: "default", ContentType: "image/png", Decision: matcher.NeedsReview, Reasons: []string{"low_confidence"},
		Fields: map[string]string{"cip": "73488329", "amount": "149.90", "currency": "PEN"}, Confidence: map[string]float64{"cip": 0.6, "amount": 0.9},
		Boxes: map[string][4]int{"cip": {10, 10, 40, 20}, "total": {10, 30, 40, 40}}}
	if err := s.screener.keeper.Save(context.Background(), rec, mustJPEG(t)); err != nil {
		t.Fatal(err)
	}
	return s, ts, rec
}

func TestConsole(t *testing.T) {
	s, ts, rec := consoleFixture(t)
	if err := s.svc.setAgent("dave", "agent", "short", true); err == nil {
		t.Fatal("a short password was accepted")
	}

	anon := newBrowser(t, ts.URL)
	if st, _, h := anon.get("/console/"); st != 303 || h.Get("Location") != "/console/login" {
		t.Fatalf("queue without a session: %d %s", st, h.Get("Location"))
	}
	if st, _, _ := anon.post("/console/receipts/"+rec.ID+"/action", url.Values{"action": {"approve"}}); st != 401 {
		t.Fatalf("action without a session: %d", st)
	}
	if st, _, _ := anon.post("/console/login", url.Values{"user": {"ana"}, "password": {"correct-horse-ana"}}); st != 403 {
		t.Fatalf("login without the form's CSRF token: %d", st)
	}

	// Lock-out after five wrong passwords, even for the right one next.
	bob := newBrowser(t, ts.URL)
	for i := 0; i < maxFailures; i++ {
		if st := bob.login("bob", "wrong-password"); st != 401 {
			t.Fatalf("wrong password %d: %d", i, st)
		}
	}
	if st := bob.login("bob", "correct-horse-bob"); st != 429 {
		t.Fatalf("locked agent signed in: %d", st)
	}

	ana := newBrowser(t, ts.URL)
	if st := ana.login("ana", "correct-horse-ana"); st != 303 {
		t.Fatalf("ana's sign-in: %d", st)
	}
	st, page, _ := ana.get("/console/")
	if st != 200 || !strings.Contains(page, "/console/receipts/"+rec.ID) || !strings.Contains(page, "low_confidence") {
		t.Fatalf("queue: %d %s", st, page)
	}
	st, page, _ = ana.get("/console/receipts/" + rec.ID)
	if st != 200 || !strings.Contains(page, "73488329") || !strings.Contains(page, `class="box"`) || !strings.Contains(page, "R-1") {
		t.Fatalf("voucher page: %d %s", st, page)
	}
	// Field boxes carry their confidence; a value the fields were checked
	// against (the TOTAL) is labelled by name alone.
	if !strings.Contains(page, "<span>cip 60%</span>") || !strings.Contains(page, "<span>total</span>") {
		t.Errorf("box labels missing from the voucher page: %s", page)
	}
	csrf := csrfRe.FindStringSubmatch(page)[1]
	// Another agent cannot act on ana's claimed voucher.
	carol := newBrowser(t, ts.URL)
	carol.login("carol", "correct-horse-carol")
	_, cpage, _ := carol.get("/console/receipts/" + rec.ID)
	if !strings.Contains(cpage, "ana") {
		t.Fatalf("carol was not told ana holds the voucher")
	}
	ccsrf := csrfRe.FindStringSubmatch(cpage)[1]
	if st, _, _ := carol.post("/console/receipts/"+rec.ID+"/action", url.Values{"csrf": {ccsrf}, "action": {"note"}, "note": {"mine"}}); st != 409 {
		t.Fatalf("claimed voucher acted on by another agent: %d", st)
	}
	if st, _, _ := ana.post("/console/receipts/"+rec.ID+"/action", url.Values{"csrf": {"bad"}, "action": {"approve"}, "order_id": {"R-1"}}); st != 403 {
		t.Fatalf("wrong CSRF token: %d", st)
	}
	// A cancelled order takes no voucher, approved or not.
	if _, err := s.book.Create(&matcher.Order{Merchant: "default", OrderID: "R-X", CIP: "73488320", AmountCents: 14990, Currency: "PEN"}, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.book.Move("default", "R-X", matcher.StatusCancelled, "test", "", nil); err != nil {
		t.Fatal(err)
	}
	if st, page, _ := ana.post("/console/receipts/"+rec.ID+"/action", url.Values{"csrf": {csrf}, "action": {"approve"}, "order_id": {"R-X"}}); st != 409 || !strings.Contains(page, `<p class="warn">order R-X is cancelled: it takes no voucher</p>`) {
		t.Fatalf("approve for a cancelled order: %d %s", st, page)
	}
	if st, page, _ := ana.post("/console/receipts/"+rec.ID+"/action", url.Values{"csrf": {csrf}, "action": {"reject"}}); st != 400 || !strings.Contains(page, "say why the voucher is rejected") || !strings.Contains(page, "/console/receipts/"+rec.ID+"/action") {
		t.Fatalf("reject without a reason: %d %s", st, page)
	}
	if got, _ := s.screener.keeper.Index.Get(rec.ID); got.Decision != matcher.NeedsReview {
		t.Fatalf("refused approval changed the receipt: %s", got.Decision)
	}
	if st, _, _ := ana.post("/console/receipts/"+rec.ID+"/action", url.Values{"csrf": {csrf}, "action": {"approve"}, "order_id": {"R-1"}}); st != 303 {
		t.Fatalf("approve: %d", st)
	}
	got, _ := s.screener.keeper.Index.Get(rec.ID)
	o, _ := s.book.Get("default", "R-1")
	if got.Decision != matcher.Verified || got.OrderID != "R-1" || o.Status != matcher.StatusVerified || o.ReceiptID != rec.ID {
		t.Fatalf("after approve: receipt %s/%s, order %s/%s", got.Decision, got.OrderID, o.Status, o.ReceiptID)
	}
	_, page, _ = ana.get("/console/receipts/" + rec.ID)
	if !regexp.MustCompile(`(?s)<tr class="audit">.*?ana.*?approve.*?needs_review.*?verified \(R-1\)`).MatchString(page) {
		t.Fatalf("no audit entry on the page: %s", page)
	}
	_, csvText, h := ana.get("/console/receipts/" + rec.ID + "/audit.csv")
	if !strings.HasPrefix(h.Get("Content-Type"), "text/csv") || !strings.Contains(csvText, ",ana,approve,needs_review,verified (R-1),") {
		t.Fatalf("audit export: %s", csvText)
	}
	// Hot backup while the service runs: admins only.
	if st, _, _ := ana.get("/console/admin/backup"); st != 403 {
		t.Fatalf("agent downloaded a backup: %d", st)
	}
	st, backup, _ := carol.get("/console/admin/backup")
	if st != 200 {
		t.Fatalf("admin backup: %d", st)
	}
	bp := filepath.Join(t.TempDir(), "b.db")
	os.WriteFile(bp, []byte(backup), 0o600)
	bix, err := storage.OpenIndex(bp)
	if err != nil {
		t.Fatal(err)
	}
	if bix.Check() != nil || bix.Count() != 1 {
		t.Fatalf("backup: %d records, check %v", bix.Count(), bix.Check())
	}
	bix.Close()
	if _, page, _ := ana.get("/console/?lang=zh"); !strings.Contains(page, "待审核") {
		t.Fatal("no Chinese catalogue")
	}
	if _, page, _ := ana.get("/console/dashboard?lang=en"); !strings.Contains(page, "Verified") || !strings.Contains(page, "approved_by_agent") {
		t.Fatalf("dashboard: %s", page)
	}
	// Sign out ends the session.
	_, page, _ = ana.get("/console/")
	ana.post("/console/logout", url.Values{"csrf": {csrfRe.FindStringSubmatch(page)[1]}})
	if st, _, _ := ana.get("/console/"); st != 303 {
		t.Fatalf("after sign-out: %d", st)
	}
}

// TestConsoleBoxesOnOrientedPhoto: a phone photo stored sideways with an
// EXIF orientation is shown turned by the browser; the record keeps the
// size as shown, and the console's boxes are placed in that frame.
func TestConsoleBoxesOnOrientedPhoto(t *testing.T) {
	if testing.Short() {
		t.Skip("OCR integration test")
	}
	s, ts, _ := consoleFixture(t)
	v := synth.Random(91, 0)
	v.Template = "app"
	data, err := synth.Render(&v, synth.Options{Seed: 91, Format: "png"})
	if err != nil {
		t.Fatal(err)
	}
	upright, err := imaging.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	// The sensor's pixels: turned a quarter counter-clockwise; EXIF 6 tells
	// a viewer to turn them a quarter clockwise.
	var raw bytes.Buffer
	if err := imaging.Encode(&raw, imaging.Rotate90(upright), imaging.JPEG, imaging.JPEGQuality(90)); err != nil {
		t.Fatal(err)
	}
	photo, err := synth.WithOrientation(raw.Bytes(), 6)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.verifyVoucher(context.Background(), "", "default", "", photo)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := s.screener.keeper.Index.Get(res.ReceiptID)
	if err != nil {
		t.Fatal(err)
	}
	w, h := upright.Bounds().Dx(), upright.Bounds().Dy()
	b, ok := rec.Boxes["cip"]
	if res.Fields["cip"] != v.CIP || rec.Width != w || rec.Height != h || !ok {
		t.Fatalf("CIP %s in a %d×%d frame (box %v); want %s in %d×%d", res.Fields["cip"], rec.Width, rec.Height, b, v.CIP, w, h)
	}
	if b[2] > w || b[3] > h {
		t.Fatalf("CIP box %v outside the %d×%d picture as shown", b, w, h)
	}
	ana := newBrowser(t, ts.URL)
	if st := ana.login("ana", "correct-horse-ana"); st != 303 {
		t.Fatalf("ana's sign-in: %d", st)
	}
	_, page, _ := ana.get("/console/receipts/" + rec.ID)
	pct := func(v, d int) float64 { return float64(int(1000*float64(v)/float64(d))) / 10 }
	want := fmt.Sprintf(`style="left:%v%%;top:%v%%;width:%v%%;height:%v%%"><span>cip `, pct(b[0], w), pct(b[1], h), pct(b[2]-b[0], w), pct(b[3]-b[1], h))
	if !strings.Contains(page, want) {
		t.Fatalf("the CIP's box is not placed in the picture as shown (want %s): %s", want, page)
	}
	if !strings.Contains(page, "a= 0 ,") {
		t.Errorf("a photo shown upright by its EXIF is turned again on the page")
	}
	// The same pixels without the tag (a messaging app stripped it): the
	// reader turned them three quarters counter-clockwise (a quarter
	// clockwise) to read them, and the page shows them turned so.
	res, err = s.verifyVoucher(context.Background(), "", "default", "", raw.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	rec, err = s.screener.keeper.Index.Get(res.ReceiptID)
	if err != nil {
		t.Fatal(err)
	}
	if res.Fields["cip"] != v.CIP || rec.Turn != 3 || rec.Width != h || rec.Height != w {
		t.Fatalf("sideways without EXIF: CIP %s, turn %d, %d×%d; want %s, 3, %d×%d", res.Fields["cip"], rec.Turn, rec.Width, rec.Height, v.CIP, h, w)
	}
	if _, page, _ = ana.get("/console/receipts/" + rec.ID); !strings.Contains(page, "a= 90 ,") {
		t.Errorf("the sideways voucher is not shown turned upright")
	}
}

// TestConsoleDateOnlyCandidate: a voucher that prints its day but no time
// is stored as that day's midnight. An order created the same afternoon
// is still a candidate for it in the console: the payment may have been
// made any time that day, after the order.
func TestConsoleDateOnlyCandidate(t *testing.T) {
	s, ts, _ := consoleFixture(t)
	now := time.Now().In(ocr.Lima)
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, ocr.Lima)
	if _, err := s.book.Create(&matcher.Order{Merchant: "default", OrderID: "R-DAY", CIP: "55512345", AmountCents: 8790, Currency: "PEN", CreatedAt: day.Add(15 * time.Hour)}, "test"); err != nil {
		t.Fatal(err)
	}
	save := func(dateOnly bool) string {
		rec := &storage.Record{Merchant: "default", ContentType: "image/png", Decision: matcher.NeedsReview, Reasons: []string{"cip_not_read"}, DateOnly: dateOnly,
			Fields:     map[string]string{"amount": "87.90", "currency": "PEN", "paid_at": day.Format(time.RFC3339)},
			Confidence: map[string]float64{"amount": 0.95, "paid_at": 0.95}}
		if err := s.screener.keeper.Save(context.Background(), rec, mustJPEG(t)); err != nil {
			t.Fatal(err)
		}
		return rec.ID
	}
	ana := newBrowser(t, ts.URL)
	if st := ana.login("ana", "correct-horse-ana"); st != 303 {
		t.Fatalf("ana's sign-in: %d", st)
	}
	candidate := regexp.MustCompile(`<option>R-DAY</option>`)
	id := save(true)
	if _, page, _ := ana.get("/console/receipts/" + id); !candidate.MatchString(page) {
		t.Errorf("a date-only voucher of today does not offer today's order R-DAY: %s", page)
	}
	// Merchant systems are told the midnight is no printed time.
	if st, b, _ := call(t, "GET", ts.URL+"/api/v1/receipts/"+id, nil, auth); st != 200 || !strings.Contains(string(b), `"date_only":true`) {
		t.Errorf("receipt of a date-only voucher: %d %s", st, b)
	}
	// The same midnight read as a printed time is before the order.
	if _, page, _ := ana.get("/console/receipts/" + save(false)); candidate.MatchString(page) {
		t.Errorf("a voucher paid at midnight offers an order created after it")
	}
}
