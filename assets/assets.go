// Package assets embeds the files constancia ships inside its binary: the
// fonts used by the voucher generator (DejaVu, see fonts/LICENSE-DejaVu.txt)
// and, with the service, its web pages.
package assets

import (
	"embed"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
)

// Fonts holds fonts/*.ttf and their licence.
//
//go:embed fonts
var Fonts embed.FS

// Face returns the embedded font fonts/name at size points (72 dpi), with
// full hinting.
func Face(name string, size float64) (font.Face, error) {
	b, err := Fonts.ReadFile("fonts/" + name)
	if err != nil {
		return nil, err
	}
	f, err := opentype.Parse(b)
	if err != nil {
		return nil, err
	}
	return opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
}

// OpenAPI is the API's OpenAPI 3 document, served at /api/v1/openapi.json.
//
//go:embed api/openapi.json
var OpenAPI []byte

// Web holds the server-rendered pages (html/template).
//
//go:embed web
var Web embed.FS
