package ocr

import (
	"image"
	"image/color"
	"image/draw"
	"math"
	"sort"
)

// toGray converts img to 8-bit luminance, taking the Y plane directly from
// JPEG's YCbCr images.
func toGray(img image.Image) *image.Gray {
	b := img.Bounds()
	out := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	switch src := img.(type) {
	case *image.Gray:
		for y := 0; y < b.Dy(); y++ {
			copy(out.Pix[y*out.Stride:y*out.Stride+b.Dx()], src.Pix[(y)*src.Stride:])
		}
	case *image.YCbCr:
		for y := 0; y < b.Dy(); y++ {
			copy(out.Pix[y*out.Stride:y*out.Stride+b.Dx()], src.Y[src.YOffset(b.Min.X, b.Min.Y+y):])
		}
	case *image.NRGBA:
		for y := 0; y < b.Dy(); y++ {
			row := src.Pix[y*src.Stride:]
			o := out.Pix[y*out.Stride:]
			for x := 0; x < b.Dx(); x++ {
				r, g, bb, a := int(row[4*x]), int(row[4*x+1]), int(row[4*x+2]), int(row[4*x+3])
				l := (299*r + 587*g + 114*bb) / 1000
				o[x] = uint8((l*a + 255*(255-a)) / 255) // transparent → white
			}
		}
	default:
		draw.Draw(out, out.Bounds(), img, b.Min, draw.Src)
	}
	return out
}

// inkGray converts img to grey by luminance darkened by colour where it
// is already darker than paper: Y − (max−min)·(255−Y)/255. A value printed
// in a light brand colour (blue, red, teal: mid-grey by luminance) comes
// out nearly black, while the paper round it stays white even where a
// JPEG's half-resolution colour bleeds past the strokes (there Y ≈ 255).
func inkGray(img image.Image) *image.Gray {
	b := img.Bounds()
	out := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	shade := func(l, r, g, bb int) uint8 {
		return uint8(max(0, l-(max(r, g, bb)-min(r, g, bb))*(255-l)/255))
	}
	rgb := func(r, g, bb, al int) uint8 {
		l := (299*r + 587*g + 114*bb) / 1000
		return shade((l*al+255*(255-al))/255, r, g, bb) // transparent → white
	}
	for y := 0; y < b.Dy(); y++ {
		o := out.Pix[y*out.Stride:]
		switch src := img.(type) {
		case *image.YCbCr:
			for x := 0; x < b.Dx(); x++ {
				yi, ci := src.YOffset(b.Min.X+x, b.Min.Y+y), src.COffset(b.Min.X+x, b.Min.Y+y)
				r, g, bb := color.YCbCrToRGB(src.Y[yi], src.Cb[ci], src.Cr[ci])
				o[x] = shade(int(src.Y[yi]), int(r), int(g), int(bb))
			}
		case *image.NRGBA: // PNG screenshots
			row := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < b.Dx(); x++ {
				o[x] = rgb(int(row[4*x]), int(row[4*x+1]), int(row[4*x+2]), int(row[4*x+3]))
			}
		default:
			for x := 0; x < b.Dx(); x++ {
				cr, cg, cb, a := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
				if a > 0 { // un-premultiply
					cr, cg, cb = cr*0xffff/a, cg*0xffff/a, cb*0xffff/a
				}
				o[x] = rgb(int(cr>>8), int(cg>>8), int(cb>>8), int(a>>8))
			}
		}
	}
	return out
}

// colourful reports whether img holds colour worth reading by inkGray:
// at least one sampled pixel in 300 strongly coloured (its channels 80
// or more apart) and not dark.
func colourful(img image.Image) bool {
	b := img.Bounds()
	n, hit := 0, 0
	for y := b.Min.Y; y < b.Max.Y; y += max(1, b.Dy()/96) {
		for x := b.Min.X; x < b.Max.X; x += max(1, b.Dx()/96) {
			r, g, bb, _ := img.At(x, y).RGBA()
			hi, lo := max(r, g, bb)>>8, min(r, g, bb)>>8
			n++
			if hi-lo >= 80 && hi >= 100 {
				hit++
			}
		}
	}
	return n > 0 && hit*300 >= n
}

