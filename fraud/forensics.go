package fraud

import (
	"fmt"
	"image"
	"math"
	"sort"
)

// Region is a printed word on the upload: part of a field the reader
// extracted (Field set) or another word of the same voucher (a peer, Field
// empty).
// Box is in the upload's pixels; Crop is the value deskewed at reading
// scale, with a margin of background, sampled from the upload.
type Region struct {
	Field string
	Text  string
	Box   image.Rectangle
	Crop  image.Image `json:"-"`
}

// Traits are what single-image forensics measures of one region: how its
// glyphs were printed and the paper around them. An edited value is drawn
// by a different hand from its neighbours, so its traits stand out from
// theirs.
type Traits struct {
	Region
	Height   float64 // glyph band height, in the crop's (reading-scale) pixels
	Ink      float64 // darkest-decile luminance as a fraction of the background
	InkBlue  float64 // blue minus red of the darkest decile (ink colour cast)
	BgNoise  float64 // mean absolute high-pass of background pixels
	Contrast float64 // background minus ink luminance
	Sharp    float64 // steepest edges (95th percentile gradient) over contrast
	Stroke   float64 // vertical stroke width: mean horizontal ink run near the median, in the crop's pixels
	Width    float64 // from the first column of ink in the glyph band to the last, in the crop's pixels
	ok       bool
}

