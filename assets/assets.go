// Package assets embeds the files constancia ships inside its binary: the
// fonts used by the voucher generator (DejaVu, see fonts/LICENSE-DejaVu.txt)
// and, with the service, its web pages.
package assets

import "embed"

// Fonts holds fonts/*.ttf and their licence.
//
//go:embed fonts
var Fonts embed.FS

// OpenAPI is the API's OpenAPI 3 document, served at /api/v1/openapi.json.
//
//go:embed api/openapi.json
var OpenAPI []byte

// Web holds the server-rendered pages (html/template).
//
//go:embed web
var Web embed.FS
