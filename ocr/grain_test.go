package ocr_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"testing"

	"github.com/disintegration/imaging"

	"github.com/constancia/constancia/ocr/synth"
)

// grainyPhoto lays a rendered ticket on a light table a few levels darker
// than its paper, askew, blurred and with heavy sensor grain (σ noise
// levels): the photo that, flattened, reads as hundreds of specks.
func grainyPhoto(tb testing.TB, doc []byte, seed uint64, noise float64) []byte {
	tb.Helper()
	img, err := imaging.Decode(bytes.NewReader(doc))
	if err != nil {
		tb.Fatal(err)
	}
	table := color.NRGBA{200, 196, 188, 255}
	d := imaging.Rotate(img, 8, table)
	pad := d.Bounds().Dx() / 6
	c := imaging.New(d.Bounds().Dx()+2*pad, d.Bounds().Dy()+2*pad, table)
	c = imaging.Paste(c, d, image.Pt(pad, pad))
	c = imaging.Blur(c, 1.2)
	r := rand.New(rand.NewPCG(seed, 1))
	for i := 0; i < len(c.Pix); i += 4 {
		n := r.NormFloat64() * noise
		for ch := 0; ch < 3; ch++ {
			c.Pix[i+ch] = uint8(max(0, min(255, float64(c.Pix[i+ch])*0.93+n)))
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, c, &jpeg.Options{Quality: 75}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// TestReadGrainyPhoto: a ticket photographed on a light table under heavy
// grain is read again with its grain averaged away (ocr.PrepConfig.Denoise),
// and its fields are read; a ticket of ordinary grain is not denoised.
func TestReadGrainyPhoto(t *testing.T) {
	e := MustOpenEngine(t, 1)
	for i, noise := range []float64{4, 24} {
		v := synth.Random(4242, i)
		v.Template = "thermal"
		doc, err := synth.Render(&v, synth.Options{Seed: 99, Format: "png"})
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.Read(context.Background(), grainyPhoto(t, doc, uint64(i), noise))
		if err != nil {
			t.Fatal(err)
		}
		if want := noise > 10; res.Prep.Denoised != want {
			t.Errorf("grain σ %.0f: denoised %v, want %v (%d words on the first read)", noise, res.Prep.Denoised, want, len(res.Words))
		}
		if res.Fields.CIP != v.CIP || res.Fields.AmountCents != v.AmountCents() {
			t.Errorf("grain σ %.0f: read CIP %q amount %d, want %q %d", noise, res.Fields.CIP, res.Fields.AmountCents, v.CIP, v.AmountCents())
		}
	}
}
