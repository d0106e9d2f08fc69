package ocr

import (
	"image"
	"image/color"
	"image/draw"
	"testing"
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
	for _, tc := range []struct {
		name string
		g    *image.Gray
		want image.Rectangle
	}{
		{"dark screen with text on a light table", page(screen, true), screen},
		{"dark object without text", page(screen, false), image.Rectangle{}},
		{"dark region reaching the edge", page(image.Rect(0, 80, 300, 330), true), image.Rectangle{}},
		{"dark header over a white page of text", header, image.Rectangle{}},
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
