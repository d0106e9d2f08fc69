package ocr_test

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/draw"
	"image/jpeg"
	"image/png"
	"testing"

	"github.com/constancia/constancia"
	"github.com/constancia/constancia/ocr"
	"github.com/constancia/constancia/ocr/synth"
)

// pngHeader returns a PNG signature and IHDR chunk claiming w×h pixels,
// with no image data: a decompression bomb's calling card.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.Write([]byte("\x89PNG\r\n\x1a\n"))
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	chunk := append([]byte("IHDR"), ihdr...)
	binary.Write(&b, binary.BigEndian, uint32(13))
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

func smallJPEG(t *testing.T) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 64, 48))
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDecodeBadInputs(t *testing.T) {
	good := smallJPEG(t)
	var pngBuf bytes.Buffer
	if err := png.Encode(&pngBuf, image.NewGray(image.Rect(0, 0, 10, 10))); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		data []byte
		lim  ocr.Limits
		code string
	}{
		{"zero bytes", nil, ocr.Limits{}, constancia.EINVALID},
		{"text named .jpg", []byte("this is not an image, just text\n"), ocr.Limits{}, constancia.EUNSUPPORTED},
		{"truncated jpeg", good[:len(good)/2], ocr.Limits{}, constancia.ECORRUPT},
		{"jpeg header only", good[:20], ocr.Limits{}, constancia.ECORRUPT},
		{"60000x60000 png header", pngHeader(60000, 60000), ocr.Limits{}, constancia.ETOOLARGE},
		{"over pixel cap", good, ocr.Limits{MaxPixels: 100}, constancia.ETOOLARGE},
		{"over byte cap", good, ocr.Limits{MaxBytes: 10}, constancia.ETOOLARGE},
		{"png without data", pngHeader(10, 10), ocr.Limits{}, constancia.ECORRUPT},
		{"gif is unsupported", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), ocr.Limits{}, constancia.EUNSUPPORTED},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img, _, err := ocr.Decode(tc.data, tc.lim)
			if err == nil {
				t.Fatalf("Decode succeeded (%v), want %s", img.Bounds(), tc.code)
			}
			if got := constancia.ErrorCode(err); got != tc.code {
				t.Fatalf("code = %q, want %q (%v)", got, tc.code, err)
			}
			if constancia.ErrorMessage(err) == "internal error" {
				t.Fatalf("bad input got no public message: %v", err)
			}
		})
	}
	t.Run("good png and jpeg decode", func(t *testing.T) {
		for _, d := range [][]byte{good, pngBuf.Bytes()} {
			if _, _, err := ocr.Decode(d, ocr.Limits{}); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestReadLimited(t *testing.T) {
	if _, err := ocr.ReadLimited(bytes.NewReader(make([]byte, 101)), 100); constancia.ErrorCode(err) != constancia.ETOOLARGE {
		t.Fatalf("101 bytes with cap 100: %v, want too_large", err)
	}
	if b, err := ocr.ReadLimited(bytes.NewReader(make([]byte, 100)), 100); err != nil || len(b) != 100 {
		t.Fatalf("100 bytes with cap 100: %d, %v", len(b), err)
	}
	if _, err := ocr.ReadLimited(bytes.NewReader(nil), 100); constancia.ErrorCode(err) != constancia.EINVALID {
		t.Fatalf("empty: %v, want invalid", err)
	}
}

// TestDecodeAppliesEXIFOrientation: a phone's photo stored as the sensor
// saw it, with the turn a viewer must give it in EXIF, decodes turned.
func TestDecodeAppliesEXIFOrientation(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 64, 48))
	draw.Draw(img, img.Rect, image.White, image.Point{}, draw.Src)
	draw.Draw(img, image.Rect(0, 0, 12, 12), image.Black, image.Point{}, draw.Src) // a dark top left corner
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		o      int
		size   image.Point
		corner image.Point // where the dark corner is once turned
	}{
		{1, image.Pt(64, 48), image.Pt(2, 2)},
		{3, image.Pt(64, 48), image.Pt(61, 45)}, // upside down
		{6, image.Pt(48, 64), image.Pt(45, 2)},  // turned a quarter clockwise
		{8, image.Pt(48, 64), image.Pt(2, 61)},  // a quarter counter-clockwise
	} {
		data, err := synth.WithOrientation(b.Bytes(), tc.o)
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := ocr.Decode(data, ocr.Limits{})
		if err != nil {
			t.Fatalf("orientation %d: %v", tc.o, err)
		}
		if got.Bounds().Size() != tc.size {
			t.Errorf("orientation %d: size %v, want %v", tc.o, got.Bounds().Size(), tc.size)
			continue
		}
		if r, _, _, _ := got.At(tc.corner.X, tc.corner.Y).RGBA(); r > 0x4000 {
			t.Errorf("orientation %d: no dark corner at %v", tc.o, tc.corner)
		}
	}
}
