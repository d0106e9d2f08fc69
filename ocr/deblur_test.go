package ocr

import (
	"image"
	"math"
	"testing"
)

// bars draws dark vertical strokes 2 px wide every 6 px on white, the
// scale of a small screen photo's glyph strokes.
func bars(w, h int) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := uint8(240)
			if x%6 < 2 && y > 4 && y < h-4 {
				v = 30
			}
			g.Pix[y*g.Stride+x] = v
		}
	}
	return g
}

// blurGray is a Gaussian blur of sigma, through the same convolution.
func blurGray(g *image.Gray, sigma float64) *image.Gray {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	f := make([]float32, w*h)
	for i := range f {
		f[i] = float32(g.Pix[i])
	}
	gaussConv(f, f, make([]float32, w*h), w, h, gaussKernel(sigma))
	out := image.NewGray(g.Rect)
	for i, v := range f {
		out.Pix[i] = uint8(v + 0.5)
	}
	return out
}

func rmse(a, b *image.Gray) float64 {
	var s float64
	for i := range a.Pix {
		d := float64(a.Pix[i]) - float64(b.Pix[i])
		s += d * d
	}
	return math.Sqrt(s / float64(len(a.Pix)))
}

// TestDeconvolveRestoresStrokes: strokes blurred by a Gaussian of the
// pass's sigma come back closer to their print than the blur left them, and
// their contrast returns.
func TestDeconvolveRestoresStrokes(t *testing.T) {
	sharp := bars(60, 30)
	blurred := blurGray(sharp, deblurSigma)
	got := deconvolve(blurred, deblurSigma, deblurIterations)
	before, after := rmse(blurred, sharp), rmse(got, sharp)
	if after > 0.9*before {
		t.Errorf("RMSE to the print: blurred %.1f, deconvolved %.1f (want at most 90 %%)", before, after)
	}
	// Contrast between a stroke's centre and the paper between strokes.
	contrast := func(g *image.Gray) int { return int(g.Pix[15*g.Stride+27]) - int(g.Pix[15*g.Stride+24]) }
	c0, c1 := contrast(blurred), contrast(got)
	t.Logf("RMSE %.1f -> %.1f, stroke contrast %d -> %d", before, after, c0, c1)
	if c1 < c0*3/2 {
		t.Errorf("stroke contrast %d after, %d before: want half as much again", c1, c0)
	}
	if d := deconvolve(blurred, 0, 10); d != blurred {
		t.Error("sigma 0 changed the image")
	}
}

func BenchmarkDeconvolve(b *testing.B) {
	g := blurGray(bars(400, 700), deblurSigma) // a small screen photo's document crop
	b.ReportAllocs()
	for b.Loop() {
		deconvolve(g, deblurSigma, deblurIterations)
	}
}
