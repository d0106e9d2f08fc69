package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/image/font"
	"golang.org/x/image/math/fixed"

	"github.com/constancia/constancia/assets"
	"github.com/constancia/constancia/fraud"
	"github.com/constancia/constancia/ocr"
	"github.com/constancia/constancia/ocr/synth"
)

// pasteAmount imitates a hasty editor on a phone photo: a box of paper
// colour over the amount the reader found, and new digits typed on top,
// crisp, in the photo's own pixels.
func pasteAmount(t *testing.T, data []byte, text string) []byte {
	t.Helper()
	eng, err := ocr.NewEngine(ocr.Config{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	res, err := eng.Read(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	b, ok := res.Boxes["amount"]
	if !ok {
		t.Fatal("the reader found no amount to edit")
	}
	box := res.Prep.ToUpload(b).Inset(-2)
	img := image.NewRGBA(res.Upload.Bounds())
	draw.Draw(img, img.Rect, res.Upload, img.Rect.Min, draw.Src)
	paper := img.RGBAAt(box.Min.X, box.Min.Y-3)
	draw.Draw(img, box, image.NewUniform(paper), image.Point{}, draw.Src)
	face, err := assets.Face("DejaVuSansMono.ttf", float64(box.Dy())*0.9)
	if err != nil {
		t.Fatal(err)
	}
	d := &font.Drawer{Dst: img, Src: image.NewUniform(color.RGBA{25, 25, 25, 255}), Face: face,
		Dot: fixed.P(box.Max.X-font.MeasureString(face, text).Ceil(), box.Max.Y-box.Dy()/6)}
	d.DrawString(text)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 88}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// scannedLine is the part of a scan --jsonl line these tests read.
type scannedLine struct {
	Fields map[string]string `json:"fields"`
	Flags  []string          `json:"flags"`
}

// scanOne runs scan --jsonl over one file named name holding data, alone.
func scanOne(t *testing.T, name string, data []byte) scannedLine {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err := runMain(t, "scan", "--jsonl", dir)
	if err != nil {
		t.Fatal(err)
	}
	var got scannedLine
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &got); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestScanFlagsPixelEdit: an amount typed onto a photo whose original was
// never uploaded is caught from its own pixels; the untouched photo is not.
func TestScanFlagsPixelEdit(t *testing.T) {
	if testing.Short() {
		t.Skip("OCR integration test")
	}
	for _, seed := range []uint64{5, 6} {
		v := synth.Random(seed, 2)
		v.Template = "thermal"
		orig, err := synth.Render(&v, synth.Options{Seed: seed, Photo: true, Blur: 1.2})
		if err != nil {
			t.Fatal(err)
		}
		edited := pasteAmount(t, orig, "1999.00")
		for _, tc := range []struct {
			name string
			data []byte
			want string
		}{{"original.jpg", orig, ""}, {"edited.jpg", edited, "edited"}} {
			got := scanOne(t, tc.name, tc.data)
			if flags := strings.Join(got.Flags, ","); flags != tc.want {
				t.Errorf("seed %d %s: flags %q, want %q", seed, tc.name, flags, tc.want)
			}
		}
	}
}

// TestScanCrossChecks: a ticket whose amount was changed with its TOTAL
// left alone, or whose date was changed with its print stamp left alone,
// drawn without any pixel trace (the generator renders it whole), is
// caught by the cross-check; the ticket as printed is not.
func TestScanCrossChecks(t *testing.T) {
	if testing.Short() {
		t.Skip("OCR integration test")
	}
	for _, tc := range []struct {
		name  string
		seed  uint64
		photo bool
		edit  func(v *synth.Voucher)
		field string
	}{
		{"amount, screenshot", 11, false, func(v *synth.Voucher) { v.EditAmount(123456) }, "amount"},
		{"amount, photo", 12, true, func(v *synth.Voucher) { v.EditAmount(123456) }, "amount"},
		{"date, photo", 13, true, func(v *synth.Voucher) { v.EditPaidAt(v.PaidAtTime().AddDate(0, 0, 6)) }, "paid_at"}, // paid after the ticket was printed
	} {
		v := synth.Random(tc.seed, 2)
		v.Template = "thermal"
		orig, err := synth.Render(&v, synth.Options{Seed: tc.seed, Photo: tc.photo})
		if err != nil {
			t.Fatal(err)
		}
		e := v
		tc.edit(&e)
		edited, err := synth.Render(&e, synth.Options{Seed: tc.seed, Photo: tc.photo})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name  string
			data  []byte
			shown synth.Voucher
			want  string
		}{{"original.jpg", orig, v, ""}, {"edited.jpg", edited, e, "edited"}} {
			got := scanOne(t, c.name, c.data)
			want := map[string]string{"amount": c.shown.Amount, "paid_at": c.shown.PaidAt}[tc.field]
			if got.Fields[tc.field] != want {
				t.Errorf("%s %s: %s %q, want %q (the check needs it read)", tc.name, c.name, tc.field, got.Fields[tc.field], want)
			}
			if flags := strings.Join(got.Flags, ","); flags != c.want {
				t.Errorf("%s %s: flags %q, want %q", tc.name, c.name, flags, c.want)
			}
		}
	}
}

// TestScanSizeCheck: a CIP typed over an app screenshot 7 % larger than
// the values printed in its face is suspicious (sent to an agent, not a
// fraud verdict: a design may set a code apart so); the same screenshot as
// printed, and a photo of the edit (its sizes are not compared), are not.
func TestScanSizeCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("OCR integration test")
	}
	for _, seed := range []uint64{21, 22} {
		v := synth.Random(seed, 3)
		v.Template = "app"
		e := v
		e.EditCIP("7"+v.CIP[1:], 1.07)
		for _, c := range []struct {
			name  string
			shown *synth.Voucher
			photo bool
			want  string
		}{{"original.png", &v, false, ""}, {"edited.png", &e, false, "suspicious_pixels"}, {"edited-photo.jpg", &e, true, ""}} {
			data, err := synth.Render(c.shown, synth.Options{Seed: seed, Photo: c.photo, Format: map[bool]string{false: "png", true: "jpg"}[c.photo]})
			if err != nil {
				t.Fatal(err)
			}
			got := scanOne(t, c.name, data)
			if got.Fields["cip"] != c.shown.CIP {
				t.Errorf("seed %d %s: cip %q, want %q (the check needs it read)", seed, c.name, got.Fields["cip"], c.shown.CIP)
			}
			if flags := strings.Join(got.Flags, ","); flags != c.want {
				t.Errorf("seed %d %s: flags %q, want %q", seed, c.name, flags, c.want)
			}
		}
	}
}

// TestValueRegionsCoverStripReads: a field read from its own strip (no word
// of the page over it) is still examined, from its box.
func TestValueRegionsCoverStripReads(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 400, 300))
	draw.Draw(img, img.Rect, image.White, image.Point{}, draw.Src)
	prep := ocr.Preprocess(img, ocr.PrepConfig{})
	box := image.Rect(40, 40, 200, 70)
	res := &ocr.Result{Prep: prep, Upload: img, Fields: ocr.Fields{CIP: "12345678"},
		Boxes: map[string]image.Rectangle{"cip": box}, Confidence: map[string]float64{"cip": 0.9},
		Words: []ocr.Word{{Text: "RUC", Box: image.Rect(40, 100, 90, 120), Conf: 0.9}}}
	var cip *fraud.Region
	for _, r := range valueRegions(res) {
		if r.Field == "cip" {
			cip = &r
		}
	}
	if cip == nil || cip.Text != "12345678" || cip.Crop == nil {
		t.Fatalf("the strip-read CIP is not examined: %+v", cip)
	}
}
