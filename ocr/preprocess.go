package ocr

import (
	"image"
	"image/color"
	"math"
	"slices"
	"sort"
)

// Prepared is a voucher image made ready for Tesseract, with what was
// measured on the way.
type Prepared struct {
	Image       *image.Gray     // normalised, deskewed document at reading scale
	Doc         image.Rectangle // document region in the upload turned upright (Turn), relative to its bounds
	Angle       float64         // rotation applied, degrees counter-clockwise
	Scale       float64         // factor from the upload's pixels to Image's
	GlyphPx     float64         // median glyph height in the upload, pixels
	Brightness  float64         // the document's median level as captured (a dark theme's negative), before flattening, 0–255
	Sharpness   float64         // mean gradient energy of text edges at reading scale
	NoDocument  bool            // no text-like marks were found
	RunTogether bool            // most text marks are whole words, their letters touching
	Inverted    int             // dark panels with light text turned to dark on light
	Leaders     int             // rows of dotted leaders painted out (eraseLeaders)
	Lightened   bool            // mid-tones lightened to part touching letters (PrepConfig.PartLetters)
	Panels      int             // dark panels of light text found beside the document (PrepConfig.TakePanels)
	Turn        int             // quarter turns counter-clockwise the upload was given before anything else (PrepConfig.Turn)
	Denoised    bool            // grain averaged away before the crop (PrepConfig.Denoise)

	preRotW, preRotH int         // size of the scaled page before rotation, to map boxes back
	turnW, turnH     float64     // size of the upload before the turn, upload pixels
	origin           image.Point // the upload's bounds' minimum
	upload           image.Point // the upload's size
}

// Flat reports whether the upload was read as it came, as a screenshot
// is: not turned, not cropped to a document (the page fills it), and
// straightened by no more than the skew estimate's noise on a screenshot
// (the dev corpus's 76 measure 0–0.3°). Sizes printed alike keep one size
// across such a page; a photo's perspective changes them.
func (p *Prepared) Flat() bool {
	full := p.Doc.Dx() >= p.upload.X*98/100 && p.Doc.Dy() >= p.upload.Y*98/100
	return p.Turn == 0 && math.Abs(p.Angle) < 0.35 && full
}

// ToUpload maps a rectangle of Image back to the (oriented) upload's
// pixels: undo the rotation about the canvas centre, the scaling and the
// crop. The result bounds the four mapped corners.
func (p *Prepared) ToUpload(r image.Rectangle) image.Rectangle {
	var out image.Rectangle
	for i, pt := range [4][2]int{{r.Min.X, r.Min.Y}, {r.Max.X, r.Min.Y}, {r.Min.X, r.Max.Y}, {r.Max.X, r.Max.Y}} {
		x, y := p.UploadPoint(float64(pt[0]), float64(pt[1]))
		q := image.Pt(int(math.Floor(x+0.5)), int(math.Floor(y+0.5)))
		pix := image.Rectangle{q, q.Add(image.Pt(1, 1))} // non-empty: Union skips empty rectangles
		if i == 0 {
			out = pix
		} else {
			out = out.Union(pix)
		}
	}
	return out
}

// UploadPoint maps a point of Image to the (oriented) upload's pixels.
func (p *Prepared) UploadPoint(x, y float64) (float64, float64) {
	th := p.Angle * math.Pi / 180
	c, s := math.Cos(th), math.Sin(th)
	dx, dy := x-float64(p.Image.Rect.Dx())/2, y-float64(p.Image.Rect.Dy())/2
	ux := c*dx - s*dy + float64(p.preRotW)/2
	uy := s*dx + c*dy + float64(p.preRotH)/2
	tx, ty := float64(p.Doc.Min.X)+ux/p.Scale, float64(p.Doc.Min.Y)+uy/p.Scale
	switch p.Turn {
	case 1: // the turned page's top left was the upload's top right
		tx, ty = p.turnW-ty, tx
	case 2:
		tx, ty = p.turnW-tx, p.turnH-ty
	case 3:
		tx, ty = ty, p.turnH-tx
	}
	return tx + float64(p.origin.X), ty + float64(p.origin.Y)
}

// ImagePoint maps a point of the upload to Image: the inverse of UploadPoint.
func (p *Prepared) ImagePoint(ux, uy float64) (float64, float64) {
	th := p.Angle * math.Pi / 180
	c, s := math.Cos(th), math.Sin(th)
	ux, uy = ux-float64(p.origin.X), uy-float64(p.origin.Y)
	switch p.Turn {
	case 1:
		ux, uy = uy, p.turnW-ux
	case 2:
		ux, uy = p.turnW-ux, p.turnH-uy
	case 3:
		ux, uy = p.turnH-uy, ux
	}
	x := (ux-float64(p.Doc.Min.X))*p.Scale - float64(p.preRotW)/2
	y := (uy-float64(p.Doc.Min.Y))*p.Scale - float64(p.preRotH)/2
	return c*x + s*y + float64(p.Image.Rect.Dx())/2, -s*x + c*y + float64(p.Image.Rect.Dy())/2
}

// reframe maps a rectangle of from.Image into p.Image, keeping its centre
// and scaling its size, so boxes read on two preparations of one upload
// share p's frame.
func (p *Prepared) reframe(from *Prepared, r image.Rectangle) image.Rectangle {
	ux, uy := from.UploadPoint(float64(r.Min.X+r.Max.X)/2, float64(r.Min.Y+r.Max.Y)/2)
	cx, cy := p.ImagePoint(ux, uy)
	k := p.Scale / from.Scale
	hw, hh := float64(r.Dx())*k/2, float64(r.Dy())*k/2
	return image.Rect(int(cx-hw+0.5), int(cy-hh+0.5), int(cx+hw+0.5), int(cy+hh+0.5))
}

// Sample returns the part r of Image as it is in the upload img, in
// colour: each pixel of r is sampled (bilinear) from img, so the crop is
// deskewed and at reading scale but keeps the upload's ink and noise.
func (p *Prepared) Sample(img image.Image, r image.Rectangle) *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, max(r.Dx(), 0), max(r.Dy(), 0)))
	b := img.Bounds()
	get := rgbAt(img)
	at := func(x, y int) (float64, float64, float64) {
		return get(min(max(x, b.Min.X), b.Max.X-1), min(max(y, b.Min.Y), b.Max.Y-1))
	}
	for y := 0; y < r.Dy(); y++ {
		for x := 0; x < r.Dx(); x++ {
			ux, uy := p.UploadPoint(float64(r.Min.X+x)+0.5, float64(r.Min.Y+y)+0.5)
			ux, uy = ux-0.5, uy-0.5
			x0, y0 := int(math.Floor(ux)), int(math.Floor(uy))
			fx, fy := ux-float64(x0), uy-float64(y0)
			r00, g00, b00 := at(x0, y0)
			r10, g10, b10 := at(x0+1, y0)
			r01, g01, b01 := at(x0, y0+1)
			r11, g11, b11 := at(x0+1, y0+1)
			mix := func(a, b, c, d float64) uint8 {
				v := (a*(1-fx)+b*fx)*(1-fy) + (c*(1-fx)+d*fx)*fy
				return uint8(min(max(v+0.5, 0), 255))
			}
			i := out.PixOffset(x, y)
			out.Pix[i] = mix(r00, r10, r01, r11)
			out.Pix[i+1] = mix(g00, g10, g01, g11)
			out.Pix[i+2] = mix(b00, b10, b01, b11)
			out.Pix[i+3] = 255
		}
	}
	return out
}