// downscale shrinks g by an integer factor f with area averaging.
func downscale(g *image.Gray, f int) *image.Gray {
	if f <= 1 {
		return g
	}
	w, h := g.Rect.Dx()/f, g.Rect.Dy()/f
	if w < 1 || h < 1 {
		return g
	}
	out := image.NewGray(image.Rect(0, 0, w, h))
	n := f * f
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			s := 0
			for dy := 0; dy < f; dy++ {
				row := g.Pix[(y*f+dy)*g.Stride+x*f:]
				for dx := 0; dx < f; dx++ {
					s += int(row[dx])
				}
			}
			out.Pix[y*out.Stride+x] = uint8(s / n)
		}
	}
	return out
}

// resize scales g to w×h: area averaging when shrinking by 2 or more,
// bilinear otherwise.
func resize(g *image.Gray, w, h int) *image.Gray {
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
	// The columns' source positions and weights are the same on every row.
	x0s, x1s, txs := make([]int, w), make([]int, w), make([]float64, w)
	for x := 0; x < w; x++ {
		fx := (float64(x)+0.5)*sx - 0.5
		x0 := int(math.Floor(fx))
		txs[x] = fx - float64(x0)
		x0s[x], x1s[x] = clamp(x0, 0, sw-1), clamp(x0+1, 0, sw-1)
	}
	for y := 0; y < h; y++ {
		fy := (float64(y)+0.5)*sy - 0.5
		y0 := int(math.Floor(fy))
		ty := fy - float64(y0)
		r0 := g.Pix[clamp(y0, 0, sh-1)*g.Stride:]
		r1 := g.Pix[clamp(y0+1, 0, sh-1)*g.Stride:]
		row := out.Pix[y*out.Stride : y*out.Stride+w]
		for x := range row {
			x0c, x1c, tx := x0s[x], x1s[x], txs[x]
			a := float64(r0[x0c])*(1-tx) + float64(r0[x1c])*tx
			b := float64(r1[x0c])*(1-tx) + float64(r1[x1c])*tx
			row[x] = uint8(a*(1-ty) + b*ty + 0.5)
		}
	}
	return out
}

// rotate turns g by deg degrees counter-clockwise about its centre onto a
// canvas large enough for all of it, filling uncovered corners with bg.
func rotate(g *image.Gray, deg float64, bg uint8) *image.Gray {
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
	// c·dx and s·dx are the same on every row (same products, same sums:
	// the result is bit for bit the per-pixel formula's).
	cdx, sdx := make([]float64, nw), make([]float64, nw)
	for x := 0; x < nw; x++ {
		dx := float64(x) + 0.5 - ncx
		cdx[x], sdx[x] = c*dx, s*dx
	}
	for y := 0; y < nh; y++ {
		dy := float64(y) + 0.5 - ncy
		sdy, cdy := s*dy, c*dy
		row := out.Pix[y*out.Stride : y*out.Stride+nw]
		for x := range row {
			// inverse mapping: source = R(-θ)·dest (image y axis points down)
			fx := cdx[x] - sdy + cx - 0.5
			fy := sdx[x] + cdy + cy - 0.5
			x0, y0 := int(math.Floor(fx)), int(math.Floor(fy))
			if x0 < 0 || y0 < 0 || x0+1 >= w || y0+1 >= h {
				row[x] = bg
				continue
			}
			tx, ty := fx-float64(x0), fy-float64(y0)
			i := y0*g.Stride + x0
			a := float64(g.Pix[i])*(1-tx) + float64(g.Pix[i+1])*tx
			b := float64(g.Pix[i+g.Stride])*(1-tx) + float64(g.Pix[i+g.Stride+1])*tx
			row[x] = uint8(a*(1-ty) + b*ty + 0.5)
		}
	}
	return out
}

// whitePage is a blank white page of w × h.
func whitePage(w, h int) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	for i := range g.Pix {
		g.Pix[i] = 255
	}
	return g
}

func crop(g *image.Gray, r image.Rectangle) *image.Gray {
	r = r.Intersect(g.Rect)
	out := image.NewGray(image.Rect(0, 0, r.Dx(), r.Dy()))
	for y := 0; y < r.Dy(); y++ {
		copy(out.Pix[y*out.Stride:y*out.Stride+r.Dx()], g.Pix[(r.Min.Y+y)*g.Stride+r.Min.X:])
	}
	return out
}

