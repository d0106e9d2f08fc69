package ocr

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/disintegration/imaging"
	"golang.org/x/image/font"
	"golang.org/x/image/math/fixed"
)

// TestDarkScreen: a dark region holding light marks, clear of the edges, is
// taken for a screen in a dark theme; a plain dark object, a dark region
// reaching the picture's edge (a dark table), or a dark header over a page
// of dark text (an app in its light theme) is not.
func TestDarkScreen(t *testing.T) {
	page := func(dark image.Rectangle, text bool) *image.Gray {
		g := image.NewGray(image.Rect(0, 0, 400, 400))
		draw.Draw(g, g.Rect, image.NewUniform(color.Gray{210}), image.Point{}, draw.Src)
		draw.Draw(g, dark, image.NewUniform(color.Gray{25}), image.Point{}, draw.Src)
		if text {
			for y := dark.Min.Y + 20; y+6 < dark.Max.Y-20; y += 16 {
				for x := dark.Min.X + 15; x+5 < dark.Max.X-15; x += 9 {
					draw.Draw(g, image.Rect(x, y, x+5, y+6), image.NewUniform(color.Gray{235}), image.Point{}, draw.Src)
				}
			}
		}
		return g
	}
	screen := image.Rect(100, 80, 300, 330)
	// An app in its light theme: a dark header over a white page of dark text.
	header := page(image.Rect(100, 80, 300, 160), true)
	draw.Draw(header, image.Rect(100, 160, 300, 330), image.NewUniform(color.Gray{250}), image.Point{}, draw.Src)
	for y := 175; y+8 < 320; y += 18 {
		draw.Draw(header, image.Rect(115, y, 280, y+8), image.NewUniform(color.Gray{20}), image.Point{}, draw.Src)
	}
	// The same in grey print, lighter than the header's threshold once a
	// photo blurs and shrinks it (a wallet app's labels and values).
	greyHeader := page(image.Rect(100, 80, 300, 160), true)
	draw.Draw(greyHeader, image.Rect(100, 160, 300, 330), image.NewUniform(color.Gray{245}), image.Point{}, draw.Src)
	for y := 175; y+8 < 320; y += 18 {
		draw.Draw(greyHeader, image.Rect(115, y, 280, y+8), image.NewUniform(color.Gray{160}), image.Point{}, draw.Src)
	}
	for _, tc := range []struct {
		name string
		g    *image.Gray
		want image.Rectangle
	}{
		{"dark screen with text on a light table", page(screen, true), screen},
		{"dark object without text", page(screen, false), image.Rectangle{}},
		{"dark region reaching the edge", page(image.Rect(0, 80, 300, 330), true), image.Rectangle{}},
		{"dark header over a white page of text", header, image.Rectangle{}},
		{"dark header over a white page of grey text", greyHeader, image.Rectangle{}},
	} {
		if got := darkScreen(tc.g, otsu(tc.g)); got != tc.want {
			t.Errorf("%s: darkScreen = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestInvertMidTonePanels: a solid mid-tone band holding white text (a
// brand's header) is inverted; the same band holding black text (a grey
// table row) is left as it is.
func TestInvertMidTonePanels(t *testing.T) {
	page := func(text uint8) *image.Gray {
		g := image.NewGray(image.Rect(0, 0, 400, 600))
		draw.Draw(g, g.Rect, image.NewUniform(color.Gray{245}), image.Point{}, draw.Src)
		band := image.Rect(0, 0, 400, 150)
		draw.Draw(g, band, image.NewUniform(color.Gray{130}), image.Point{}, draw.Src)
		for x := 30; x+8 < 300; x += 12 {
			draw.Draw(g, image.Rect(x, 60, x+8, 90), image.NewUniform(color.Gray{text}), image.Point{}, draw.Src)
		}
		return g
	}
	if g := page(255); invertPanels(g) != 1 || g.GrayAt(10, 10).Y != 255-130 || g.GrayAt(32, 70).Y != 0 {
		t.Errorf("white text on a mid-tone band: not inverted (ground %d, text %d)", g.GrayAt(10, 10).Y, g.GrayAt(32, 70).Y)
	}
	if g := page(20); invertPanels(g) != 0 || g.GrayAt(10, 10).Y != 130 {
		t.Errorf("black text on a mid-tone band: inverted (ground %d)", g.GrayAt(10, 10).Y)
	}
}

// TestTurn: turn gives quarter turns counter-clockwise, as imaging's
// Rotate90, Rotate180 and Rotate270 do.
func TestTurn(t *testing.T) {
	g := image.NewGray(image.Rect(0, 0, 5, 3))
	for i := range g.Pix {
		g.Pix[i] = uint8(i * 10)
	}
	for q, rot := range map[int]func(image.Image) *image.NRGBA{1: imaging.Rotate90, 2: imaging.Rotate180, 3: imaging.Rotate270} {
		got, want := turn(g, q), rot(g)
		if got.Rect.Size() != want.Rect.Size() {
			t.Fatalf("turn %d: size %v, want %v", q, got.Rect.Size(), want.Rect.Size())
		}
		for y := 0; y < got.Rect.Dy(); y++ {
			for x := 0; x < got.Rect.Dx(); x++ {
				if v := got.GrayAt(x, y).Y; v != want.NRGBAAt(x, y).R {
					t.Fatalf("turn %d: (%d,%d) = %d, want %d", q, x, y, v, want.NRGBAAt(x, y).R)
				}
			}
		}
	}
}

// TestTurnedPageMapsBack: a page prepared from the upload turned upright
// maps its boxes and points back onto the upload as it came.
func TestTurnedPageMapsBack(t *testing.T) {
	src := image.NewGray(image.Rect(0, 0, 400, 300))
	draw.Draw(src, src.Rect, image.NewUniform(color.Gray{255}), image.Point{}, draw.Src)
	bar := image.Rect(150, 100, 250, 120) // the "field"
	draw.Draw(src, bar, image.NewUniform(color.Gray{0}), image.Point{}, draw.Src)
	for q := 1; q <= 3; q++ {
		turned := turn(src, q)
		p := &Prepared{Turn: q, turnW: 400, turnH: 300, Doc: turned.Rect.Inset(20), Scale: 2, Angle: 8}
		prepareAs(p, turned)
		got := p.ToUpload(darkBox(p.Image))
		gc := image.Pt((got.Min.X+got.Max.X)/2, (got.Min.Y+got.Max.Y)/2)
		if abs(gc.X-200) > 3 || abs(gc.Y-110) > 3 || got.Dx() < bar.Dx()-4 {
			t.Errorf("turn %d: bar mapped to %v, want about %v", q, got, bar)
		}
		for _, pt := range [][2]float64{{0, 0}, {123.5, 77}, {300, 200}} {
			ux, uy := p.UploadPoint(pt[0], pt[1])
			if x, y := p.ImagePoint(ux, uy); math.Abs(x-pt[0]) > 1e-6 || math.Abs(y-pt[1]) > 1e-6 {
				t.Errorf("turn %d: ImagePoint(UploadPoint(%v)) = %.3f,%.3f", q, pt, x, y)
			}
		}
	}
}

// TestInkGray: a value printed in a light brand colour, mid-grey by
// luminance, comes out dark; grey and black print keep their level; paper
// stays white even where a JPEG's colour bleeds past the strokes.
func TestInkGray(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 5, 1))
	for x, c := range []color.RGBA{
		{52, 152, 219, 255},  // light blue print (#3498db): luminance 130
		{231, 76, 60, 255},   // red print: luminance 120
		{120, 120, 120, 255}, // grey print
		{255, 255, 255, 255}, // paper
		{250, 255, 235, 255}, // paper tinted by a neighbour's colour
	} {
		img.SetRGBA(x, 0, c)
	}
	lum := toGray(img)
	g := inkGray(img)
	for x, want := range []struct{ lo, hi uint8 }{{0, 60}, {0, 60}, {120, 120}, {255, 255}, {245, 255}} {
		if v := g.Pix[x]; v < want.lo || v > want.hi {
			t.Errorf("pixel %d: %d (luminance %d), want %d–%d", x, v, lum.Pix[x], want.lo, want.hi)
		}
	}
	// A PNG decodes to NRGBA, read by its own loop: the same levels.
	nrgba := image.NewNRGBA(img.Rect)
	draw.Draw(nrgba, nrgba.Rect, img, image.Point{}, draw.Src)
	if got := inkGray(nrgba); string(got.Pix) != string(g.Pix) {
		t.Errorf("NRGBA: %v, RGBA: %v", got.Pix, g.Pix)
	}
	if !colourful(img) {
		t.Error("a page of coloured print is not colourful")
	}
	plain := image.NewGray(image.Rect(0, 0, 40, 40))
	for i := range plain.Pix {
		plain.Pix[i] = 128
	}
	if colourful(plain) {
		t.Error("a grey page is colourful")
	}
}

// grainyPhoto draws a short confirmation (a title and six rows of label
// and value) and photographs it: on a brown table, turned by deg, grain of
// noise levels added, shrunk to 60 % and JPEG-compressed.
func grainyPhoto(t *testing.T, deg, noise float64) image.Image {
	t.Helper()
	g := whitePage(720, 560)
	label, value := mustFace(t, "DejaVuSans.ttf", 22), mustFace(t, "DejaVuSans-Bold.ttf", 24)
	at := func(f font.Face, s string, x, y int, grey uint8) {
		d := &font.Drawer{Dst: g, Src: image.NewUniform(color.Gray{grey}), Face: f, Dot: fixed.P(x, y)}
		if x < 0 {
			d.Dot.X = fixed.I(680 - font.MeasureString(f, s).Ceil())
		}
		d.DrawString(s)
	}
	at(value, "Payment successful", 230, 60, 40)
	for i, row := range [][2]string{{"Payment code", "85846235"}, {"Amount", "PEN 11.40"}, {"Date", "Oct 20, 2026"},
		{"Time", "10:13 PM"}, {"Transaction ID", "512429012"}, {"Merchant", "TIENDA ANDINA SAC"}} {
		y := 140 + 68*i
		at(label, row[0], 40, y, 90)
		at(value, row[1], -1, y, 20)
	}
	table := imaging.New(1000, 860, color.NRGBA{120, 105, 90, 255})
	photo := imaging.Paste(table, g, image.Pt(140, 150))
	photo = imaging.Rotate(photo, deg, color.NRGBA{200, 200, 200, 255})
	photo = imaging.Blur(photo, 1.4)
	r := rand.New(rand.NewPCG(11, 0))
	for i := 0; i+3 < len(photo.Pix); i += 4 {
		n := r.NormFloat64() * noise
		for c := range 3 {
			photo.Pix[i+c] = uint8(max(0, min(255, float64(photo.Pix[i+c])+n)))
		}
	}
	photo = imaging.Resize(photo, photo.Rect.Dx()*6/10, 0, imaging.Linear)
	var buf bytes.Buffer
	if err := imaging.Encode(&buf, photo, imaging.JPEG, imaging.JPEGQuality(55)); err != nil {
		t.Fatal(err)
	}
	img, err := imaging.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestGrainyFewMarks: a short confirmation photographed 12° askew on
// grainy paper is a document, and is straightened (its grain, darkened
// with the mid-tones, broke its few letters into specks: marked on the
// page as it is, it was no document and was read askew).
func TestGrainyFewMarks(t *testing.T) {
	p := Preprocess(grainyPhoto(t, 12, 10), PrepConfig{})
	if p.NoDocument || math.Abs(p.Angle+12) > 2 {
		t.Errorf("no document %v, straightened by %.1f° (want −12°)", p.NoDocument, p.Angle)
	}
}

// TestColumnThickness: a word held askew (a band 10 px thick rising 25 px
// over 100) has a box 35 px tall; its thickness is its letters' height.
func TestColumnThickness(t *testing.T) {
	const w = 200
	var comp []int
	for x := 0; x < 100; x++ {
		top := 30 - x/4
		for y := top; y < top+10; y++ {
			comp = append(comp, y*w+50+x)
		}
	}
	if got := columnThickness(comp, w, 50, 100); got != 10 {
		t.Fatalf("thickness %d, want 10", got)
	}
}

// TestPaperOnLightTable: grey-white paper on a beige table, 25 levels
// apart under light falling across both, so that no one threshold parts
// them (the table's lit corner is brighter than the paper's dim one): the
// paper is still found, with the table's light taken out. A plain table,
// lit the same way, holds no sheet.
func TestPaperOnLightTable(t *testing.T) {
	paper := image.Rect(160, 120, 640, 1080)
	picture := func(withPaper bool) *image.Gray {
		g := image.NewGray(image.Rect(0, 0, 800, 1200))
		rng := rand.New(rand.NewPCG(3, 4))
		for y := 0; y < 1200; y++ {
			for x := 0; x < 800; x++ {
				v := 150 + 80*float64(x+y)/2000 + rng.NormFloat64()*3
				p := image.Pt(x, y)
				if withPaper && p.In(paper) {
					v += 25
					// lines of print
					if (y-paper.Min.Y)%60 > 40 && (x-paper.Min.X)%14 > 3 && x < paper.Max.X-60 && x > paper.Min.X+40 {
						v = 60
					}
				}
				g.Pix[y*g.Stride+x] = uint8(clamp(int(v), 0, 255))
			}
		}
		return g
	}
	g := picture(true)
	if lit, dim := g.GrayAt(790, 1190).Y, g.GrayAt(165, 125).Y; lit <= dim+20 {
		t.Fatalf("the table's lit corner (%d) should be brighter than the paper's dim one (%d)", lit, dim)
	}
	r, _ := findDocument(g)
	if d := 12; r.Empty() || abs(r.Min.X-paper.Min.X) > d || abs(r.Min.Y-paper.Min.Y) > d || abs(r.Max.X-paper.Max.X) > d || abs(r.Max.Y-paper.Max.Y) > d {
		t.Errorf("paper on a light table: document %v, want about %v", r, paper)
	}
	if r, _ := findDocument(picture(false)); !r.Empty() {
		t.Errorf("a plain table: document %v, want none", r)
	}
}
