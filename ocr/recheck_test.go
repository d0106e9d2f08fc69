package ocr

import (
	"image"
	"image/color"
	"image/draw"
	"math"
	"testing"
	"time"

	"github.com/otiai10/gosseract/v2"
	"golang.org/x/image/font"
	"golang.org/x/image/math/fixed"
)

// opLine renders "Nro. de operación   53126498" in bold and returns the page
// and the box of the value's last seven digits: a page read that dropped
// the leading 5.
func opLine(t *testing.T) (*image.Gray, image.Rectangle) {
	t.Helper()
	face := mustFace(t, "DejaVuSans-Bold.ttf", 34)
	g := whitePage(900, 80)
	d := &font.Drawer{Dst: g, Src: image.Black, Face: face, Dot: fixed.P(20, 52)}
	d.DrawString("Nro. de operación")
	x := 880 - font.MeasureString(face, "53126498").Ceil()
	d.Dot = fixed.P(x, 52)
	d.DrawString("53126498")
	x5 := x + font.MeasureString(face, "5").Ceil()
	return g, image.Rect(x5, 26, 880, 54)
}

// spaClient is a Spanish Tesseract client closed with the test.
func spaClient(t *testing.T) *gosseract.Client {
	t.Helper()
	c := gosseract.NewClient()
	t.Cleanup(func() { c.Close() })
	if err := c.SetLanguage("spa"); err != nil {
		t.Fatal(err)
	}
	c.SetVariable("debug_file", "/dev/null")
	return c
}

func TestRecheckDigits(t *testing.T) {
	c := spaClient(t)
	page, cut := opLine(t)
	full := image.Rect(cut.Min.X-22, cut.Min.Y, cut.Max.X, cut.Max.Y)
	for _, tc := range []struct {
		name, read, want string
		box              image.Rectangle
	}{
		{"leading digit dropped by the page read", "3126498", "53126498", cut},
		{"page read already whole", "53126498", "53126498", full},
		{"another misread is not this repair's business", "53126490", "53126490", full},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := &Result{Fields: Fields{Operation: tc.read}, Confidence: map[string]float64{"operation": 0.97},
				Boxes: map[string]image.Rectangle{"operation": tc.box}}
			recheckDigits(c, page, res, "operation")
			if res.Fields.Operation != tc.want {
				t.Fatalf("operation %q, want %q", res.Fields.Operation, tc.want)
			}
		})
	}
}

// TestRecoverOrphans: a label read without its value (Tesseract's layout
// dropped the value, a word whose letters all touch) gets it from a
// single-line read of the strip beside it or below it.
func TestRecoverOrphans(t *testing.T) {
	c := spaClient(t)
	regular := mustFace(t, "DejaVuSans.ttf", 30)
	bold := mustFace(t, "DejaVuSans-Bold.ttf", 34)
	for _, tc := range []struct {
		name  string
		value fixed.Point26_6 // where the value is drawn
		guess string          // a CIP another pass guessed, at 0.35
	}{
		{name: "beside", value: fixed.P(520, 60)},
		{name: "stacked", value: fixed.P(30, 118)},
		// A photo's slant left by deskewing: the value sits 18 px (more
		// than half its height) above its label, and the strip level with
		// the label cuts it through.
		{name: "raised beside", value: fixed.P(520, 42)},
		// A guess is read again beside the label, and the surer reading kept.
		{name: "guessed", value: fixed.P(520, 60), guess: "44938208"},
	} {
		stacked := tc.name
		g := whitePage(900, 200)
		d := &font.Drawer{Dst: g, Src: image.Black, Face: regular, Dot: fixed.P(30, 60)}
		d.DrawString("Código CIP:")
		label := image.Rect(30, 36, 30+font.MeasureString(regular, "Código CIP:").Ceil(), 68)
		d.Face, d.Dot = bold, tc.value
		d.DrawString("44938268")
		words := []Word{{Text: "Código", Box: image.Rect(30, 36, 130, 68), Conf: 0.96}, {Text: "CIP:", Box: image.Rect(140, 36, label.Max.X, 68), Conf: 0.93}}
		res := extract(words, g.Rect)
		if res.Fields.CIP != "" || res.orphans["cip"].Empty() {
			t.Fatalf("%s: want the CIP label orphaned, got %+v, orphans %v", stacked, res.Fields, res.orphans)
		}
		res.Words = words
		if tc.guess != "" {
			res.Fields.CIP, res.Confidence["cip"] = tc.guess, 0.35
		}
		recoverOrphans(c, g, res, nil)
		if res.Fields.CIP != "44938268" || res.Confidence["cip"] < 0.5 {
			t.Fatalf("%s: CIP %q at %.2f, want 44938268", stacked, res.Fields.CIP, res.Confidence["cip"])
		}
	}
}