// boxBlur returns the mean over a (2r+1)² window, using an integral image.
func boxBlur(g *image.Gray, r int) *image.Gray {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	integ := make([]int64, (w+1)*(h+1))
	for y := 0; y < h; y++ {
		var rs int64
		for x := 0; x < w; x++ {
			rs += int64(g.Pix[y*g.Stride+x])
			integ[(y+1)*(w+1)+x+1] = integ[y*(w+1)+x+1] + rs
		}
	}
	out := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		y0, y1 := max(y-r, 0), min(y+r+1, h)
		for x := 0; x < w; x++ {
			x0, x1 := max(x-r, 0), min(x+r+1, w)
			s := integ[y1*(w+1)+x1] - integ[y0*(w+1)+x1] - integ[y1*(w+1)+x0] + integ[y0*(w+1)+x0]
			out.Pix[y*out.Stride+x] = uint8(s / int64((y1-y0)*(x1-x0)))
		}
	}
	return out
}

// maxFilter is a separable grey dilation with a (2r+1)² square.
func maxFilter(g *image.Gray, r int) *image.Gray {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	tmp := image.NewGray(g.Rect)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m := uint8(0)
			for k := max(x-r, 0); k <= min(x+r, w-1); k++ {
				m = max(m, g.Pix[y*g.Stride+k])
			}
			tmp.Pix[y*tmp.Stride+x] = m
		}
	}
	out := image.NewGray(g.Rect)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m := uint8(0)
			for k := max(y-r, 0); k <= min(y+r, h-1); k++ {
				m = max(m, tmp.Pix[k*tmp.Stride+x])
			}
			out.Pix[y*out.Stride+x] = m
		}
	}
	return out
}

// binarize returns g in black and white, split halfway between its ink
// (the darkest 2 % of its pixels) and its paper (the median). Otsu's
// threshold would split a strip's paper grain or the background beside
// it as readily as ink from paper.
func binarize(g *image.Gray) *image.Gray {
	hist := grayHist(g, g.Rect)
	w, h := g.Rect.Dx(), g.Rect.Dy()
	quantile := func(q float64) int {
		n, want := 0, int(q*float64(w*h))
		for v, c := range hist {
			if n += c; n > want {
				return v
			}
		}
		return 255
	}
	t := uint8((quantile(0.02) + quantile(0.5)) / 2)
	out := image.NewGray(g.Rect)
	for y := 0; y < h; y++ {
		src, dst := g.Pix[y*g.Stride:y*g.Stride+w], out.Pix[y*out.Stride:y*out.Stride+w]
		for x, p := range src {
			if p > t {
				dst[x] = 255
			}
		}
	}
	return out
}

// otsu returns the Otsu threshold of g's histogram.
func otsu(g *image.Gray) uint8 {
	hist := grayHist(g, g.Rect)
	total := g.Rect.Dx() * g.Rect.Dy()
	var sum float64
	for i, c := range hist {
		sum += float64(i * c)
	}
	var sumB, best float64
	wB, th := 0, 127
	for t := 0; t < 256; t++ {
		wB += hist[t]
		if wB == 0 {
			continue
		}
		wF := total - wB
		if wF == 0 {
			break
		}
		sumB += float64(t * hist[t])
		mB, mF := sumB/float64(wB), (sum-sumB)/float64(wF)
		v := float64(wB) * float64(wF) * (mB - mF) * (mB - mF)
		if v > best {
			best, th = v, t
		}
	}
	return uint8(th)
}

func clamp(v, lo, hi int) int { return max(lo, min(v, hi)) }

func median(v []int) int {
	if len(v) == 0 {
		return 0
	}
	s := append([]int(nil), v...)
	sort.Ints(s)
	return s[len(s)/2]
}

var _ = color.Gray{}

// turn rotates g by t quarter turns counter-clockwise (1, 2 or 3).
func turn(g *image.Gray, t int) *image.Gray {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	var out *image.Gray
	if t == 2 {
		out = image.NewGray(image.Rect(0, 0, w, h))
	} else {
		out = image.NewGray(image.Rect(0, 0, h, w))
	}
	for y := 0; y < h; y++ {
		row := g.Pix[y*g.Stride : y*g.Stride+w]
		for x, v := range row {
			switch t {
			case 1: // the top right corner goes to the top left
				out.Pix[(w-1-x)*out.Stride+y] = v
			case 2:
				out.Pix[(h-1-y)*out.Stride+w-1-x] = v
			case 3: // the bottom left corner goes to the top left
				out.Pix[x*out.Stride+h-1-y] = v
			}
		}
	}
	return out
}