// rgbAt returns a reader of img's pixels as 0–255 RGB that avoids the
// per-pixel allocation of image.Image.At for the decoders' usual types.
func rgbAt(img image.Image) func(x, y int) (float64, float64, float64) {
	switch m := img.(type) {
	case *image.YCbCr:
		return func(x, y int) (float64, float64, float64) {
			yi, ci := m.YOffset(x, y), m.COffset(x, y)
			r, g, b := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
			return float64(r), float64(g), float64(b)
		}
	case *image.Gray:
		return func(x, y int) (float64, float64, float64) {
			v := float64(m.Pix[m.PixOffset(x, y)])
			return v, v, v
		}
	case *image.RGBA:
		return func(x, y int) (float64, float64, float64) {
			i := m.PixOffset(x, y)
			return float64(m.Pix[i]), float64(m.Pix[i+1]), float64(m.Pix[i+2])
		}
	case *image.NRGBA:
		return func(x, y int) (float64, float64, float64) {
			i := m.PixOffset(x, y)
			a := float64(m.Pix[i+3]) / 255
			return float64(m.Pix[i]) * a, float64(m.Pix[i+1]) * a, float64(m.Pix[i+2]) * a
		}
	}
	return func(x, y int) (float64, float64, float64) {
		r, g, b, _ := img.At(x, y).RGBA()
		return float64(r >> 8), float64(g >> 8), float64(b >> 8)
	}
}

// PrepConfig tunes preprocessing. The zero value uses the measured defaults.
type PrepConfig struct {
	TargetGlyph float64 // glyph height Tesseract reads best, pixels (default 26, measured: docs/measurements.md)
	NoDeskew    bool
	NoCrop      bool
	NoNormalize bool
	Gamma       float64 // mid-tone darkening after flattening (default 2)
	// SharpenBelow: pages whose edge sharpness (Prepared.Sharpness) is
	// below this get an unsharp mask (default 1700, measured:
	// docs/measurements.md; negative: never).
	SharpenBelow float64
	// PartLetters lightens the mid-tones of a page whose letters run
	// together, to RunTogetherGamma (default 0.5) instead of Gamma.
	PartLetters      bool
	RunTogetherGamma float64
	// Deblur: a blurry page (under SharpenBelow) is deconvolved with a
	// Gaussian of this sigma, in upload pixels, instead of unsharp masked
	// (0: unsharp mask). Used by the engine's deblur pass.
	Deblur float64
	// TakePanels crops the document with the dark panels of light text
	// found above or below its bright region (an app's header holding the
	// amount, merged with a dark table in a photo) and inverts them. Off,
	// the crop is the bright region alone. Used by the engine's panel pass.
	TakePanels bool
	// Turn gives the upload this many quarter turns counter-clockwise
	// before anything else (a photo taken sideways or upside down whose
	// file says nothing of it); Prepared maps boxes back to the upload
	// as it came. Set by the engine when the upload reads upright only so.
	Turn int
	// InkGray reads the upload in grey darkened by colour where it is
	// darker than paper (inkGray): values printed in a light brand colour
	// come out dark. Used by the engine's colour pass.
	InkGray bool
	// Denoise averages each pixel with its eight neighbours before the
	// crop: a photo's grain, darkened with the mid-tones, turns paper
	// into specks that Tesseract reads as hundreds of words. Set by the
	// engine when the first read finds such a page (grainWords).
	Denoise bool
}

// sharpenBelow is SharpenBelow or its default.
func (c PrepConfig) sharpenBelow() float64 {
	if c.SharpenBelow == 0 {
		return 1700
	}
	return c.SharpenBelow
}

// The deblur pass (Engine.ReadImage): pages of glyphs under deblurGlyph
// upload pixels, deconvolved with a Gaussian of deblurSigma upload pixels
// (measured on the dev corpus: docs/measurements.md).
const (
	deblurGlyph = 14
	deblurSigma = 1.2
)

// deblurMaxPixels bounds the working image deconvolved: four float
// buffers of it, 32 MB at most per worker (larger pages are unsharp masked).
const deblurMaxPixels = 2_000_000

// deblurIterations of Richardson–Lucy: more sharpen noise as well as text
// (20 read worse than 10 on the dev corpus's blurry screen photos).
const deblurIterations = 10

const workLongSide = 2400 // uploads larger than this are first area-downscaled