// TestRecoverOrphanTime: a payment date read without its time, beside a
// time label ("Hora:") whose value no pass read, gets its time from a
// single-line read beside the label, also when the date itself came from
// a later pass than the label.
func TestRecoverOrphanTime(t *testing.T) {
	c := spaClient(t)
	regular := mustFace(t, "DejaVuSans.ttf", 30)
	g := whitePage(900, 200)
	d := &font.Drawer{Dst: g, Src: image.Black, Face: regular, Dot: fixed.P(30, 60)}
	d.DrawString("Fecha:")
	d.Dot = fixed.P(400, 60)
	d.DrawString("21/11/2026")
	d.Dot = fixed.P(30, 140)
	d.DrawString("Hora:")
	d.Dot = fixed.P(400, 140)
	d.DrawString("18:42:07")
	w := func(s string, x, y int) Word {
		return Word{Text: s, Box: image.Rect(x, y-24, x+font.MeasureString(regular, s).Ceil(), y+2), Conf: 0.95}
	}
	fecha, date, hora := w("Fecha:", 30, 60), w("21/11/2026", 400, 60), w("Hora:", 30, 140)
	want := time.Date(2026, 11, 21, 18, 42, 7, 0, Lima)
	for _, tc := range []struct {
		name        string
		words, more []Word
	}{
		{"one pass", []Word{fecha, date, hora}, nil},
		{"date from a later pass", []Word{fecha, hora}, []Word{date}},
	} {
		res := extract(append(append([]Word(nil), tc.words...), tc.more...), g.Rect)
		if res.Fields.PaidAt.IsZero() || res.Fields.TimeShown != "" || res.orphans[orphanTime].Empty() {
			t.Fatalf("%s: want a date without its time and the Hora label orphaned, got %+v, orphans %v", tc.name, res.Fields, res.orphans)
		}
		res.Words = tc.words
		before := res.Confidence["paid_at"]
		recoverOrphans(c, g, res, [][]Word{tc.more})
		if !res.Fields.PaidAt.Equal(want) || res.Fields.TimeShown != "second" || res.Confidence["paid_at"] <= before {
			t.Fatalf("%s: paid at %v (%s) at %.2f, want %v above %.2f", tc.name, res.Fields.PaidAt, res.Fields.TimeShown, res.Confidence["paid_at"], want, before)
		}
	}
}

// TestRecheckConfirms: a number the page read right but with almost no
// confidence (dotted leaders glued to it) is confirmed by its own line and
// gets the line's confidence, still weighed by how it was found.
func TestRecheckConfirms(t *testing.T) {
	c := spaClient(t)
	page, cut := opLine(t)
	full := image.Rect(cut.Min.X-22, cut.Min.Y, cut.Max.X, cut.Max.Y)
	for _, tc := range []struct {
		basis    float64
		min, max float64
	}{{1, 0.8, 1}, {0.4, 0.3, 0.4}} {
		res := &Result{Fields: Fields{Operation: "53126498"}, Confidence: map[string]float64{"operation": 0.06},
			Boxes: map[string]image.Rectangle{"operation": full}, basis: map[string]float64{"operation": tc.basis}}
		recheckDigits(c, page, res, "operation")
		if got := res.Confidence["operation"]; res.Fields.Operation != "53126498" || got < tc.min || got > tc.max {
			t.Fatalf("basis %.1f: %q at %.2f, want in [%.1f, %.1f]", tc.basis, res.Fields.Operation, got, tc.min, tc.max)
		}
	}
}

// TestConfirmDigits: the surest reading that holds the field's digits
// lends its confidence, weighed by how the field was found; readings of
// other digits lend none.
func TestConfirmDigits(t *testing.T) {
	for _, tc := range []struct {
		name  string
		words []Word
		basis float64
		want  float64
	}{
		{"the line reads them with the label glued on, the value alone misreads",
			[]Word{{Text: ":41030459", Conf: 0.30}, {Text: "CIP:41039453", Conf: 0.47}}, 1, 0.47},
		{"the surest of two readings", []Word{{Text: "CIP:41039453", Conf: 0.47}, {Text: "41039453", Conf: 0.92}}, 1, 0.92},
		{"a guess stays a guess", []Word{{Text: "41039453", Conf: 0.9}}, 0.4, 0.36},
		{"other digits", []Word{{Text: "410394530", Conf: 0.95}, {Text: "4103945", Conf: 0.95}}, 1, 0},
	} {
		res := &Result{Fields: Fields{CIP: "41039453"}, Confidence: map[string]float64{"cip": 0}, basis: map[string]float64{"cip": tc.basis}}
		confirmDigits(res, "cip", tc.words)
		if got := res.Confidence["cip"]; math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%s: confidence %.3f, want %.3f", tc.name, got, tc.want)
		}
	}
}

