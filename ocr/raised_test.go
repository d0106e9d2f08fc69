package ocr

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"io"
	"log/slog"
	"testing"

	"golang.org/x/image/font"
	"golang.org/x/image/math/fixed"
)

// raisedPage draws a payment confirmation whose amount is "S/ 2,536" in
// large bold type followed by cents: raised and small when raised is set
// (cents such as ".40" top-aligned with the digits, as fintech apps print
// them), else on the baseline ("S/ 2,536.40"). It returns the page and
// the box of the amount's number.
func raisedPage(t *testing.T, raised bool, cents string) (*image.Gray, image.Rectangle) {
	t.Helper()
	g := whitePage(720, 640)
	big, small := mustFace(t, "DejaVuSans-Bold.ttf", 56), mustFace(t, "DejaVuSans-Bold.ttf", 24)
	label, value := mustFace(t, "DejaVuSans.ttf", 20), mustFace(t, "DejaVuSans-Bold.ttf", 20)
	at := func(f font.Face, s string, x, y int) int {
		d := &font.Drawer{Dst: g, Src: image.Black, Face: f, Dot: fixed.P(x, y)}
		d.DrawString(s)
		return d.Dot.X.Ceil()
	}
	at(label, "Monto pagado", 290, 60)
	x := at(big, "S/ ", 170, 150)
	end := at(big, "2,536", x, 150)
	num := image.Rect(x, 150-41, end, 150+8)
	if raised {
		// Top-aligned: the cap heights (0.73 of the size) share a line.
		at(small, cents, end+2, 150-41+18)
	} else {
		num.Max.X = at(big, cents, end, 150)
	}
	for i, row := range [][2]string{{"CIP", "50382757"}, {"Fecha", "28 ago. 2026, 17:06"}, {"Operación N°", "8305833"}, {"Servicio", "PagoEfectivo"}} {
		y := 260 + 80*i
		at(label, row[0], 50, y)
		at(value, row[1], 670-font.MeasureString(value, row[1]).Ceil(), y)
	}
	return g, num
}

// TestSplitRaised: the raised cents after a large number are found apart
// from it; cents printed on the baseline are not raised.
func TestSplitRaised(t *testing.T) {
	for _, cents := range []string{".40", ",40", "40"} {
		g, num := raisedPage(t, true, cents)
		whole, sup, ok := splitRaised(g, num)
		if !ok || whole.Max.X > num.Max.X+2 || sup.Min.X <= num.Max.X || sup.Max.Y > num.Min.Y+num.Dy()/2 {
			t.Errorf("raised %q: ok %v, whole %v, raised %v (number %v)", cents, ok, whole, sup, num)
		}
	}
	g, num := raisedPage(t, false, ".40")
	if _, sup, ok := splitRaised(g, num); ok {
		t.Errorf("cents on the baseline taken as raised: %v", sup)
	}
}

// TestReadRaisedCents: the whole page read by the engine gives the amount
// with its raised cents (without them it is unread, or 2536.00).
func TestReadRaisedCents(t *testing.T) {
	if testing.Short() {
		t.Skip("OCR integration test")
	}
	e, err := NewEngine(Config{Workers: 1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for _, raised := range []bool{true, false} {
		g, _ := raisedPage(t, raised, ".40")
		var buf bytes.Buffer
		if err := png.Encode(&buf, g); err != nil {
			t.Fatal(err)
		}
		r, err := e.Read(context.Background(), buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if r.Fields.Amount() != "2536.40" || r.Fields.Currency != "PEN" || r.Fields.CIP != "50382757" {
			t.Errorf("raised %v: amount %s %s at %.2f, CIP %s", raised, r.Fields.Amount(), r.Fields.Currency, r.Confidence["amount"], r.Fields.CIP)
		}
	}
}
