package ocr

import (
	"image"
	"math"
	"math/rand/v2"
	"testing"
)

func noisePage(w, h int) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range g.Pix {
		g.Pix[i] = uint8(r.IntN(256))
	}
	return g
}

// BenchmarkResize: enlarging a 700×1300 screenshot by 1.7 (a page read at
// 26 px glyphs).
func BenchmarkResize(b *testing.B) {
	g := noisePage(700, 1300)
	for b.Loop() {
		resize(g, 1190, 2210)
	}
}

// BenchmarkRotate: deskewing a 1200×2000 page by 3.4°.
func BenchmarkRotate(b *testing.B) {
	g := noisePage(1200, 2000)
	for b.Loop() {
		rotate(g, 3.4, 255)
	}
}

// TestResizeRotateMatchReference: the table-driven resize and rotate give
// the very pixels of the plain per-pixel formulas they replaced.
func TestResizeRotateMatchReference(t *testing.T) {
	g := noisePage(301, 457)
	for _, wh := range [][2]int{{520, 790}, {301, 457}, {150, 228}, {97, 401}, {700, 100}} {
		if got, want := resize(g, wh[0], wh[1]), resizeRef(g, wh[0], wh[1]); string(got.Pix) != string(want.Pix) || got.Rect != want.Rect {
			t.Fatalf("resize to %v differs from the reference", wh)
		}
	}
	for _, deg := range []float64{0.5, -3.4, 7.55, -14.9, 90} {
		if got, want := rotate(g, deg, 255), rotateRef(g, deg, 255); string(got.Pix) != string(want.Pix) || got.Rect != want.Rect {
			t.Fatalf("rotate by %v differs from the reference", deg)
		}
	}
}

func resizeRef(g *image.Gray, w, h int) *image.Gray {
	sw, sh := g.Rect.Dx(), g.Rect.Dy()
	if w == sw && h == sh {
		return g
	}
	if f := min(sw/w, sh/h); f >= 2 {
		g = downscale(g, f)
		sw, sh = g.Rect.Dx(), g.Rect.Dy()
	}
	out := image.NewGray(image.Rect(0, 0, w, h))
	sx, sy := float64(sw)/float64(w), float64(sh)/float64(h)
	for y := 0; y < h; y++ {
		fy := (float64(y)+0.5)*sy - 0.5
		y0 := int(math.Floor(fy))
		ty := fy - float64(y0)
		y0c, y1c := clamp(y0, 0, sh-1), clamp(y0+1, 0, sh-1)
		for x := 0; x < w; x++ {
			fx := (float64(x)+0.5)*sx - 0.5
			x0 := int(math.Floor(fx))
			tx := fx - float64(x0)
			x0c, x1c := clamp(x0, 0, sw-1), clamp(x0+1, 0, sw-1)
			a := float64(g.Pix[y0c*g.Stride+x0c])*(1-tx) + float64(g.Pix[y0c*g.Stride+x1c])*tx
			b := float64(g.Pix[y1c*g.Stride+x0c])*(1-tx) + float64(g.Pix[y1c*g.Stride+x1c])*tx
			out.Pix[y*out.Stride+x] = uint8(a*(1-ty) + b*ty + 0.5)
		}
	}
	return out
}

func rotateRef(g *image.Gray, deg float64, bg uint8) *image.Gray {
	if math.Abs(deg) < 0.05 {
		return g
	}
	w, h := g.Rect.Dx(), g.Rect.Dy()
	th := deg * math.Pi / 180
	c, s := math.Cos(th), math.Sin(th)
	nw := int(math.Ceil(math.Abs(float64(w)*c) + math.Abs(float64(h)*s)))
	nh := int(math.Ceil(math.Abs(float64(w)*s) + math.Abs(float64(h)*c)))
	out := image.NewGray(image.Rect(0, 0, nw, nh))
	cx, cy := float64(w)/2, float64(h)/2
	ncx, ncy := float64(nw)/2, float64(nh)/2
	for y := 0; y < nh; y++ {
		dy := float64(y) + 0.5 - ncy
		for x := 0; x < nw; x++ {
			dx := float64(x) + 0.5 - ncx
			fx := c*dx - s*dy + cx - 0.5
			fy := s*dx + c*dy + cy - 0.5
			x0, y0 := int(math.Floor(fx)), int(math.Floor(fy))
			if x0 < 0 || y0 < 0 || x0+1 >= w || y0+1 >= h {
				out.Pix[y*out.Stride+x] = bg
				continue
			}
			tx, ty := fx-float64(x0), fy-float64(y0)
			i := y0*g.Stride + x0
			a := float64(g.Pix[i])*(1-tx) + float64(g.Pix[i+1])*tx
			b := float64(g.Pix[i+g.Stride])*(1-tx) + float64(g.Pix[i+g.Stride+1])*tx
			out.Pix[y*out.Stride+x] = uint8(a*(1-ty) + b*ty + 0.5)
		}
	}
	return out
}

// BenchmarkEstimateSkew: the baseline direction of 4 800 glyphs (60 lines
// of 80) searched over ±45°.
func BenchmarkEstimateSkew(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	var pts [][2]float64
	for l := 0; l < 60; l++ {
		for k := 0; k < 80; k++ {
			x := r.Float64() * 600
			pts = append(pts, [2]float64{x, 20 + float64(l)*14 + x*0.05})
		}
	}
	for b.Loop() {
		estimateSkew(pts)
	}
}