// TestConfirmSum: when amount, Comisión and TOTAL do not add up, each is
// re-read from its box. A value the crop reads the same keeps its
// confidence (the contradiction stands); one the page misread loses it.
func TestConfirmSum(t *testing.T) {
	c := spaClient(t)
	face := mustFace(t, "DejaVuSansMono.ttf", 30)
	g := whitePage(600, 160)
	var boxes []image.Rectangle
	for i, v := range []string{"S/ 89.04", "S/ 2.00", "S/ 86.04"} {
		y := 40 + 45*i
		d := &font.Drawer{Dst: g, Src: image.Black, Face: face, Dot: fixed.P(300, y)}
		d.DrawString(v)
		w := font.MeasureString(face, v).Ceil()
		boxes = append(boxes, image.Rect(300+font.MeasureString(face, "S/ ").Ceil(), y-24, 300+w, y+4))
	}
	read := func(amount, total int64) *Result {
		return &Result{Fields: Fields{AmountCents: amount, HasAmount: true}, Confidence: map[string]float64{"amount": 0.96},
			Boxes:  map[string]image.Rectangle{"amount": boxes[0]},
			Asides: map[string]Aside{"fee": {Cents: 200, Conf: 0.96, Box: boxes[1]}, "total": {Cents: total, Conf: 0.96, Box: boxes[2]}}}
	}
	// As printed: the contradiction survives the re-read.
	res := read(8904, 8604)
	confirmSum(c, g, res)
	if res.Confidence["amount"] != 0.96 || res.Asides["total"].Conf != 0.96 || res.Asides["fee"].Conf != 0.96 {
		t.Errorf("a contradiction the crops confirm lost confidence: amount %.2f %+v", res.Confidence["amount"], res.Asides)
	}
	// The page misread the TOTAL: its crop says otherwise.
	res = read(8904, 8104)
	confirmSum(c, g, res)
	if res.Asides["total"].Conf >= 0.5 || res.Asides["fee"].Conf != 0.96 {
		t.Errorf("a TOTAL the page misread kept its confidence: %+v", res.Asides)
	}
	// Values that add up are not re-read.
	res = read(8404, 8604)
	confirmSum(c, g, res)
	if res.Confidence["amount"] != 0.96 {
		t.Errorf("a sum that adds up was doubted: %.2f", res.Confidence["amount"])
	}
}

// TestTrimEdges: a strip beside a label is cut to its text — the blank
// gap before a right-aligned value, specks in it, and the paper's edge
// (a thin line) and dark background past the value are left out — and a
// strip with no text-like ink is left as it was.
func TestTrimEdges(t *testing.T) {
	page := whitePage(800, 60)
	fill := func(r image.Rectangle, v uint8) {
		draw.Draw(page, r, image.NewUniform(color.Gray{v}), image.Point{}, draw.Src)
	}
	for x := 400; x < 560; x += 20 { // eight glyphs, 14 px wide
		fill(image.Rect(x, 20, x+14, 40), 0)
	}
	fill(image.Rect(120, 30, 122, 32), 0) // a speck in the gap
	fill(image.Rect(690, 0, 692, 60), 40) // the paper's edge
	fill(image.Rect(740, 0, 800, 60), 60) // the background beyond it
	strip := image.Rect(100, 10, 800, 50) // 40 px tall
	if got, want := trimEdges(page, strip), image.Rect(380, 10, 574, 50); got != want {
		t.Errorf("trimEdges = %v, want %v", got, want)
	}
	blank := image.Rect(0, 0, 300, 10)
	if got := trimEdges(page, blank); got != blank {
		t.Errorf("blank strip: %v, want it unchanged", got)
	}
	// Grain past the paper's edge: a chain of specks, each within the
	// strip's height of the next, none inked over a sixth of it. It is
	// no text, and it vouches for none.
	fill(image.Rect(690, 0, 800, 60), 255)
	for x := 600; x < 800; x += 18 {
		fill(image.Rect(x, 22+x%13, x+3, 26+x%13), 0)
	}
	fill(image.Rect(640, 20, 643, 40), 0) // a thin mark among the grain
	if got, want := trimEdges(page, strip), image.Rect(380, 10, 574, 50); got != want {
		t.Errorf("with grain past the value: trimEdges = %v, want %v", got, want)
	}
}

