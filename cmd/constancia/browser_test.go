package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
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
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.Flag("no-first-run", true),
		chromedp.WindowSize(1280, 1000)) // a laptop
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	return ctx
}
