package ocr

import (
	"image"
	"image/draw"
	"testing"

	"golang.org/x/image/font"

	"github.com/constancia/constancia/assets"
)

// whitePage is a blank page of w × h to draw test text on.
func whitePage(w, h int) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	draw.Draw(g, g.Rect, image.White, image.Point{}, draw.Src)
	return g
}

// mustFace loads one of the fonts shipped in assets at size points.
func mustFace(tb testing.TB, name string, size float64) font.Face {
	tb.Helper()
	f, err := assets.Face(name, size)
	if err != nil {
		tb.Fatal(err)
	}
	return f
}