// Preprocess finds the document in img, crops and deskews it, scales it so
// glyphs are about cfg.TargetGlyph pixels tall and flattens uneven light.
func Preprocess(img image.Image, cfg PrepConfig) *Prepared {
	if cfg.TargetGlyph == 0 {
		cfg.TargetGlyph = 26
	}
	cfg.SharpenBelow = cfg.sharpenBelow()
	var g *image.Gray
	if cfg.InkGray {
		g = inkGray(img)
	} else {
		g = toGray(img)
	}
	pre := 1.0
	if ls := max(g.Rect.Dx(), g.Rect.Dy()); ls > workLongSide {
		f := (ls + workLongSide - 1) / workLongSide
		g = downscale(g, f)
		pre = 1 / float64(f)
	}
	p := &Prepared{origin: img.Bounds().Min, upload: img.Bounds().Size()}
	if cfg.Denoise {
		g, p.Denoised = boxBlur(g, 1), true
	}
	if t := (cfg.Turn%4 + 4) % 4; t != 0 {
		p.Turn, p.turnW, p.turnH = t, float64(g.Rect.Dx())/pre, float64(g.Rect.Dy())/pre
		g = turn(g, t)
	}

	// 1. Document region: the largest bright connected region of a small copy.
	docRect, pn := image.Rectangle{}, (*panels)(nil)
	if !cfg.NoCrop {
		docRect, pn = findDocument(g)
	}
	var panelMask *image.Gray
	if pn != nil {
		p.Panels = pn.n
		if cfg.TakePanels {
			docRect = docRect.Union(pn.bounds)
			panelMask = crop(pn.mask, docRect)
		}
	}
	if docRect.Empty() {
		docRect = g.Rect
	}
	g = crop(g, docRect)
	p.Doc = image.Rect(int(float64(docRect.Min.X)/pre), int(float64(docRect.Min.Y)/pre),
		int(float64(docRect.Max.X)/pre), int(float64(docRect.Max.Y)/pre))

	// 2. Illumination: divide by a background estimate so shadows, vignettes
	// and faded thermal paper all become dark ink on white. A dark panel
	// with light text (an app's coloured header with the amount in white)
	// is turned to dark on light first, or it would be whitened away.
	if !cfg.NoNormalize {
		if panelMask != nil {
			for i, m := range panelMask.Pix {
				if m != 0 {
					g.Pix[i] = 255 - g.Pix[i]
				}
			}
			p.Inverted += p.Panels
		} else if darkPage(g) {
			// A dark theme (light text on a dark page): read as its negative.
			invert(g, g.Rect)
			p.Inverted++
		}
		p.Inverted += invertPanels(g)
	}
	p.Brightness = medianLevel(g)
	if !cfg.NoNormalize {
		g = flatten(g, cfg)
	}
	clearBorder(g)

	// 3. Skew and glyph size, measured on text marks at analysis scale.
	// Too few for a document: on a grainy photo the paper's grain,
	// darkened with the mid-tones, breaks letters into specks and joins
	// them to the grain; marked again on the page smoothed by a pixel, its
	// letters are whole (a small, sharp confirmation whose grain left 46
	// marks and was read, 12° askew, as no document at all).
	marks, af := textMarks(g, false)
	if len(marks.pts) < minSkewMarks {
		if m, f := textMarks(g, true); len(m.pts) >= minSkewMarks {
			marks, af = m, f
		}
	}
	if len(marks.pts) < minSkewMarks {
		p.NoDocument = true
	}
	if !cfg.NoDeskew && len(marks.pts) >= minSkewMarks {
		p.Angle = estimateSkew(marks.pts)
		if marks.wordsOnly && math.Abs(p.Angle) < 1 {
			// Word bottoms wobble (descenders, blur): turning a page
			// that stood straight by a fraction of a degree only blurs it.
			p.Angle = 0
		}
	}
	p.RunTogether = marks.runTogether
	if marks.runTogether && cfg.PartLetters && !cfg.NoNormalize {
		// Tesseract's layout analysis drops a word whose letters all touch
		// (a narrow font, blurred): lighten the mid-tones so the grey
		// between letters turns to paper.
		lighten(g, cfg.Gamma, cfg.RunTogetherGamma)
		p.Lightened = true
	}
	glyph := marks.glyphHeight * af // at the working (pre-scaled) resolution
	if math.Abs(p.Angle) > 16 {
		// Glyphs turned that far have boxes much taller than themselves:
		// measure them again on the page turned straight.
		if m, f := textMarks(rotate(g, p.Angle, 255), false); m.glyphHeight > 0 {
			glyph = m.glyphHeight * f
		}
	}
	scale := 1.0
	if glyph >= 3 {
		scale = cfg.TargetGlyph / glyph
	} else {
		scale = 1200 / float64(g.Rect.Dx())
	}
	scale = math.Max(0.25, math.Min(scale, 4))
	// Tesseract time grows with pixels: keep the page under ~4 MP.
	if px := float64(g.Rect.Dx()*g.Rect.Dy()) * scale * scale; px > 4e6 {
		scale *= math.Sqrt(4e6 / px)
	}
	p.GlyphPx = glyph / pre
	w, h := int(float64(g.Rect.Dx())*scale+0.5), int(float64(g.Rect.Dy())*scale+0.5)
	small := g
	g = resize(g, max(w, 1), max(h, 1))
	p.preRotW, p.preRotH = g.Rect.Dx(), g.Rect.Dy()
	g = rotate(g, p.Angle, 255)
	p.Scale = scale * pre
	p.Sharpness = sharpness(g)
	// Blurry pages (a shaken photo, a small screen photo enlarged) get their
	// edges steepened before Tesseract reads them.
	switch {
	case p.Sharpness >= cfg.SharpenBelow:
	case cfg.Deblur > 0 && small.Rect.Dx()*small.Rect.Dy() <= deblurMaxPixels:
		// Undo the blur at the working resolution, where it is a
		// Gaussian of about a pixel, then enlarge again.
		g = resize(deconvolve(small, cfg.Deblur*pre, deblurIterations), max(w, 1), max(h, 1))
		g = rotate(g, p.Angle, 255)
	default:
		g = unsharp(g, 2, 1)
	}
	if glyph >= 3 {
		p.Leaders = eraseLeaders(g, glyph*scale)
	}
	p.Image = g
	return p
}

// findDocument returns the bounding box of the largest bright region of g
// and the dark panels of light text just above or below it
// (takePanelText); or an empty rectangle when the region covers nearly
// the whole image (a screenshot) or too little of it.
//
// The region is taken at a threshold lowered towards the background, so
// paper under uneven light stays one region. Paper on a light table
// (grey-white on beige, a few levels apart, under light falling across
// both) runs into the table, and no threshold parts them: the picture
// would be read whole, the table's grain turned to specks that crowd the
// small print. Then the table's light is taken out (aboveBorderPlane) and
// the region looked for again, kept when it is a sheet: clear of every
// edge, filling sheetFill of its rows.
func findDocument(g *image.Gray) (image.Rectangle, *panels) {
	f := max(1, max(g.Rect.Dx(), g.Rect.Dy())/400)
	s := downscale(g, f)
	t := otsu(s)
	// Paper under uneven light is darker on one side: lower the threshold
	// part of the way towards the background's mean so it stays one region.
	var below, nb int
	for _, v := range s.Pix {
		if v <= t {
			below += int(v)
			nb++
		}
	}
	if nb > 0 {
		t = uint8(float64(t) - 0.4*(float64(t)-float64(below)/float64(nb)))
	}
	r, pn, sheet := documentAt(g, s, f, t, 0)
	if !sheet && r.Empty() {
		if p, ok := aboveBorderPlane(s); ok {
			if r2, pn2, ok := documentAt(g, p, f, max(otsu(p), 128+planeApart/2), sheetFill); ok {
				return r2, pn2
			}
		}
	}
	return r, pn
}

// sheetFill is how much of each of its rows, from its first pixel to its
// last, a region brighter than the background's plane must fill to be a
// sheet (findDocument); its print leaves holes in it.
const sheetFill = 0.7

