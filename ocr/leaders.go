package ocr

import (
	"image"
	"sort"
)

// Dotted leaders ("CIP........: 73488329") and dotted rules: on a photo
// of a ticket, Tesseract's sparse-text mode read such a line as nothing at
// all, label and value, while the same line without its dots read whole
// (docs/measurements.md). eraseLeaders paints them out of the page.

// leaderMinDots: fewer dots in a row are punctuation ("...", "S/.").
const leaderMinDots = 5

// eraseLeaders turns to paper, in g, each run of at least leaderMinDots
// dots — small, solid, squarish marks no taller than half a glyph, on one baseline,
// evenly spaced under 1.6 glyphs apart (a monospaced face pitches its
// dots wider than its letters are tall) — and returns how many runs it
// erased. glyph is the page's glyph height in pixels.
func eraseLeaders(g *image.Gray, glyph float64) int {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	maxDot := int(0.6*glyph + 0.5)
	if maxDot < 2 || w == 0 || h == 0 || g.Rect.Min != (image.Point{}) {
		return 0
	}
	type dot struct {
		box    image.Rectangle
		cx, cy float64
	}
	var dots []dot
	var marks []image.Rectangle // the other components: letters, digits
	seen := make([]bool, w*h)
	stack := make([]int, 0, 256)
	for i := range seen {
		if seen[i] || g.Pix[(i/w)*g.Stride+i%w] >= 128 {
			continue
		}
		// Flood the component, keeping its box; a component grown past a
		// dot's size is still flooded (marked seen) but not kept.
		seen[i] = true
		stack = append(stack[:0], i)
		x0, y0, x1, y1, n := w, h, -1, -1, 0
		for len(stack) > 0 {
			j := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			n++
			x, y := j%w, j/w
			x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
			for _, d := range [8][2]int{{-1, 0}, {1, 0}, {0, -1}, {0, 1}, {-1, -1}, {1, 1}, {-1, 1}, {1, -1}} {
				xx, yy := x+d[0], y+d[1]
				if xx < 0 || yy < 0 || xx >= w || yy >= h {
					continue
				}
				k := yy*w + xx
				if !seen[k] && g.Pix[yy*g.Stride+xx] < 128 {
					seen[k] = true
					stack = append(stack, k)
				}
			}
		}
		bw, bh := x1-x0+1, y1-y0+1
		// A dot is solid: a small letter (o, e, n, c) leaves much of its
		// box blank.
		if bw < 2 || bh < 2 || bw > maxDot || bh > maxDot || 2*max(bw, bh) > 5*min(bw, bh) || 10*n < 6*bw*bh {
			if bh > maxDot && bh < 4*maxDot {
				marks = append(marks, image.Rect(x0, y0, x1+1, y1+1))
			}
			continue
		}
		dots = append(dots, dot{image.Rect(x0, y0, x1+1, y1+1), float64(x0+x1) / 2, float64(y0+y1) / 2})
	}
	sort.Slice(dots, func(a, b int) bool { return dots[a].cx < dots[b].cx })
	// A dot with another right above it is a colon's (or an i's dot and
	// its stem's foot): it ends a leader and stays.
	colon := make([]bool, len(dots))
	for i, d := range dots {
		for j := i + 1; j < len(dots) && dots[j].cx-d.cx <= 0.15*glyph; j++ {
			if dy := dots[j].cy - d.cy; dy > 0.2*glyph && dy < 0.8*glyph {
				colon[j] = true
			} else if dy < -0.2*glyph && dy > -0.8*glyph {
				colon[i] = true
			}
		}
		for j := i - 1; j >= 0 && d.cx-dots[j].cx <= 0.15*glyph; j-- {
			if dy := dots[j].cy - d.cy; dy > 0.2*glyph && dy < 0.8*glyph {
				colon[j] = true
			} else if dy < -0.2*glyph && dy > -0.8*glyph {
				colon[i] = true
			}
		}
	}
	// Chain each dot to the nearest dot after it on its baseline; a chain
	// of leaderMinDots or more whose steps are even is a leader.
	next := make([]int, len(dots))
	prev := make([]int, len(dots))
	for i := range next {
		next[i], prev[i] = -1, -1
	}
	for i, d := range dots {
		for j := i + 1; j < len(dots); j++ {
			e := dots[j]
			if e.cx-d.cx > 1.6*glyph {
				break
			}
			if colon[i] || colon[j] || e.cx-d.cx < 0.15*glyph || e.cy-d.cy > 0.15*glyph || d.cy-e.cy > 0.15*glyph || prev[j] >= 0 {
				continue
			}
			next[i], prev[j] = j, i
			break
		}
	}
	runs := 0
	for i := range dots {
		if prev[i] >= 0 {
			continue // not the start of a chain
		}
		var chain []int
		for j := i; j >= 0; j = next[j] {
			chain = append(chain, j)
		}
		if len(chain) < leaderMinDots || !evenSteps(chain, func(k int) float64 { return dots[k].cx }) ||
			!besideText(dots[chain[0]].box, dots[chain[len(chain)-1]].box, marks, glyph) {
			continue
		}
		for _, k := range chain {
			b := dots[k].box.Inset(-1).Intersect(image.Rect(0, 0, w, h))
			for y := b.Min.Y; y < b.Max.Y; y++ {
				for x := b.Min.X; x < b.Max.X; x++ {
					g.Pix[y*g.Stride+x] = 255
				}
			}
		}
		runs++
	}
	return runs
}

// besideText reports whether a chain of dots from first to last sits on
// the baseline of text at least one of its ends: a mark within 1.6 glyphs
// of that end, more than twice a dot's height, whose foot is level with
// the dots'. A row of small bold letters, blurred solid, has no such
// neighbour: its neighbours are its own size.
func besideText(first, last image.Rectangle, marks []image.Rectangle, glyph float64) bool {
	dotH := max(first.Dy(), last.Dy())
	for _, m := range marks {
		if m.Dy() <= 2*dotH || absInt(m.Max.Y-first.Max.Y) > dotH || absInt(m.Max.Y-last.Max.Y) > dotH {
			continue
		}
		if d := first.Min.X - m.Max.X; d >= 0 && float64(d) <= 1.6*glyph {
			return true
		}
		if d := m.Min.X - last.Max.X; d >= 0 && float64(d) <= 1.6*glyph {
			return true
		}
	}
	return false
}

func absInt(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// evenSteps reports whether the steps between the chain's positions are
// alike: none more than half again, or less than half, their median.
func evenSteps(chain []int, pos func(int) float64) bool {
	steps := make([]float64, len(chain)-1)
	for i := 1; i < len(chain); i++ {
		steps[i-1] = pos(chain[i]) - pos(chain[i-1])
	}
	s := append([]float64(nil), steps...)
	sort.Float64s(s)
	m := s[len(s)/2]
	for _, v := range steps {
		if v > 1.5*m || v < 0.5*m {
			return false
		}
	}
	return true
}