// measure computes the traits of r from its crop.
func measure(r Region) Traits {
	t := Traits{Region: r}
	img := r.Crop
	if img == nil {
		return t
	}
	b := img.Bounds()
	if b.Dx() < 6 || b.Dy() < 6 {
		return t
	}
	w, h := b.Dx(), b.Dy()
	lum := make([]float64, w*h)
	rb := make([]float64, w*h)
	rgba, fast := img.(*image.RGBA)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var R, G, B float64
			if fast {
				p := rgba.Pix[rgba.PixOffset(b.Min.X+x, b.Min.Y+y):]
				R, G, B = float64(p[0]), float64(p[1]), float64(p[2])
			} else {
				cr, cg, cb, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
				R, G, B = float64(cr>>8), float64(cg>>8), float64(cb>>8)
			}
			lum[y*w+x] = 0.299*R + 0.587*G + 0.114*B
			rb[y*w+x] = B - R
		}
	}
	work := append([]float64(nil), lum...)
	bg := nth(work, len(work)*8/10)
	dark := nth(work, len(work)/20)
	t.Contrast = bg - dark
	if t.Contrast < 20 || bg < 1 {
		return t
	}
	thr := (bg + dark) / 2
	// Light print on a dark panel (an app header's amount in white) is no
	// dark ink on paper: what is measured here would be of the panel.
	// Its margin, the crop's outer ring, is then mostly dark.
	dim, ring := 0, 0
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if y > 1 && y < h-2 && x > 1 && x < w-2 {
				continue
			}
			ring++
			if lum[y*w+x] < thr {
				dim++
			}
		}
	}
	if dim*2 > ring {
		return t
	}
	// Ink: the darkest decile of ink pixels.
	ink := work[:0]
	for _, v := range lum {
		if v < thr {
			ink = append(ink, v)
		}
	}
	if len(ink) < 8 {
		return t
	}
	n := max(1, len(ink)/10)
	cutInk := nth(ink, n-1)
	var s, sb float64
	taken := 0
	for i, v := range lum {
		if v < cutInk && taken < n {
			s += v
			sb += rb[i]
			taken++
		}
	}
	for i, v := range lum { // ties at the cut fill the decile
		if v == cutInk && taken < n {
			s += v
			sb += rb[i]
			taken++
		}
	}
	t.Ink = s / float64(n) / bg
	t.InkBlue = sb / float64(n)
	// Height: rows holding ink, with the band where rows hold at least a
	// third of the busiest row's ink.
	rows := make([]float64, h)
	peak := 0.0
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if v := lum[y*w+x]; v < thr {
				rows[y] += (thr - v) / (thr - dark + 1)
			}
		}
		peak = max(peak, rows[y])
	}
	top, bot := -1.0, -1.0
	cut := peak / 3
	for y := 0; y < h; y++ {
		if rows[y] >= cut {
			if top < 0 {
				top = float64(y)
				if y > 0 {
					top -= (rows[y] - cut) / (rows[y] - rows[y-1] + 1e-9)
				}
			}
			bot = float64(y)
			if y+1 < h {
				bot += (rows[y] - cut) / (rows[y] - rows[y+1] + 1e-9)
			}
		}
	}
	t.Height = bot - top
	// Stroke: horizontal runs of ink across the glyph band; those near the
	// median run cross vertical strokes (longer ones run along bars).
	var runs []float64
	first, last := w, -1
	for y := max(0, int(top)); y <= min(h-1, int(bot)); y++ {
		run := 0
		for x := 0; x <= w; x++ {
			if x < w && lum[y*w+x] < thr {
				run++
				first, last = min(first, x), max(last, x)
				continue
			}
			if run > 0 {
				runs = append(runs, float64(run))
			}
			run = 0
		}
	}
	if len(runs) > 0 {
		med := nth(runs, len(runs)/2)
		var sum float64
		var k int
		for _, r := range runs {
			if r >= med/2 && r <= med*1.5 {
				sum += r
				k++
			}
		}
		t.Stroke = sum / float64(k)
		t.Width = float64(last - first + 1)
	}
	// Background noise: pixels well clear of ink, against their 3×3 mean,
	// the largest fifth left out (a few large residuals in the margin,
	// print, an edge or dust nearby, are no grain). A word on paper lit to
	// white has no measure (0, and is no peer): clipped, the paper shows
	// no grain, and beside it a word in the photo's shade looked 6–20× as
	// noisy (genuine photos of drawn designs were suspicious for it).
	bgCut := thr + (bg-thr)*0.6
	hp := work[:0]
	for y := 1; y < h-1; y++ {
		for x := 1; x < w-1; x++ {
			i := y*w + x
			if lum[i] < bgCut {
				continue
			}
			m, clean := 0.0, true
			for dy := -1; dy <= 1 && clean; dy++ {
				for dx := -1; dx <= 1; dx++ {
					v := lum[i+dy*w+dx]
					if v < bgCut {
						clean = false
						break
					}
					m += v
				}
			}
			if !clean {
				continue
			}
			hp = append(hp, math.Abs(lum[i]-m/9))
		}
	}
	if len(hp) > 20 && !paperClipped(lum, bgCut) {
		keep := len(hp) * 4 / 5
		cut := nth(hp, keep-1)
		var ns float64
		n := 0
		for _, v := range hp {
			if v < cut && n < keep {
				ns += v
				n++
			}
		}
		for n < keep { // ties at the cut
			ns += cut
			n++
		}
		t.BgNoise = ns / float64(keep)
	}
	// Sharpness: how steep the ink edges are for their contrast.
	grads := work[:0]
	for y := 1; y < h-1; y++ {
		for x := 1; x < w-1; x++ {
			i := y*w + x
			gx := lum[i+1] - lum[i-1]
			gy := lum[i+w] - lum[i-w]
			if g := math.Abs(gx) + math.Abs(gy); g > 4 {
				grads = append(grads, g)
			}
		}
	}
	if len(grads) > 20 {
		t.Sharp = nth(grads, len(grads)*95/100) / t.Contrast
	}
	t.ok = true
	return t
}

// clipped: paper half of whose pixels reach it is lit to white, its grain
// clipped away by the sensor or the encoder.
const clipped = 250

// paperClipped reports whether the paper of a crop (the pixels at or
// above bgCut) is clipped white: half of it or more reaches clipped.
func paperClipped(lum []float64, bgCut float64) bool {
	paper, white := 0, 0
	for _, v := range lum {
		if v >= bgCut {
			paper++
			if v >= clipped {
				white++
			}
		}
	}
	return paper > 0 && 2*white >= paper
}