// aboveBorderPlane returns s less the plane fitted by least squares to its
// outer ring (two cells deep), plus 128: a background lit unevenly comes
// out flat, and paper on it a few levels brighter stands out everywhere,
// above Otsu's threshold or 128 + planeApart/2, the higher (on a page of
// dense print, Otsu's alone parts the print from the rest).
// ok is false when the picture is too small, or when no pixel stands
// planeApart levels above the plane: nothing is brighter than the table.
func aboveBorderPlane(s *image.Gray) (*image.Gray, bool) {
	w, h := s.Rect.Dx(), s.Rect.Dy()
	if w < 20 || h < 20 {
		return nil, false
	}
	// Normal equations of v = a + b·x + c·y over the ring.
	var n, sx, sy, sxx, syy, sxy, sv, sxv, syv float64
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if x >= 2 && x < w-2 && y >= 2 && y < h-2 {
				continue
			}
			X, Y, V := float64(x), float64(y), float64(s.Pix[y*s.Stride+x])
			n++
			sx, sy, sxx, syy, sxy = sx+X, sy+Y, sxx+X*X, syy+Y*Y, sxy+X*Y
			sv, sxv, syv = sv+V, sxv+X*V, syv+Y*V
		}
	}
	m := [3][4]float64{{n, sx, sy, sv}, {sx, sxx, sxy, sxv}, {sy, sxy, syy, syv}}
	for i := 0; i < 3; i++ { // Gauss-Jordan; the ring's matrix is well conditioned
		if math.Abs(m[i][i]) < 1e-9 {
			return nil, false
		}
		for j := 0; j < 3; j++ {
			if j != i {
				k := m[j][i] / m[i][i]
				for c := i; c < 4; c++ {
					m[j][c] -= k * m[i][c]
				}
			}
		}
	}
	a, b, c := m[0][3]/m[0][0], m[1][3]/m[1][1], m[2][3]/m[2][2]
	p := image.NewGray(image.Rect(0, 0, w, h))
	bright := 0
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			d := float64(s.Pix[y*s.Stride+x]) - (a + b*float64(x) + c*float64(y))
			if d >= planeApart {
				bright++
			}
			p.Pix[y*p.Stride+x] = uint8(clamp(int(math.Round(128+d)), 0, 255))
		}
	}
	return p, float64(bright) >= 0.08*float64(w*h)
}

// planeApart is how many levels above the background's plane paper must
// stand (aboveBorderPlane): twice a photo's grain.
const planeApart = 12

// documentAt is findDocument at threshold t on s, g shrunk f times; sheet
// reports a bright region found on a background (not the whole picture,
// nor a dark screen). With fill > 0, a region filling less of its rows
// is no sheet.
func documentAt(g, s *image.Gray, f int, t uint8, fill float64) (_ image.Rectangle, _ *panels, sheet bool) {
	w, h := s.Rect.Dx(), s.Rect.Dy()
	lab := make([]int32, w*h)
	var best, bestN int32 = 0, 0
	var next int32 = 1
	sizes := []int32{0} // by label
	stack := make([]int, 0, 1024)
	for i := range lab {
		if lab[i] != 0 || s.Pix[(i/w)*s.Stride+i%w] <= t {
			continue
		}
		n := int32(0)
		lab[i] = next
		stack = append(stack[:0], i)
		for len(stack) > 0 {
			j := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			n++
			x, y := j%w, j/w
			for _, k := range [4]int{j - 1, j + 1, j - w, j + w} {
				if (k == j-1 && x == 0) || (k == j+1 && x == w-1) || k < 0 || k >= w*h {
					continue
				}
				if lab[k] == 0 && s.Pix[(k/w)*s.Stride+k%w] > t {
					lab[k] = next
					stack = append(stack, k)
				}
			}
			_ = y
		}
		if n > bestN {
			best, bestN = next, n
		}
		sizes = append(sizes, n)
		next++
	}
	if float64(bestN) < 0.08*float64(w*h) {
		return image.Rectangle{}, nil, false
	}
	growShadowed(s, lab, best, t)
	minX, minY, maxX, maxY := w, h, -1, -1
	spans := make([][2]int, h)
	for y := 0; y < h; y++ {
		spans[y] = [2]int{w, -1}
		for x := 0; x < w; x++ {
			if lab[y*w+x] == best {
				spans[y][0] = min(spans[y][0], x)
				spans[y][1] = max(spans[y][1], x)
			}
		}
		if spans[y][1] >= 0 {
			minX, maxX = min(minX, spans[y][0]), max(maxX, spans[y][1])
			minY, maxY = min(minY, y), max(maxY, y)
		}
	}
	// A bright region nearly the whole picture is a screenshot, or a light
	// table around a screen in a dark theme.
	if float64(maxX-minX+1) > 0.94*float64(w) && float64(maxY-minY+1) > 0.94*float64(h) {
		return darkScreenRect(s, t, f, g.Rect), nil, false
	}
	// Touching two or more edges of the picture, the bright region is not
	// a sheet on a background but paper and a light table run together,
	// cut where a shadow falls: keep the whole picture.
	touch := 0
	for _, t := range []bool{minX == 0, minY == 0, maxX == w-1, maxY == h-1} {
		if t {
			touch++
		}
	}
	if touch >= 2 {
		return darkScreenRect(s, t, f, g.Rect), nil, false
	}
	if fill > 0 && touch > 0 {
		// The plane was fitted to the picture's border as the table's:
		// paper reaching the border (a close photo) bent it, and the
		// region found on it is the paper cut by a shadow.
		return image.Rectangle{}, nil, false
	}
	if fill > 0 {
		// Filled between each row's first and last pixel, not within the
		// bounds: a sheet photographed askew fills only two thirds of them.
		spanned := 0
		for _, sp := range spans {
			if sp[1] >= 0 {
				spanned += sp[1] - sp[0] + 1
			}
		}
		if float64(bestN) < fill*float64(spanned) {
			return image.Rectangle{}, nil, false
		}
	}
	pad := 2 * f
	r := image.Rect((minX*f)-pad, (minY*f)-pad, (maxX+1)*f+pad, (maxY+1)*f+pad).Intersect(g.Rect)
	top, bot := takePanelText(lab, sizes, best, w, h, image.Rect(minX, minY, maxX+1, maxY+1))
	if top == minY && bot == maxY+1 {
		return r, nil, true
	}
	// The panels reach, at each column, from their outer row to the bright
	// region's edge there: on a tilted photo the edge slants.
	edgeTops, edgeBots := make([]int, maxX+1), make([]int, maxX+1)
	for x := minX; x <= maxX; x++ {
		edgeTops[x], edgeBots[x] = minY, maxY+1
		for y := minY; y <= maxY; y++ {
			if lab[y*w+x] == best {
				edgeTops[x] = y
				break
			}
		}
		for y := maxY; y >= minY; y-- {
			if lab[y*w+x] == best {
				edgeBots[x] = y + 1
				break
			}
		}
	}
	pn := &panels{mask: image.NewGray(g.Rect)}
	for X := max(0, minX*f-pad); X < min(g.Rect.Dx(), (maxX+1)*f+pad); X++ {
		x := min(max(X/f, minX), maxX)
		edgeTop, edgeBot := edgeTops[x], edgeBots[x]
		var runs [][2]int
		if top < minY {
			runs = append(runs, [2]int{top*f - pad, edgeTop * f})
		}
		if bot > maxY+1 {
			runs = append(runs, [2]int{edgeBot * f, bot*f + pad})
		}
		for _, run := range runs {
			for Y := max(0, run[0]); Y < min(g.Rect.Dy(), run[1]); Y++ {
				pn.mask.Pix[Y*pn.mask.Stride+X] = 255
			}
		}
	}
	if top < minY {
		pn.n++
	}
	if bot > maxY+1 {
		pn.n++
	}
	pn.bounds = image.Rect(minX*f-pad, top*f-pad, (maxX+1)*f+pad, bot*f+pad).Intersect(g.Rect)
	return r, pn, true
}

