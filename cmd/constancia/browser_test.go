package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/disintegration/imaging"
)

// chromiumPath is Debian's Chromium, which `make test` installs.
const chromiumPath = "/usr/bin/chromium"

// TestConsoleInBrowser drives Debian's Chromium through the console as an
// agent would: a missing session lands on sign-in; sign in, open the queue,
// open the voucher, approve it and see the audit entry; a tampered CSRF
// token is refused.
func TestConsoleInBrowser(t *testing.T) {
	s, ts, rec := consoleFixture(t)
	ctx := newChrome(t)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/console/"), chromedp.WaitVisible(`input[name=user]`)))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	must(err)
	if !strings.HasSuffix(loc, "/console/login") {
		t.Fatalf("without a session the console went to %s", loc)
	}
	voucher := `a[href="/console/receipts/` + rec.ID + `"]`
	approve := `input[name=action][value=approve] ~ button`
	must(chromedp.Do(ctx,
		chromedp.SendKeys(`input[name=user]`, "ana"),
		chromedp.SendKeys(`input[name=password]`, "correct-horse-ana"),
		chromedp.Click(`button.primary`),
		chromedp.WaitVisible(voucher),
		chromedp.Click(voucher),
		chromedp.WaitVisible(approve),
	))
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	must(err)
	if dir := os.Getenv("CONSTANCIA_SCREENSHOTS"); dir != "" {
		os.WriteFile(filepath.Join(dir, "console-voucher.png"), shot, 0o644)
	}
	must(chromedp.Do(ctx, chromedp.Click(approve), chromedp.WaitVisible(`tr.audit`)))
	audit, err := chromedp.Run(ctx, chromedp.Text(`tr.audit`))
	must(err)
	if !strings.Contains(audit, "ana") || !strings.Contains(audit, "approve") || !strings.Contains(audit, "verified (R-1)") {
		t.Fatalf("audit row = %q", audit)
	}
	got, _ := s.screener.keeper.Index.Get(rec.ID)
	if got.Decision != "verified" {
		t.Fatalf("decision after approving in the browser: %s", got.Decision)
	}
	// A tampered CSRF token is refused.
	note := `input[name=action][value=note] ~ input[name=note]`
	must(chromedp.Do(ctx, chromedp.SetValue(note, "x")))
	_, err = chromedp.Run(ctx, chromedp.Evaluate[any](`document.querySelectorAll('input[name=csrf]').forEach(e => e.value = 'tampered')`))
	must(err)
	must(chromedp.Do(ctx, chromedp.Submit(note), chromedp.Sleep(500*time.Millisecond), chromedp.WaitReady(`body`)))
	errPage, err := chromedp.Run(ctx, chromedp.Text(`body`))
	must(err)
	if !strings.Contains(errPage, "forbidden") {
		t.Fatalf("tampered CSRF answered %q", errPage)
	}
}

// newChrome starts headless Chromium for one test, closed on cleanup.
func newChrome(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("%s not found: run `make test`, which installs Debian's chromium package", chromiumPath)
	}
	// Chromium keeps its profile and its singleton socket directory (under
	// TMPDIR) in the test's own directory, removed with it.
	dir := t.TempDir()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(filepath.Join(dir, "profile")), chromedp.Env("TMPDIR="+dir),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.Flag("no-first-run", true),
		chromedp.WindowSize(1280, 1000)) // a laptop
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(bctx, 90*time.Second)
	t.Cleanup(func() {
		cancelT()
		if err := chromedp.Cancel(bctx); err != nil {
			t.Logf("closing Chromium: %v", err)
		}
		cancelC()
		cancelA()
	})
	return ctx
}

// TestUploadPageInBrowser drives the buyer's page in Chromium with a photo
// larger than the page's 2400 px limit: the page's script shrinks it on a
// canvas and sends it with a progress bar; the stored image is the shrunk
// JPEG and the order is verified.
func TestUploadPageInBrowser(t *testing.T) {
	base, stop := startServe(t, t.TempDir())
	defer stop()
	_, png1, uploadURL := appOrder(t, base, "B-7", 33)
	src, _, err := image.Decode(bytes.NewReader(png1))
	if err != nil {
		t.Fatal(err)
	}
	k := 3200.0 / float64(max(src.Bounds().Dx(), src.Bounds().Dy())) // long side of a 12 MP phone's photo
	big := imaging.Resize(src, int(float64(src.Bounds().Dx())*k), 0, imaging.Linear)
	var buf bytes.Buffer
	if err := png.Encode(&buf, big); err != nil {
		t.Fatal(err)
	}
	if max(big.Bounds().Dx(), big.Bounds().Dy()) <= 2400 {
		t.Fatalf("fixture %v is not larger than the page's limit", big.Bounds())
	}

	ctx := newChrome(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(uploadURL), chromedp.WaitReady(`#f`)); err != nil {
		t.Fatal(err)
	}
	// Enviar with no photo chosen asks for one and sends nothing.
	asked, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(function(){
		document.getElementById("f").requestSubmit(); return !document.getElementById("none").hidden;
	})()`))
	if err != nil || !asked {
		t.Fatalf("Enviar with no photo: asked for one %v (%v)", asked, err)
	}
	// Choose a screenshot in the gallery's picker, then press Enviar.
	inject := `(function(){
		var s=atob("` + base64.StdEncoding.EncodeToString(buf.Bytes()) + `"), u=new Uint8Array(s.length);
		for (var i=0;i<s.length;i++) u[i]=s.charCodeAt(i);
		var dt=new DataTransfer(); dt.items.add(new File([u],"foto.png",{type:"image/png"}));
		var f=document.getElementById("f"); document.getElementById("gallery").files=dt.files;
		f.requestSubmit(); return true;
	})()`
	if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](inject)); err != nil || !ok {
		t.Fatalf("choosing the file: %v", err)
	}
	var text string
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(text, "¡Pago verificado!") {
		if time.Now().After(deadline) {
			t.Fatalf("no verdict on the page; it shows: %.300s", text)
		}
		time.Sleep(200 * time.Millisecond)
		text, _ = chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	}
	st, b, _ := call(t, "GET", base+"/api/v1/orders/B-7", nil, auth)
	var got struct {
		Status    string `json:"status"`
		ReceiptID string `json:"receipt_id"`
	}
	json.Unmarshal(b, &got)
	if st != 200 || got.Status != "verified" {
		t.Fatalf("order after the upload: %d %s", st, b)
	}
	st, b, h := call(t, "GET", base+"/api/v1/receipts/"+got.ReceiptID+"/image", nil, auth)
	if st != 200 || h.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("stored image: %d %s, want the page's JPEG", st, h.Get("Content-Type"))
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(b))
	if err != nil || max(cfg.Width, cfg.Height) != 2400 {
		t.Fatalf("stored image %dx%d (%v), want shrunk to 2400 px", cfg.Width, cfg.Height, err)
	}
}
