package ocr

import (
	"image"
	"math"
)

// deconvolve undoes a Gaussian blur of the given sigma (pixels) with
// Richardson–Lucy iterations: u ← u · Pᵀ∗(g / P∗u).
func deconvolve(g *image.Gray, sigma float64, iters int) *image.Gray {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	if w == 0 || h == 0 || sigma <= 0 || iters <= 0 {
		return g
	}
	k := gaussKernel(sigma)
	obs := make([]float32, w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			obs[y*w+x] = float32(g.Pix[y*g.Stride+x]) + 1 // RL needs positive values
		}
	}
	u := append([]float32(nil), obs...)
	est := make([]float32, w*h)
	tmp := make([]float32, w*h)
	for it := 0; it < iters; it++ {
		gaussConv(u, est, tmp, w, h, k)
		for i := range est {
			est[i] = obs[i] / max(est[i], 1e-3)
		}
		gaussConv(est, est, tmp, w, h, k)
		for i := range u {
			u[i] *= est[i]
		}
	}
	out := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			out.Pix[y*out.Stride+x] = uint8(min(max(u[y*w+x]-1+0.5, 0), 255))
		}
	}
	return out
}

// gaussKernel is a normalised Gaussian of radius ⌈3σ⌉.
func gaussKernel(sigma float64) []float32 {
	r := int(math.Ceil(3 * sigma))
	k := make([]float32, 2*r+1)
	var s float64
	for i := -r; i <= r; i++ {
		v := math.Exp(-float64(i*i) / (2 * sigma * sigma))
		k[i+r] = float32(v)
		s += v
	}
	for i := range k {
		k[i] /= float32(s)
	}
	return k
}

// gaussConv convolves src with the separable kernel k into dst (which may
// be src), clamping at the borders; tmp is scratch of the same size.
func gaussConv(src, dst, tmp []float32, w, h int, k []float32) {
	r := len(k) / 2
	at := func(row []float32, x int) float32 { return row[min(max(x, 0), w-1)] }
	for y := 0; y < h; y++ {
		row, out := src[y*w:(y+1)*w], tmp[y*w:(y+1)*w]
		for x := 0; x < w; x++ {
			var s float32
			if x >= r && x+r < w {
				win := row[x-r : x+r+1]
				for i, kv := range k {
					s += kv * win[i]
				}
			} else {
				for i, kv := range k {
					s += kv * at(row, x+i-r)
				}
			}
			out[x] = s
		}
	}
	// Vertically, row by row: each output row is a weighted sum of whole
	// input rows, which runs along memory.
	acc := make([]float32, w)
	for y := 0; y < h; y++ {
		clear(acc)
		for i, kv := range k {
			yy := min(max(y+i-r, 0), h-1)
			in := tmp[yy*w : (yy+1)*w]
			for x, v := range in {
				acc[x] += kv * v
			}
		}
		copy(dst[y*w:(y+1)*w], acc)
	}
}