// darkScreenRect is darkScreen's region of the small copy s (f times
// smaller than the picture, bounds) in the picture, padded by two cells.
func darkScreenRect(s *image.Gray, t uint8, f int, bounds image.Rectangle) image.Rectangle {
	d := darkScreen(s, t)
	if d.Empty() {
		return d
	}
	return image.Rect(d.Min.X*f-2*f, d.Min.Y*f-2*f, d.Max.X*f+2*f, d.Max.Y*f+2*f).Intersect(bounds)
}

// A dark region with text on a side (darkScreen) is a header: headerInk
// levels under the side's median, on more than headerInkPct % of it,
// headerEdge rows of the small copy away from the region.
const (
	headerInk    = 40
	headerInkPct = 1
	headerEdge   = 3
)

// darkScreen returns the bounds of the largest region of s darker than t
// that is clear of the picture's edges, covers at least 8 % of it, fills
// at least half its bounds, has plain surroundings above and below (under
// 1 % dark), is mostly dark (median under 90) and holds light marks (text)
// on 1–40 % of its bounds: a screen in a dark theme on a light table.
// Otherwise it returns the empty rectangle.
func darkScreen(s *image.Gray, t uint8) image.Rectangle {
	w, h := s.Rect.Dx(), s.Rect.Dy()
	lab := make([]bool, w*h)
	var best image.Rectangle
	bestN := 0
	stack := make([]int, 0, 1024)
	for i := range lab {
		if lab[i] || s.Pix[(i/w)*s.Stride+i%w] > t {
			continue
		}
		lab[i] = true
		stack = append(stack[:0], i)
		r, n, edge := image.Rect(i%w, i/w, i%w+1, i/w+1), 0, false
		for len(stack) > 0 {
			j := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			n++
			x, y := j%w, j/w
			r = r.Union(image.Rect(x, y, x+1, y+1))
			edge = edge || x == 0 || y == 0 || x == w-1 || y == h-1
			for _, k := range [4]int{j - 1, j + 1, j - w, j + w} {
				if (k == j-1 && x == 0) || (k == j+1 && x == w-1) || k < 0 || k >= w*h {
					continue
				}
				if !lab[k] && s.Pix[(k/w)*s.Stride+k%w] <= t {
					lab[k] = true
					stack = append(stack, k)
				}
			}
		}
		if !edge && n > bestN {
			best, bestN = r, n
		}
	}
	if float64(bestN) < 0.08*float64(w*h) || 2*bestN < best.Dx()*best.Dy() {
		return image.Rectangle{}
	}
	// A dark header above a white page (an app in its light theme on a
	// light table) is no dark screen: the page beside it holds dark text,
	// where a table around a screen is plain. Each side is looked at on
	// its own, a region's height deep, and text is what is darker than t
	// or than the side's own median by headerInk: grey labels and values,
	// blurred and shrunk, are lighter than the header (a photo of a light
	// app on a beige table had its page cropped away). The rows next to
	// the region, where its own edge blurs, are left out.
	sides := [2]image.Rectangle{
		image.Rect(best.Min.X, best.Min.Y-best.Dy(), best.Max.X, best.Min.Y-headerEdge),
		image.Rect(best.Min.X, best.Max.Y+headerEdge, best.Max.X, best.Max.Y+best.Dy()),
	}
	for _, side := range sides {
		side = side.Intersect(s.Rect)
		if side.Empty() {
			continue
		}
		hist := grayHist(s, side)
		med := histMedian(&hist)
		ink, around := 0, 0
		for v, n := range hist {
			around += n
			if v <= int(t) || v < med-headerInk {
				ink += n
			}
		}
		if ink*100 > around*headerInkPct {
			return image.Rectangle{}
		}
	}
	if darkPage(s.SubImage(best).(*image.Gray)) {
		light := 0
		for y := best.Min.Y; y < best.Max.Y; y++ {
			for x := best.Min.X; x < best.Max.X; x++ {
				if s.Pix[y*s.Stride+x] > t {
					light++
				}
			}
		}
		if a := best.Dx() * best.Dy(); light*100 >= a && light*100 <= 40*a {
			return best
		}
	}
	return image.Rectangle{}
}

// panels are the dark panels of light text beside a document's bright
// region (findDocument): n of them, within bounds, their pixels set in mask.
type panels struct {
	n      int
	bounds image.Rectangle
	mask   *image.Gray
}

// takePanelText finds the rows of dark panels just above and below the
// bright region best (doc its bounds): an app screen's header with the
// amount in light text merges with a dark table in a photo and is not
// part of the bright region. A panel shows as light marks (letters,
// words) within the document's columns, each small and short, clear of
// the region's bounds and within a gap of them or of the marks already
// taken. It returns the rows [top, bot) of the document with its panels;
// a panel counts when at least two marks were found in it.
func takePanelText(lab []int32, sizes []int32, best int32, w, h int, doc image.Rectangle) (top, bot int) {
	boxes := make(map[int32]image.Rectangle)
	for i, l := range lab {
		if l == 0 || l == best {
			continue
		}
		x, y := i%w, i/w
		r := image.Rect(x, y, x+1, y+1)
		if b, ok := boxes[l]; ok {
			r = b.Union(r)
		}
		boxes[l] = r
	}
	dh := doc.Dy()
	maxGap := max(2, dh/4)
	maxH := max(2, dh/6)
	cols := doc.Inset(-max(1, doc.Dx()/40))
	labels := make([]int32, 0, len(boxes))
	for l := range boxes {
		labels = append(labels, l)
	}
	slices.Sort(labels)
	var cand []image.Rectangle
	for _, l := range labels {
		b := boxes[l]
		if b.Dy() > maxH || float64(sizes[l]) > 0.01*float64(w*h) || b.Min.X < cols.Min.X || b.Max.X > cols.Max.X ||
			b.Min.X == 0 || b.Min.Y == 0 || b.Max.X == w || b.Max.Y == h || b.Overlaps(doc) {
			continue
		}
		cand = append(cand, b)
	}
	top, bot = doc.Min.Y, doc.Max.Y
	ntop, nbot := 0, 0
	for grew := true; grew; {
		grew = false
		for i, b := range cand {
			switch {
			case b.Empty():
				continue
			case b.Max.Y <= doc.Min.Y && top-b.Max.Y <= maxGap:
				top, ntop = min(top, b.Min.Y), ntop+1
			case b.Min.Y >= doc.Max.Y && b.Min.Y-bot <= maxGap:
				bot, nbot = max(bot, b.Max.Y), nbot+1
			default:
				continue
			}
			cand[i], grew = image.Rectangle{}, true
		}
	}
	if ntop < 2 {
		top = doc.Min.Y
	}
	if nbot < 2 {
		bot = doc.Max.Y
	}
	return top, bot
}

