// Package assets embeds the files constancia ships inside its binary: the
// fonts used by the voucher generator (DejaVu, see fonts/LICENSE-DejaVu.txt)
// and, with the service, its web pages.
package assets

import "embed"

// Fonts holds fonts/*.ttf and their licence.
//
//go:embed fonts
var Fonts embed.FS

// Web holds the server-rendered pages (html/template).
//
//go:embed web
var Web embed.FS