// nth returns the k-th smallest of v (0-based), reordering v
// (quickselect: linear time, no allocation).
func nth(v []float64, k int) float64 {
	lo, hi := 0, len(v)-1
	for lo < hi {
		p := v[(lo+hi)/2]
		i, j := lo, hi
		for i <= j {
			for v[i] < p {
				i++
			}
			for v[j] > p {
				j--
			}
			if i <= j {
				v[i], v[j] = v[j], v[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return v[k]
		}
	}
	return v[k]
}

// Measure returns the traits of each region (for study and evidence).
func Measure(regions []Region) []Traits {
	out := make([]Traits, 0, len(regions))
	for _, r := range regions {
		out = append(out, measure(r))
	}
	return out
}

// FlagSuspiciousPixels marks pixel evidence below the edit threshold: worth
// an agent's look, not a verdict.
const FlagSuspiciousPixels = "suspicious_pixels"

// ForensicsConfig holds the single-image thresholds. A field's words are
// compared with the voucher's other words: z is the robust z-score (median
// and MAD of the peers, with a floor on the spread) and ratios are against
// the peers' median. DefaultForensics documents the measured choice.
type ForensicsConfig struct {
	MinPeers int // fewer comparable words: no verdict

	// Sharper edges than the rest: digits drawn onto a photo's pixels.
	SharpZ, SharpRatio float64
	// Another ink colour (blue minus red, 0–255 levels) than same-size
	// digits: an editor's near-black. Beyond BlueMax, or in ink lighter than
	// DarkInk of the paper, it is a designed colour (a brand-coloured value),
	// no evidence.
	BlueDiff, BlueMax, DarkInk float64
	// Background noise unlike the rest: a patch from elsewhere
	// (suspicious_pixels only, at these thresholds). NoiseMin: and noisier
	// by at least this many levels (mean absolute high-pass): a digital
	// page's "noise" is resampling and JPEG ringing, under a level, where
	// a photo's grain is several.
	NoiseZ, NoiseRatio, NoiseMin float64
	// Darker ink than same-size digits: only ever suspicious_pixels, since
	// bold values print darker (originals reach z −7.2).
	InkZ float64
	// Another size than the values printed in the same face, on a flat
	// capture (a screenshot): a value redrawn a little larger or smaller
	// (suspicious_pixels only, at these thresholds themselves).
	// Peers are digit words within SizeBand of its height and StrokeBand of
	// its stroke width (logarithmic bands: a bold CIP printed larger than
	// regular values by design is not compared with them), and the field,
	// a number, must have the shape of the peers that are numbers (digit
	// pitch over height within FaceBand: a code set in a monospaced face
	// among proportional figures is a design). The field stands out at a
	// robust z of SizeZ and a height ratio from SizeRatio to SizeMax (an
	// editor matches the size roughly; a design sets a code apart more).
	SizeBand, StrokeBand, FaceBand, SizeZ, SizeRatio, SizeMax float64
	// Weak is the fraction of each threshold at which a finding is
	// reported as suspicious_pixels rather than edited.
	Weak float64
}

// DefaultForensics: on the dev corpus's 160 originals the largest values
// reached were sharp z 5.6 at ratio 1.25, blue 4.9, noise z 5.2 at ratio
// 1.51 (among digits printed as dark), ink z −7.2, and on its 86 flat
// captures size z 4.8 at 2.9 %; each threshold sits above those
// (docs/measurements.md).
var DefaultForensics = ForensicsConfig{
	MinPeers: 3,
	SharpZ:   4.5, SharpRatio: 1.30,
	BlueDiff: 6, BlueMax: 40, DarkInk: 0.35,
	NoiseZ: 5, NoiseRatio: 1.75, NoiseMin: 1,
	InkZ:     9,
	SizeBand: 0.12, StrokeBand: 0.14, FaceBand: 0.04, SizeZ: 7, SizeRatio: 1.04, SizeMax: 1.10,
	Weak: 0.8,
}

// Inspect measures the regions of one upload and returns a reason for each
// field whose pixels stand out from the voucher's other words. flat says
// the upload is a flat capture (a screenshot: neither turned nor skewed),
// whose values of one style keep one size across the page; a photo's
// perspective changes sizes, so sizes are compared on flat captures only.
func Inspect(regions []Region, flat bool, cfg ForensicsConfig) []Reason {
	if cfg.MinPeers == 0 {
		cfg = DefaultForensics
	}
	ts := Measure(regions)
	var ok []Traits
	for _, t := range ts {
		if t.ok && t.Height > 0 && t.Contrast >= 20 {
			ok = append(ok, t)
		}
	}
	var out []Reason
	for _, f := range []string{"cip", "operation", "amount", "paid_at"} {
		if r, found := inspectField(ok, f, flat, cfg); found {
			out = append(out, r)
		}
	}
	return out
}

// score is one field word against its peers on one trait.
type score struct {
	strong bool
	weak   bool
	detail string
}

func inspectField(ts []Traits, field string, flat bool, cfg ForensicsConfig) (Reason, bool) {
	var own, peers []Traits
	for _, t := range ts {
		if t.Field == field {
			own = append(own, t)
		} else {
			peers = append(peers, t)
		}
	}
	if len(own) == 0 || len(peers) < cfg.MinPeers {
		return Reason{}, false
	}
	var best *score
	consider := func(s score) {
		if (s.strong || s.weak) && (best == nil || (s.strong && !best.strong)) {
			best = &s
		}
	}
	heights := make([]float64, len(peers))
	for i, p := range peers {
		heights[i] = p.Height
	}
	peerHeight := median(heights)
	for _, t := range own {
		var same []Traits // digits of about the same size
		for _, p := range peers {
			if countDigits(p.Text) >= 2 && math.Abs(math.Log(p.Height/t.Height)) < 0.15 {
				same = append(same, p)
			}
		}
		// Higher than the peers by a ratio: sharpness and paper noise.
		// Paper noise beside print is mostly the JPEG's ringing, which grows
		// with the print's contrast and density: it is compared with digit
		// words printed about as dark (dense dark digits ring more than a
		// brand-coloured value or a line of letters).
		var alike []Traits
		for _, p := range peers {
			if countDigits(p.Text) >= 2 && math.Abs(math.Log(p.Contrast/t.Contrast)) < noiseContrastBand {
				alike = append(alike, p)
			}
		}
		// minD: by at least this much besides (x minus the peers' median).
		// verdict: the trait may make an edited finding (else at most a
		// suspicious one, at the thresholds themselves).
		higher := func(x float64, peers []Traits, get func(Traits) float64, floor, zT, rT, minD float64, verdict bool, what string) {
			if z, d, ok := robustZ(x, peers, get, true, floor); ok {
				r := math.Exp(d)
				by := x - x/r
				s := score{strong: z >= zT && r >= rT && by >= minD, weak: z >= zT*cfg.Weak && r >= 1+(rT-1)*cfg.Weak && by >= minD*cfg.Weak,
					detail: fmt.Sprintf(what, r, z)}
				if !verdict {
					s.strong, s.weak = false, s.strong
				}
				consider(s)
			}
		}
		// A value set far larger than the page's words (a headline amount)
		// keeps steeper edges through a photo's blur than small print does:
		// a 64-pt light amount measured 1.35× (z 6.2) on a genuine photo.
		// Its sharpness is no verdict.
		headline := t.Height > headlineHeight*peerHeight
		higher(t.Sharp, peers, func(p Traits) float64 { return p.Sharp }, 0.04, cfg.SharpZ, cfg.SharpRatio, 0, !headline,
			"its edges are %.2f× as sharp as the other words' (z %.1f)")
		// Paper noise is never a verdict: a value near the paper's edge has
		// the background's grain in its margin (a photo of a confirmation
		// whose values sit by the edge: 2.7× as noisy, 1.1 levels above).
		higher(t.BgNoise, alike, func(p Traits) float64 { return p.BgNoise }, 0.08, cfg.NoiseZ, cfg.NoiseRatio, cfg.NoiseMin, false,
			"the paper around it is %.2f× as noisy as around the digits printed as dark (z %.1f)")
		if len(same) >= cfg.MinPeers {
			if _, d, ok := robustZ(t.InkBlue, same, func(p Traits) float64 { return p.InkBlue }, false, 2); ok &&
				math.Abs(d) <= cfg.BlueMax && t.Ink <= cfg.DarkInk {
				consider(score{
					strong: math.Abs(d) >= cfg.BlueDiff,
					weak:   math.Abs(d) >= cfg.BlueDiff*cfg.Weak,
					detail: fmt.Sprintf("its ink has another colour than digits of its size (blue−red %+.1f levels)", d)})
			}
			// Darkness only among digits of its colour: a value printed in a
			// brand colour is lighter by design than a date in near-black.
			// And a code only among other codes and amounts: confirmations
			// set the date in a lighter grey than their values by design
			// (a black operation number beside a #666 date measured z −13).
			var hue []Traits
			for _, p := range same {
				if math.Abs(p.InkBlue-t.InkBlue) <= inkHueBand && (field == "paid_at") == (p.Field == "paid_at") {
					hue = append(hue, p)
				}
			}
			if z, d, ok := robustZ(t.Ink, hue, func(p Traits) float64 { return p.Ink }, false, 0.03); ok {
				consider(score{
					weak:   z <= -cfg.InkZ, // bold values are darker too: never a verdict
					detail: fmt.Sprintf("its ink is darker than digits of its size (%+.2f of the paper, z %.1f)", d, z)})
			}
		}
		if flat && field != "paid_at" {
			consider(sizeScore(t, peers, cfg))
		}
	}
	if best == nil {
		return Reason{}, false
	}
	code := FlagSuspiciousPixels
	if best.strong {
		code = FlagEdited
	}
	return Reason{Code: code, Layer: "pixels", Field: field, Detail: field + ": " + best.detail}, true
}

// headlineHeight: a value taller than this many times the median of the
// other words is set as a headline, whose sharpness is no verdict. The
// genuine headline amount that set it measured 5.8×; a thermal ticket's
// double-height CIP, where an edit was caught by its sharpness, 2.9×.
const headlineHeight = 4

// inkHueBand: ink darkness is compared among digits whose ink colour
// (blue − red) is within this many levels.
const inkHueBand = 20

// noiseContrastBand: paper noise is compared among digit words whose
// contrast is within this log ratio (±30 %).
const noiseContrastBand = 0.26

// sizeScore compares the height of t, a value's word, with the digit
// words printed in its weight and about its size. A payment time is not
// compared: a template may set a time apart from its date in another size.
func sizeScore(t Traits, peers []Traits, cfg ForensicsConfig) score {
	if !number(t.Text) || t.Stroke <= 0 || t.Width <= 0 {
		return score{}
	}
	var style, shapes []Traits
	for _, p := range peers {
		if countDigits(p.Text) >= 3 && p.Stroke > 0 &&
			math.Abs(math.Log(p.Height/t.Height)) < cfg.SizeBand && math.Abs(math.Log(p.Stroke/t.Stroke)) < cfg.StrokeBand {
			style = append(style, p)
			if number(p.Text) && p.Width > 0 {
				shapes = append(shapes, p)
			}
		}
	}
	if len(style) < cfg.MinPeers || len(shapes) == 0 {
		return score{}
	}
	// Digit pitch over height: the ink spans n−1 advances and most of one
	// digit (about 0.8 of an advance in the faces measured).
	aspect := func(p Traits) float64 { return p.Width / (float64(len(p.Text)) - 0.2) / p.Height }
	var as []float64
	for _, p := range shapes {
		as = append(as, aspect(p))
	}
	if math.Abs(math.Log(aspect(t)/median(as))) > cfg.FaceBand {
		return score{} // another face: set apart by design
	}
	z, d, ok := robustZ(t.Height, style, func(p Traits) float64 { return p.Height }, true, 0.006)
	if !ok {
		return score{}
	}
	z, r := math.Abs(z), math.Exp(math.Abs(d))
	what := "taller"
	if d < 0 {
		what = "shorter"
	}
	if r > cfg.SizeMax {
		return score{}
	}
	// Only ever suspicious_pixels: a template may set its code in another
	// face of nearly the same shape, or a point larger, which no measure
	// of one image tells from a pasted value (docs/measurements.md).
	return score{
		weak:   z >= cfg.SizeZ && r >= cfg.SizeRatio,
		detail: fmt.Sprintf("its digits are %.1f %% %s than the %d other values printed in its face (z %.1f)", (r-1)*100, what, len(style), z),
	}
}

// robustZ compares x with the peers' values: (x − median) / max(1.4826·MAD,
// floor), on logarithms when ratio is set. ok is false when it cannot.
func robustZ(x float64, peers []Traits, get func(Traits) float64, ratio bool, floor float64) (z, d float64, ok bool) {
	vs := make([]float64, 0, len(peers))
	for _, p := range peers {
		v := get(p)
		if ratio {
			if v <= 0 {
				continue
			}
			v = math.Log(v)
		}
		vs = append(vs, v)
	}
	if len(vs) < 3 || (ratio && x <= 0) {
		return 0, 0, false
	}
	if ratio {
		x = math.Log(x)
	}
	m := median(vs)
	dev := make([]float64, len(vs))
	for i, v := range vs {
		dev[i] = math.Abs(v - m)
	}
	spread := max(median(dev)*1.4826, floor)
	return (x - m) / spread, x - m, true
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// number reports whether s is a run of four or more digits (a code, whose
// digit pitch gives its face's shape).
func number(s string) bool {
	return len(s) >= 4 && countDigits(s) == len(s)
}

func countDigits(s string) int {
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	return n
}
