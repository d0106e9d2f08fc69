package ocr

import (
	"testing"

	"golang.org/x/image/font"

	"github.com/constancia/constancia/assets"
)

// mustFace loads one of the fonts shipped in assets at size points.
func mustFace(tb testing.TB, name string, size float64) font.Face {
	tb.Helper()
	f, err := assets.Face(name, size)
	if err != nil {
		tb.Fatal(err)
	}
	return f
}