// growShadowed extends region best of lab into paper that a shadow band
// made darker than t but that is still clearly brighter than what
// surrounds the document (the median of the image's border): hysteresis
// from the bright paper down to halfway between the surroundings and t.
func growShadowed(s *image.Gray, lab []int32, best int32, t uint8) {
	w, h := s.Rect.Dx(), s.Rect.Dy()
	var border []int
	for x := 0; x < w; x++ {
		border = append(border, int(s.Pix[x]), int(s.Pix[(h-1)*s.Stride+x]))
	}
	for y := 0; y < h; y++ {
		border = append(border, int(s.Pix[y*s.Stride]), int(s.Pix[y*s.Stride+w-1]))
	}
	sort.Ints(border)
	b := border[len(border)/2]
	if b >= int(t) {
		return
	}
	low := uint8((b + int(t)) / 2)
	var stack []int
	for i, l := range lab {
		if l == best {
			stack = append(stack, i)
		}
	}
	for len(stack) > 0 {
		j := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		x := j % w
		for _, k := range [4]int{j - 1, j + 1, j - w, j + w} {
			if (k == j-1 && x == 0) || (k == j+1 && x == w-1) || k < 0 || k >= w*h {
				continue
			}
			if lab[k] != best && s.Pix[(k/w)*s.Stride+k%w] > low {
				lab[k] = best
				stack = append(stack, k)
			}
		}
	}
}

// flatten divides g by an estimate of its background (a grey dilation of a
// small copy, smoothed and scaled back), then stretches the result.
func flatten(g *image.Gray, cfg PrepConfig) *image.Gray {
	f := max(1, min(g.Rect.Dx(), g.Rect.Dy())/150)
	s := downscale(g, f)
	bg := boxBlur(maxFilter(s, 3), 3)
	bgl := resize(bg, g.Rect.Dx(), g.Rect.Dy())
	out := image.NewGray(g.Rect)
	var hist [256]int
	for i, v := range g.Pix {
		b := max(int(bgl.Pix[i]), 24)
		q := min(255, int(v)*255/b)
		out.Pix[i] = uint8(q)
		hist[q]++
	}
	// Stretch so the darkest 1% of pixels becomes black.
	lo, acc := 0, 0
	for i, c := range hist {
		acc += c
		if acc > len(out.Pix)/100 {
			lo = i
			break
		}
	}
	if lo >= 200 {
		lo = 0
	}
	// Darken mid-tones (gamma > 1) so light grey labels survive Tesseract's
	// global threshold beside black values.
	var lut [256]uint8
	gm := cfg.Gamma
	if gm == 0 {
		gm = 2
	}
	for v := 0; v < 256; v++ {
		x := float64(max(0, v-lo)) / float64(255-lo)
		lut[v] = uint8(255*math.Pow(x, gm) + 0.5)
	}
	for i, v := range out.Pix {
		out.Pix[i] = lut[v]
	}
	return out
}

// lighten re-maps g, whose mid-tones were raised to the power from (the
// flattening gamma, 2 by default), to the power to instead.
func lighten(g *image.Gray, from, to float64) {
	if from == 0 {
		from = 2
	}
	if to == 0 {
		to = 0.5
	}
	var lut [256]uint8
	for v := 0; v < 256; v++ {
		lut[v] = uint8(255*math.Pow(float64(v)/255, to/from) + 0.5)
	}
	for i, v := range g.Pix {
		g.Pix[i] = lut[v]
	}
}

type marks struct {
	pts         [][2]float64 // sampled dark pixel coordinates (analysis scale)
	glyphHeight float64      // median height of character-like components (analysis scale)
	runTogether bool         // most text is whole words, its letters touching
	wordsOnly   bool         // too few glyphs for a skew: pts holds word bottoms only for the count
}

// minGlyphMarks: below this many separate glyphs, textMarks also samples
// the bottoms of run-together words.
const minGlyphMarks = 200

// minSkewMarks: fewer text marks than this are no document, and no skew
// is measured from them.
const minSkewMarks = 50

