package ocr

import (
	"image"
	"image/draw"
	"testing"
)

// leaderPage draws, at a 26 px glyph, a label (three letters), a dotted
// leader of eight dots on its baseline, a colon, and a value (eight
// digits); below, "..." after a word, a row of six small open rings (small
// letters: no dots), a decimal point, and a row of solid dots with no
// text beside it (a bold row of small letters blurred solid).
func leaderPage() *image.Gray {
	g := whitePage(900, 300)
	box := func(x0, y0, x1, y1 int) {
		draw.Draw(g, image.Rect(x0, y0, x1, y1), image.Black, image.Point{}, draw.Src)
	}
	ring := func(x, y, s int) {
		box(x, y, x+s, y+2)
		box(x, y+s-2, x+s, y+s)
		box(x, y, x+2, y+s)
		box(x+s-2, y, x+s, y+s)
	}
	for x := 20; x < 80; x += 20 { // label glyphs, 26 px tall, baseline y=60
		box(x, 34, x+14, 60)
	}
	for x := 90; x < 90+8*20; x += 20 { // the leader: 6 px dots on the baseline
		box(x, 54, x+6, 60)
	}
	box(262, 40, 268, 46) // the colon
	box(262, 54, 268, 60)
	for x := 290; x < 290+8*18; x += 18 { // the value
		box(x, 34, x+13, 60)
	}
	for x := 20; x < 80; x += 20 { // a word, then "..."
		box(x, 114, x+14, 140)
	}
	for x := 82; x < 110; x += 10 {
		box(x, 134, x+6, 140)
	}
	for x := 20; x < 80; x += 20 { // a word, then small letters: open rings on its baseline
		box(x, 234, x+14, 260)
	}
	for x := 90; x < 90+6*16; x += 16 {
		ring(x, 248, 12)
	}
	box(140, 182, 154, 208) // "1.5": a decimal point between digits
	box(158, 202, 164, 208)
	box(168, 182, 182, 208)
	for x := 400; x < 400+7*16; x += 16 { // solid small marks, no text beside
		box(x, 200, x+9, 209)
	}
	return g
}

func TestEraseLeaders(t *testing.T) {
	g := leaderPage()
	if n := eraseLeaders(g, 26); n != 1 {
		t.Fatalf("erased %d runs, want the one leader", n)
	}
	ink := func(r image.Rectangle) int {
		n := 0
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				if g.Pix[y*g.Stride+x] < 128 {
					n++
				}
			}
		}
		return n
	}
	if n := ink(image.Rect(88, 50, 252, 62)); n != 0 {
		t.Errorf("%d pixels of the leader left", n)
	}
	for _, c := range []struct {
		what string
		r    image.Rectangle
	}{
		{"the label", image.Rect(20, 34, 74, 60)},
		{"the colon", image.Rect(262, 40, 268, 60)},
		{"the value", image.Rect(290, 34, 434, 60)},
		{`"..."`, image.Rect(82, 134, 110, 140)},
		{"the small letters", image.Rect(90, 248, 186, 260)},
		{"the decimal point", image.Rect(158, 202, 164, 208)},
		{"the marks with no text beside", image.Rect(400, 200, 512, 209)},
	} {
		if ink(c.r) == 0 {
			t.Errorf("%s erased", c.what)
		}
	}
	if got := ink(image.Rect(262, 40, 268, 60)); got != 72 {
		t.Errorf("the colon has %d pixels left, want both its dots (72)", got)
	}
}

func BenchmarkEraseLeaders(b *testing.B) {
	// A page of the size Tesseract reads (about 1400 × 2400), twenty such
	// blocks down it.
	src := leaderPage()
	page := whitePage(1400, 2400)
	for y := 0; y < 2400; y += 120 {
		draw.Draw(page, image.Rect(0, y, 900, y+120), src, image.Pt(0, 0), draw.Src)
	}
	g := image.NewGray(page.Rect)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		copy(g.Pix, page.Pix)
		eraseLeaders(g, 26)
	}
}
