package ocr

import (
	"image"
	"image/draw"
	"testing"

	"golang.org/x/image/font"
	"golang.org/x/image/math/fixed"
)

// TestUnreadLines: of three rows of text, the one no word read is found,
// in its two runs of ink, and neither a speck, a rule across the page nor ink at the page's edge
// is taken for a line.
func TestUnreadLines(t *testing.T) {
	face := mustFace(t, "DejaVuSans.ttf", 30)
	g := whitePage(900, 400)
	d := &font.Drawer{Dst: g, Src: image.Black, Face: face}
	rows := []string{"Fecha de operación:", "Hora:  02:55:27", "Monto:  S/ 2,986.60"}
	var boxes []image.Rectangle
	for i, s := range rows {
		d.Dot = fixed.P(60, 80+100*i)
		d.DrawString(s)
		boxes = append(boxes, image.Rect(60, 80+100*i-24, 60+font.MeasureString(face, s).Ceil(), 80+100*i+8))
	}
	draw.Draw(g, image.Rect(700, 60, 704, 64), image.Black, image.Point{}, draw.Src) // a speck
	draw.Draw(g, image.Rect(0, 330, 900, 333), image.Black, image.Point{}, draw.Src) // a rule edge to edge
	draw.Draw(g, image.Rect(0, 360, 300, 380), image.Black, image.Point{}, draw.Src) // the background at the edge
	seen := []Word{{Text: "Fecha", Box: boxes[0]}, {Text: "S/", Box: boxes[2]}}
	got := unreadLines(g, 22, seen, 12)
	// The label and its value, two spaces apart, are two runs of ink.
	if len(got) != 2 || !got[0].In(boxes[1]) || !got[1].In(boxes[1]) || got[1].Min.X <= got[0].Max.X {
		t.Fatalf("unread lines %v, want the Hora row %v's label and value", got, boxes[1])
	}
	if got := unreadLines(g, 22, seen, 0); len(got) != 0 {
		t.Fatalf("max 0 gave %v", got)
	}
}

// BenchmarkUnreadLines: a 1400 × 2400 page of 40 rows, half of them read.
func BenchmarkUnreadLines(b *testing.B) {
	face := mustFace(b, "DejaVuSans.ttf", 30)
	g := whitePage(1400, 2400)
	d := &font.Drawer{Dst: g, Src: image.Black, Face: face}
	var seen []Word
	for i := 0; i < 40; i++ {
		d.Dot = fixed.P(80, 80+58*i)
		d.DrawString("Número de operación:     955205627")
		if i%2 == 0 {
			seen = append(seen, Word{Box: image.Rect(80, 56+58*i, 900, 88+58*i)})
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		unreadLines(g, 22, seen, maxUnread)
	}
}