// TestFitRows: a strip level with a label is moved onto the line of ink
// it overlaps most (a value sitting higher than its label), and left as
// it was when no line overlaps it or the ink is a block taller than two
// lines.
func TestFitRows(t *testing.T) {
	page := whitePage(400, 300)
	fill := func(r image.Rectangle) { draw.Draw(page, r, image.Black, image.Point{}, draw.Src) }
	for x := 200; x < 320; x += 15 { // digits 24 px tall, at rows 20–44
		fill(image.Rect(x, 20, x+10, 44))
	}
	fill(image.Rect(200, 150, 320, 260)) // a block, not a line
	for _, tc := range []struct {
		name      string
		strip     image.Rectangle
		want      image.Rectangle
		unchanged bool
	}{
		{name: "raised value", strip: image.Rect(180, 34, 340, 66), want: image.Rect(180, 4, 340, 60)},
		{name: "no ink near", strip: image.Rect(180, 90, 340, 120), unchanged: true},
		{name: "a block", strip: image.Rect(180, 180, 340, 212), unchanged: true},
	} {
		got := fitRows(page, tc.strip)
		if tc.unchanged {
			tc.want = tc.strip
		}
		if got != tc.want {
			t.Errorf("%s: fitRows = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestBinarize: a strip's paper grain (244–255) and a lighter background
// beside it turn white, and only the ink turns black.
func TestBinarize(t *testing.T) {
	g := image.NewGray(image.Rect(0, 0, 100, 20))
	for i := range g.Pix {
		g.Pix[i] = uint8(244 + i*7%12) // grain
	}
	for y := 0; y < 20; y++ {
		for x := 80; x < 100; x++ {
			g.Pix[y*g.Stride+x] = uint8(200 + (x+y)%30) // a background beside the paper
		}
		for x := 20; x < 40; x++ {
			if y >= 5 && y < 15 {
				g.Pix[y*g.Stride+x] = 35 // ink
			}
		}
	}
	b := binarize(g)
	for y := 0; y < 20; y++ {
		for x := 0; x < 100; x++ {
			ink := x >= 20 && x < 40 && y >= 5 && y < 15
			if got := b.Pix[y*b.Stride+x]; (got == 0) != ink || (got != 0 && got != 255) {
				t.Fatalf("(%d,%d) = %d, ink %v", x, y, got, ink)
			}
		}
	}
}

// TestUnionWords: the words of later passes join the first's where they
// overlap none of it, so a label one pass read pairs with a value only
// another pass read; where two overlap, the first pass's word stays.
func TestUnionWords(t *testing.T) {
	first := layout(
		[]cell{{0, "Nro. de operación"}},
		[]cell{{0, "Fecha"}, {20, "28/12/2026 12:57"}},
	)
	later := layout(
		[]cell{{0, "Nro. de 0peracion"}, {20, "450938095"}},
		[]cell{{20, "28/12/2026 12:51"}},
	)
	u := unionWords(first, [][]Word{later})
	if len(u) != len(first)+1 {
		t.Fatalf("union has %d words, want the first's %d and the later value: %v", len(u), len(first), u)
	}
	r := extract(u, image.Rect(0, 0, 800, 800))
	if r.Fields.Operation != "450938095" || r.Confidence["operation"] < 0.8 {
		t.Errorf("operation %q at %.2f, want 450938095 paired with its label", r.Fields.Operation, r.Confidence["operation"])
	}
	if got := r.Fields.PaidAt.Format("15:04"); got != "12:57" {
		t.Errorf("paid at %s, want the first pass's 12:57", got)
	}
}

func TestPhantomDigit(t *testing.T) {
	for _, tc := range []struct {
		long, short string
		want        bool
	}{
		{"004078363", "00407863", true}, // a 3 invented between 8 and 6
		{"12345", "1245", true},
		{"8610885257", "861088525", false},   // the last digit: a clipped crop
		{"18610885257", "8610885257", false}, // the first digit
		{"12887", "1287", false},             // a digit of a run
		{"12345", "12345", false},
		{"12345", "1235", true},
		{"123456", "1245", false},
		{"12345", "1345", true},
		{"12345", "1354", false},
	} {
		if got := phantomDigit(tc.long, tc.short); got != tc.want {
			t.Errorf("phantomDigit(%q, %q) = %v, want %v", tc.long, tc.short, got, tc.want)
		}
	}
}
