package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/constancia/constancia/ocr/synth"
)

func runMain(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	m := NewMain(&out, &errb)
	err := m.Run(context.Background(), args)
	return out.String(), errb.String(), err
}

// TestScanJSONL generates vouchers, scans them with --jsonl and checks the
// line contract: one object per file in name order, fields as strings,
// and a typed error for a file that is not an image.
func TestScanJSONL(t *testing.T) {
	if testing.Short() {
		t.Skip("OCR integration test")
	}
	dir := t.TempDir()
	vs, err := generate(dir, 4, 5)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "zz-not-an-image.jpg"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err := runMain(t, "scan", "--jsonl", "--workers", "2", dir)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 {
		t.Fatalf("got %d lines, want 5:\n%s", len(lines), out)
	}
	right := 0
	for i, l := range lines {
		var got struct {
			File        string             `json:"file"`
			Fields      map[string]string  `json:"fields"`
			Confidence  map[string]float64 `json:"confidence"`
			Quality     []string           `json:"quality"`
			Flags       []string           `json:"flags"`
			DuplicateOf *string            `json:"duplicate_of"`
			MS          *int64             `json:"ms"`
			Error       *apiError          `json:"error"`
		}
		if err := json.Unmarshal([]byte(l), &got); err != nil {
			t.Fatalf("line %d: %v: %s", i, err, l)
		}
		if got.Quality == nil || got.Flags == nil || got.MS == nil || got.Fields == nil {
			t.Fatalf("line %d misses a contract key: %s", i, l)
		}
		if i == 4 {
			if got.File != "zz-not-an-image.jpg" || got.Error == nil || got.Error.Code != "unsupported" {
				t.Fatalf("bad file line = %s", l)
			}
			continue
		}
		v := vs[i]
		if got.File != v.File {
			t.Fatalf("line %d is %s, want %s (input order)", i, got.File, v.File)
		}
		if got.Fields["cip"] == v.CIP && got.Fields["amount"] == v.Amount && got.Fields["currency"] == v.Currency && got.Fields["paid_at"] == v.PaidAt {
			right++
		}
	}
	if right < 3 {
		t.Fatalf("only %d of 4 generated vouchers read fully right:\n%s", right, out)
	}
}

func TestEvalReportsAccuracy(t *testing.T) {
	if testing.Short() {
		t.Skip("OCR integration test")
	}
	dir := t.TempDir()
	if _, err := generate(dir, 4, 9); err != nil {
		t.Fatal(err)
	}
	out, _, err := runMain(t, "eval", "--workers", "2", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "vouchers=4 errors=0") || !strings.Contains(out, "p95=") {
		t.Fatalf("eval output lacks the summary: %s", out)
	}
}

// TestEvalDecide: generated originals are verified against their orders,
// and a second upload of one of them (a duplicate) is rejected.
func TestEvalDecide(t *testing.T) {
	if testing.Short() {
		t.Skip("OCR integration test")
	}
	dir := t.TempDir()
	vs, err := generate(dir, 4, 9)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, vs[0].File))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "z-again.jpg"), append(data, 0), 0o644); err != nil {
		t.Fatal(err)
	}
	dup := vs[0]
	dup.File, dup.Kind = "z-again.jpg", "duplicate"
	lf, err := os.OpenFile(filepath.Join(dir, "labels.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.NewEncoder(lf).Encode(dup); err != nil {
		t.Fatal(err)
	}
	lf.Close()
	out, _, err := runMain(t, "eval", "--decide", "--workers", "2", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "duplicate n=1 rejected=1 (100.0%)") || !strings.Contains(out, "original n=4 verified=") || strings.Contains(out, "wrong ") {
		t.Fatalf("decisions: %s", out)
	}
}

// TestSynthEdits: synth --edit labels every voucher as the edit it shows.
func TestSynthEdits(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := runMain(t, "synth", "-n", "3", "--template", "thermal", "--edit", "amount", "--out", dir); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "labels.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var v synth.Voucher
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatal(err)
		}
		if v.Kind != "edited" || v.Template != "thermal" || v.Edit == nil || v.Edit.Field != "amount" || v.Edit.To != v.Amount || v.Edit.From == v.Amount {
			t.Errorf("label %s", l)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	out := filepath.Join(t.TempDir(), "v")
	for _, args := range [][]string{{}, {"nope"}, {"scan"}, {"eval"}, {"synth"}, {"scan", "/does/not/exist"},
		{"synth", "--out", out, "--edit", "cip"}, {"synth", "--out", out, "--edit", "cip", "--template", "thermal"},
		{"synth", "--out", out, "--edit", "ocr"}, {"synth", "--out", out, "--template", "poster"},
		{"synth", "--out", out, "--edit", "amount", "--template", "receipt"}} {
		_, _, err := runMain(t, args...)
		if err == nil {
			t.Errorf("%v: no error", args)
		}
	}
	if _, _, err := runMain(t, "scan", "/does/not/exist"); exitCode(err) != 1 {
		t.Errorf("missing path: exit %d, want 1", exitCode(err))
	}
	if _, _, err := runMain(t, "nope"); exitCode(err) != 2 {
		t.Errorf("unknown command: exit %d, want 2", exitCode(err))
	}
}

// TestScanFlagsFraud streams a voucher, its re-photo, an amount-edited copy
// and a same-template voucher of another payment through scan: the re-photo
// is a duplicate, the edit is edited, the look-alike is clean.
func TestScanFlagsFraud(t *testing.T) {
	if testing.Short() {
		t.Skip("OCR integration test")
	}
	dir := t.TempDir()
	v := synth.Random(77, 3)
	v.Template = "app"
	write := func(name string, v synth.Voucher, opt synth.Options) {
		data, err := synth.Render(&v, opt)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a-original.png", v, synth.Options{Seed: 1, Format: "png"})
	write("b-rephoto.jpg", v, synth.Options{Seed: 2, Photo: true})
	edited := v
	edited.SetAmount(99900)
	write("c-edited.png", edited, synth.Options{Seed: 1, Format: "png"})
	other := v
	other.CIP, other.Operation = "31415926", "271828182"
	write("d-lookalike.png", other, synth.Options{Seed: 3, Format: "png"})
	out, _, err := runMain(t, "scan", "--jsonl", dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a-original.png": "", "b-rephoto.jpg": "duplicate", "c-edited.png": "edited", "d-lookalike.png": ""}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var got struct {
			File        string   `json:"file"`
			Flags       []string `json:"flags"`
			DuplicateOf *string  `json:"duplicate_of"`
		}
		if err := json.Unmarshal([]byte(l), &got); err != nil {
			t.Fatal(err)
		}
		flag := strings.Join(got.Flags, ",")
		if flag != want[got.File] {
			t.Errorf("%s: flags %q, want %q", got.File, flag, want[got.File])
		}
		if flag != "" && (got.DuplicateOf == nil || *got.DuplicateOf != "a-original.png") {
			t.Errorf("%s: duplicate_of %v, want a-original.png", got.File, got.DuplicateOf)
		}
	}
	// Read by a person, each flag comes with its reason.
	human, _, err := runMain(t, "scan", dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"\n  duplicate (payment): same payment as an earlier upload",
		"\n  edited (payment): amount is 999.00 here but " + v.Amount + " on an earlier voucher",
	} {
		if !strings.Contains(human, want) {
			t.Errorf("human output lacks %q:\n%s", want, human)
		}
	}
}