// textMarks finds ink at analysis scale (long side ≤ 1400): the dark pixels
// and the median height of character-sized connected components, on the
// page smoothed by a pixel when smooth is set. It returns the factor from
// analysis to g's scale.
func textMarks(g *image.Gray, smooth bool) (marks, float64) {
	f := max(1, (max(g.Rect.Dx(), g.Rect.Dy())+1399)/1400)
	s := downscale(g, f)
	w, h := s.Rect.Dx(), s.Rect.Dy()
	local := boxBlur(s, 12)
	if smooth {
		s = boxBlur(s, 1)
	}
	ink := make([]bool, w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := y*s.Stride + x
			ink[y*w+x] = int(s.Pix[i]) < int(local.Pix[i])-25 && s.Pix[i] < 170
		}
	}
	var m marks
	heights := make([]int, 0, 512)
	lab := make([]bool, w*h)
	stack := make([]int, 0, 256)
	comp := make([]int, 0, 256)
	var bottom []int
	var words [][2]float64
	var wordHeights []int // run-together words' heights, once per letter they may hold
	for i := range ink {
		if !ink[i] || lab[i] {
			continue
		}
		lab[i] = true
		stack = append(stack[:0], i)
		comp = comp[:0]
		x0, y0, x1, y1, n := w, h, 0, 0, 0
		for len(stack) > 0 {
			j := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			comp = append(comp, j)
			x, y := j%w, j/w
			x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
			n++
			for _, d := range [8][2]int{{-1, 0}, {1, 0}, {0, -1}, {0, 1}, {-1, -1}, {1, 1}, {-1, 1}, {1, -1}} {
				xx, yy := x+d[0], y+d[1]
				if xx < 0 || yy < 0 || xx >= w || yy >= h {
					continue
				}
				k := yy*w + xx
				if ink[k] && !lab[k] {
					lab[k] = true
					stack = append(stack, k)
				}
			}
		}
		cw, ch := x1-x0+1, y1-y0+1
		// A word held askew has a box taller than its letters: its
		// thickness is that of its columns of ink.
		thick := ch
		if cw > 3*ch/2 && ch > h/12 && ch <= h/4 {
			thick = columnThickness(comp, w, x0, cw)
		}
		switch {
		case ch >= 4 && ch <= h/8 && cw <= 3*ch && n >= 6:
			heights = append(heights, ch)
			if len(m.pts) < 60000 {
				// centre-bottom of each glyph: its baseline point
				m.pts = append(m.pts, [2]float64{float64(x0+x1) / 2, float64(y1)})
			}
		case thick >= 4 && thick <= h/12 && cw > 3*thick && cw < w*3/4 && n >= 3*thick:
			// Letters run together (a narrow font, blur): a word. Its
			// lowest ink, column by column, follows the baseline.
			bottom = append(bottom[:0], make([]int, cw)...)
			for k := range bottom {
				bottom[k] = -1
			}
			for _, j := range comp {
				bottom[j%w-x0] = max(bottom[j%w-x0], j/w)
			}
			for k := 0; k < cw && len(words) < 60000; k += max(2, thick/2) {
				if bottom[k] >= 0 {
					words = append(words, [2]float64{float64(x0 + k), float64(bottom[k])})
				}
			}
			for k := 0; k < cw/thick && len(wordHeights) < 60000; k++ {
				wordHeights = append(wordHeights, thick)
			}
		}
	}
	// Words only when separate glyphs are few and show no clear baseline
	// direction (a narrow font, blur): where glyphs suffice, word bottoms
	// (descenders, rules) only blur the profile (measured:
	// docs/measurements.md).
	if len(m.pts) < minGlyphMarks && len(words) > len(m.pts) {
		m.runTogether = true
		// The letters run together may be the page's text and the
		// separate glyphs a headline's: a blurred photo of small print
		// under a large amount was read shrunk to 0.79×, its print
		// illegible. Counted with them, the size is the print's when that
		// is clearly smaller (by a quarter); a smaller difference is
		// the measure's noise, and moving the scale by it only trades
		// one blurred reading for another (measured: docs/measurements.md).
		if g1, g2 := median(heights), median(append(heights[:len(heights):len(heights)], wordHeights...)); 4*g2 < 3*g1 {
			heights = append(heights, wordHeights...)
		}
		// Too few glyphs to measure a skew from at all (Preprocess needs
		// minSkewMarks) also take the words, however clear the glyphs'
		// direction looks: a page of bold, blurred text held 5° askew
		// left 40 glyphs and was read unstraightened.
		switch {
		case skewProminence(m.pts) < minSkewProminence:
			m.pts = append(m.pts, words...)
		case len(m.pts) < minSkewMarks:
			m.pts = append(m.pts, words...)
			m.wordsOnly = true
		}
	}
	m.glyphHeight = float64(median(heights))
	return m, float64(f)
}

// columnThickness is the median height of the ink in each column of a
// component (its pixels comp, indexes into a w-wide image, its columns
// from x0, cw of them): a word's letter height, however it is slanted.
func columnThickness(comp []int, w, x0, cw int) int {
	lo, hi := make([]int, cw), make([]int, cw)
	for k := range lo {
		lo[k], hi[k] = -1, -1
	}
	for _, j := range comp {
		k, y := j%w-x0, j/w
		if lo[k] < 0 || y < lo[k] {
			lo[k] = y
		}
		hi[k] = max(hi[k], y)
	}
	var t []int
	for k := range lo {
		if lo[k] >= 0 {
			t = append(t, hi[k]-lo[k]+1)
		}
	}
	return median(t)
}

// estimateSkew returns the rotation (degrees, counter-clockwise) that makes
// glyph baselines horizontal: the angle maximising the sharpness of their
// projection profile, searched over ±16°, and beyond it up to ±45° (a
// photo held further askew) where the profile is wideSkewGain times
// sharper than anywhere within.
func estimateSkew(pts [][2]float64) float64 {
	score := newSkewProfile(pts).score
	best, bestS := 0.0, -1.0
	for d := -16.0; d <= 16; d += 1 {
		if s := score(d); s > bestS {
			best, bestS = d, s
		}
	}
	near := bestS
	for d := 17.0; d <= 45; d += 1 {
		for _, a := range [2]float64{d, -d} {
			if s := score(a); s > wideSkewGain*near && s > bestS {
				best, bestS = a, s
			}
		}
	}
	c := best
	for d := c - 0.9; d <= c+0.9; d += 0.15 {
		if s := score(d); s > bestS {
			best, bestS = d, s
		}
	}
	return best
}

// skewProfile scores baseline directions of a set of points.
type skewProfile struct {
	pts  [][2]float64
	hist []int32 // 2-pixel bins of rotated heights, reused
	off  int     // bin of height 0
}

func newSkewProfile(pts [][2]float64) *skewProfile {
	r := 0.0 // no rotation takes a point further from the origin than |x|+|y|
	for _, p := range pts {
		r = max(r, math.Abs(p[0])+math.Abs(p[1]))
	}
	n := int(r/2) + 2
	return &skewProfile{pts: pts, hist: make([]int32, 2*n+1), off: n}
}

// score is the sharpness of the points' row profile after rotating them
// by deg counter-clockwise: the sum of squared 2-pixel bin counts.
func (sp *skewProfile) score(deg float64) float64 {
	th := deg * math.Pi / 180
	c, s := math.Cos(th), math.Sin(th)
	clear(sp.hist)
	for _, p := range sp.pts {
		y := -s*p[0] + c*p[1]
		sp.hist[int(math.Floor(y/2))+sp.off]++
	}
	var sum float64
	for _, v := range sp.hist {
		sum += float64(v) * float64(v)
	}
	return sum
}

// wideSkewGain: how much sharper than the best within ±16° the baseline
// profile must be at a wider angle to be taken.
const wideSkewGain = 1.3

// minSkewProminence: a best angle scoring less than this many times the
// mean over ±16° is no clear baseline direction.
const minSkewProminence = 1.4

// skewProminence is the best score over whole degrees in ±16° divided by
// their mean.
func skewProminence(pts [][2]float64) float64 {
	best, sum := 0.0, 0.0
	sp := newSkewProfile(pts)
	for d := -16.0; d <= 16; d++ {
		v := sp.score(d)
		sum += v
		best = max(best, v)
	}
	if sum == 0 {
		return 0
	}
	return best / (sum / 33)
}

