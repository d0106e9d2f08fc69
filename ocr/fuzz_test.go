package ocr

import (
	"bytes"
	"image"
	"image/png"
	"strings"
	"testing"

	"github.com/constancia/constancia"
)

// FuzzExtract: whatever Tesseract returns, extraction never panics and
// every confidence stays in (0, 1].
func FuzzExtract(f *testing.F) {
	for _, s := range []string{
		"Código CIP: 5O9l2277\nImporte SI 1,249.00\nFecha de pago 2026-11-21 18:42",
		"FECHA: 27/00/2026 HORA: 06:38:25\nIMPRESO: 27/09/2026 06:39:10",
		"Pagado el sábado, 21 de noviembre de 2026 18:42\nTotal pagado PEN 75.50",
		"COMISION: S/ 2.50\nTOTAL: S/ 5.50\nS/ 1 249.00 21-Nov-2026 6:42 p. m.",
		"99/99/9999 99:99:99 $/. 0.00 ****1234 (01) 311-9898 31/02/2026",
		"Fecha y hora\nlunes, 13 de julio de 2026 18:15\nIMPORTE: S/ 89.04\nCOMISION: S/ 2.00\nTOTAL: S/ 86.04\nImpreso: 07/07/2026 10:00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var words []Word
		for r, line := range strings.Split(s, "\n") {
			x := 0
			for _, w := range strings.Fields(line) {
				n := len([]rune(w))
				words = append(words, Word{Text: w, Box: image.Rect(x, r*24, x+12*n, r*24+18), Conf: float64(n%10) / 9, Line: r})
				x += 12 * (n + 1)
			}
		}
		res := extract(words, image.Rect(0, 0, 2000, 2000))
		for k, c := range res.Confidence {
			if c < 0 || c > 1 {
				t.Fatalf("confidence[%s] = %v", k, c)
			}
		}
		for k, a := range res.Asides {
			if a.Conf < 0 || a.Conf > 1 {
				t.Fatalf("aside %s confidence %v", k, a.Conf)
			}
		}
	})
}

// FuzzDecode: any bytes give an image within the limits or a typed error,
// never a panic.
func FuzzDecode(f *testing.F) {
	var buf bytes.Buffer
	png.Encode(&buf, image.NewGray(image.Rect(0, 0, 4, 4)))
	f.Add(buf.Bytes())
	f.Add([]byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"))
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBPVP8 "))
	f.Add([]byte("not an image"))
	lim := Limits{MaxBytes: 1 << 20, MaxPixels: 1 << 20}
	f.Fuzz(func(t *testing.T, data []byte) {
		img, _, err := Decode(data, lim)
		if err != nil {
			if code := constancia.ErrorCode(err); code == constancia.EINTERNAL {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if b := img.Bounds(); int64(b.Dx())*int64(b.Dy()) > lim.MaxPixels {
			t.Fatalf("decoded %v past the pixel cap", b)
		}
	})
}