// sharpness is the mean squared horizontal+vertical gradient over pixels
// that sit on an edge, a blur measure that does not depend on ink coverage.
func sharpness(g *image.Gray) float64 {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	var sum float64
	n := 0
	for y := 1; y < h-1; y += 2 {
		for x := 1; x < w-1; x += 2 {
			i := y*g.Stride + x
			gx := int(g.Pix[i+1]) - int(g.Pix[i-1])
			gy := int(g.Pix[i+g.Stride]) - int(g.Pix[i-g.Stride])
			e := gx*gx + gy*gy
			if e > 400 {
				sum += float64(e)
				n++
			}
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// clearBorder whitens dark regions connected to the image edge: the
// background or screen bezel left around the document, which Tesseract's
// layout analysis would otherwise take for a picture and drop text beside.
func clearBorder(g *image.Gray) {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	const dark = 110
	seen := make([]bool, w*h)
	stack := make([]int, 0, 4096)
	push := func(x, y int) {
		i := y*w + x
		if !seen[i] && g.Pix[y*g.Stride+x] < dark {
			seen[i] = true
			stack = append(stack, i)
		}
	}
	for x := 0; x < w; x++ {
		push(x, 0)
		push(x, h-1)
	}
	for y := 0; y < h; y++ {
		push(0, y)
		push(w-1, y)
	}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		x, y := i%w, i/w
		g.Pix[y*g.Stride+x] = 255
		if x > 0 {
			push(x-1, y)
		}
		if x < w-1 {
			push(x+1, y)
		}
		if y > 0 {
			push(x, y-1)
		}
		if y < h-1 {
			push(x, y+1)
		}
	}
}

// invertPanels finds solid dark panels — a band at least 60 % of the page
// wide and 4 % of it high, over 70 % dark within its bounds (a header, a
// card; not a button) — that hold light marks, and inverts each panel's
// bounding box in place. It returns how many it inverted. A dark
// background around a photographed ticket is no panel: the paper inside
// leaves it far from solid. A second look finds mid-tone panels (a green
// or red brand header) the same way: bands of the page's commonest
// mid-tone whose marks are much lighter than it, white text on the brand
// colour, not black text on a grey row.
func invertPanels(g *image.Gray) int {
	f := max(1, max(g.Rect.Dx(), g.Rect.Dy())/400)
	s := downscale(g, f)
	if s.Rect.Dx() < 20 || s.Rect.Dy() < 20 {
		return 0
	}
	n := invertBands(g, s, f, 0, 90, 170)
	if n > 0 {
		s = downscale(g, f) // the inverted panels as they now are
	}
	// The commonest mid-tone, if it covers 5 % of the page: a panel is that
	// colour, apart from the paper, a darker table beside it (a photo's
	// background wedges) and its own text.
	hist := grayHist(s, s.Rect)
	c := 90
	for v := 90; v < 185; v++ {
		if hist[v] > hist[c] {
			c = v
		}
	}
	near := 0
	for v := c - 25; v <= c+25; v++ {
		near += hist[v]
	}
	if near*20 >= s.Rect.Dx()*s.Rect.Dy() {
		n += invertBands(g, s, f, uint8(c-25), uint8(c+26), c+70)
	}
	return n
}

// invertBands inverts, in g, each band of s (g reduced f times) whose
// pixels are in [lo, hi) and whose marks brighter than marks cover at
// least 0.5 % of its bounds; it returns how many.
func invertBands(g, s *image.Gray, f int, lo, hi uint8, marks int) int {
	w, h := s.Rect.Dx(), s.Rect.Dy()
	in := func(v uint8) bool { return v >= lo && v < hi }
	lab := make([]int32, w*h)
	stack := make([]int, 0, 1024)
	n := 0
	var next int32
	for i := range lab {
		if lab[i] != 0 || !in(s.Pix[(i/w)*s.Stride+i%w]) {
			continue
		}
		next++
		lab[i] = next
		stack = append(stack[:0], i)
		x0, y0, x1, y1, area := w, h, 0, 0, 0
		for len(stack) > 0 {
			j := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			x, y := j%w, j/w
			x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
			area++
			for _, k := range [4]int{j - 1, j + 1, j - w, j + w} {
				if (k == j-1 && x == 0) || (k == j+1 && x == w-1) || k < 0 || k >= w*h {
					continue
				}
				if lab[k] == 0 && in(s.Pix[(k/w)*s.Stride+k%w]) {
					lab[k] = next
					stack = append(stack, k)
				}
			}
		}
		bw, bh := x1-x0+1, y1-y0+1
		if bw*10 < w*6 || bh*25 < h || float64(area) < 0.7*float64(bw*bh) || bw*bh > w*h*9/10 {
			continue
		}
		hist := grayHist(s, image.Rect(x0, y0, x1+1, y1+1))
		light := 0
		for v := marks + 1; v < 256; v++ {
			light += hist[v]
		}
		if light*200 < bw*bh { // under 0.5 %: a plain bar, no text
			continue
		}
		invert(g, image.Rect(x0*f, y0*f, min((x1+1)*f, g.Rect.Dx()), min((y1+1)*f, g.Rect.Dy())))
		n++
	}
	return n
}

// darkPage reports whether most of g is dark with lighter marks on it: a
// screen in a dark theme, light text on a dark page. Paper, even in a dim
// photo, is the lighter part of its picture once cropped; and paper
// photographed in poor light, though dark, carries darker ink, not
// lighter text.
func darkPage(g *image.Gray) bool {
	hist := grayHist(g, g.Rect)
	med := histMedian(&hist)
	if med >= 90 {
		return false
	}
	// Marks are what stands well apart from the page: lighter text on a
	// dark theme, darker ink on dim paper.
	lighter, darker := 0, 0
	for v, c := range hist {
		switch {
		case v > med+50:
			lighter += c
		case v < med/2:
			darker += c
		}
	}
	return lighter > darker
}

// medianLevel is the median of g's levels.
func medianLevel(g *image.Gray) float64 {
	hist := grayHist(g, g.Rect)
	return float64(histMedian(&hist))
}

// histMedian is the median level of a histogram.
func histMedian(hist *[256]int) int {
	total := 0
	for _, c := range hist {
		total += c
	}
	n := 0
	for v, c := range hist {
		if n += c; n > total/2 {
			return v
		}
	}
	return 0
}

// grayHist counts the levels of g within r.
func grayHist(g *image.Gray, r image.Rectangle) [256]int {
	var hist [256]int
	r = r.Intersect(g.Rect)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		i := g.PixOffset(r.Min.X, y)
		for _, v := range g.Pix[i : i+r.Dx()] {
			hist[v]++
		}
	}
	return hist
}

// invert turns r of g (with g.Rect at the origin) to its negative.
func invert(g *image.Gray, r image.Rectangle) {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := g.Pix[y*g.Stride+r.Min.X : y*g.Stride+r.Max.X]
		for x := range row {
			row[x] = 255 - row[x]
		}
	}
}

// unsharp returns g + k·(g − blur(g)): edges steepened by k.
func unsharp(g *image.Gray, r int, k float64) *image.Gray {
	b := boxBlur(g, r)
	out := image.NewGray(g.Rect)
	for y := 0; y < g.Rect.Dy(); y++ {
		for x := 0; x < g.Rect.Dx(); x++ {
			v := float64(g.Pix[y*g.Stride+x])
			v += k * (v - float64(b.Pix[y*b.Stride+x]))
			out.Pix[y*out.Stride+x] = uint8(min(max(v+0.5, 0), 255))
		}
	}
	return out
}
