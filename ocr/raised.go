package ocr

import (
	"image"
	"image/draw"
	"regexp"
	"sort"
	"strings"
	"unicode"

	"github.com/otiai10/gosseract/v2"
)

var (
	reWholePart  = regexp.MustCompile(`^(\d{1,3}(?:[,.']\d{3})+|\d{1,7})`)
	reWholeOnly  = regexp.MustCompile(`(?i)^(?:s/\.?|us\$|\$|pen|usd)?\s*(\d{1,3}(?:[,.']\d{3})+|\d{1,7})$`)
	reRaisedPart = regexp.MustCompile(`^[.,]*(\d{2})$`)
	reSign       = regexp.MustCompile(`^(?:s/\.?|us\$|\$|pen|usd)$`)
)

// digitsOf is s without its separators.
func digitsOf(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// raisedLarge: a word taller than this many times the page's median word
// is a candidate (raised cents go with a headline amount).
const raisedLarge = 1.4

// raisedCents reads an amount printed with raised cents. Fintech apps
// print a large amount with its cents raised and smaller, "S/ 2,536⁴⁰";
// Tesseract reads such a word as a whole number at almost no confidence,
// or not at all. Right of one of the page's largest words holding a
// digit, it looks for a run of glyphs whose ink ends above the word's
// middle after a glyph that stands on its baseline (splitRaised), reads
// the two parts each on its own, and returns the words with the amount as
// one word ("2,536.40") read as surely as the less sure part; ok is false
// when no word has such cents.
func raisedCents(c *gosseract.Client, page *image.Gray, words []Word) ([]Word, bool) {
	var hs []int
	for _, w := range words {
		if alnumCount(w.Text) >= 2 {
			hs = append(hs, w.Box.Dy())
		}
	}
	if len(hs) < 3 {
		return words, false
	}
	sort.Ints(hs)
	med := float64(hs[len(hs)/2])
	var cands []int
	for i, w := range words {
		if float64(w.Box.Dy()) >= raisedLarge*med && strings.ContainsAny(w.Text, "0123456789") {
			cands = append(cands, i)
		}
	}
	sort.Slice(cands, func(a, b int) bool { return words[cands[a]].Box.Dy() > words[cands[b]].Box.Dy() })
	for _, i := range cands[:min(len(cands), 3)] {
		w := words[i]
		whole, sup, ok := splitRaised(page, w.Box)
		if !ok {
			continue
		}
		whole.Min.X = numberStart(page, whole)
		wr := padRect(page, whole, whole.Dy()/4)
		mw := readLine(c, crop(page, wr), wr.Min)
		sw := readRaised(c, page, whole, sup)
		if len(mw) == 0 || len(sw) != 1 {
			continue
		}
		cents := reRaisedPart.FindStringSubmatch(repairRaised(sw[0].Text))
		if cents == nil {
			continue
		}
		// The whole part, read with its line: it may come in pieces
		// ("2," "536"); joined, it is the number and nothing else
		// ("1,/80", a 7 misread, is no amount).
		var text strings.Builder
		line := Word{Conf: 1}
		for _, o := range mw {
			text.WriteString(o.Text)
			line.Box, line.Conf = line.Box.Union(o.Box), min(line.Conf, o.Conf)
		}
		if m := reWholeOnly.FindStringSubmatch(repairRaised(text.String())); m != nil {
			line.Text = m[1]
		}
		// And as the page read the word, raised part and all: a number
		// followed by at most a few marks ("1,780”").
		read := w
		read.Text = reWholePart.FindString(repairRaised(w.Text))
		if rest := repairRaised(w.Text)[len(read.Text):]; len(rest) > 3 || strings.ContainsFunc(rest, func(r rune) bool {
			return r == '/' || unicode.IsLetter(r) || unicode.IsDigit(r)
		}) {
			read.Text = ""
		}
		amount := Word{Box: w.Box.Union(whole).Union(sup), Block: w.Block, Line: w.Line}
		switch {
		case line.Text != "" && read.Text != "" && digitsOf(line.Text) != digitsOf(read.Text):
			// One of the two readings is wrong ("5B45" alone for a 545
			// the page read right): the line's, at half its confidence.
			amount.Text, amount.Conf = line.Text, line.Conf/2
		case line.Text != "":
			amount.Text, amount.Conf = line.Text, line.Conf
		case read.Text != "":
			amount.Text, amount.Conf = read.Text, read.Conf
		default:
			continue
		}
		amount.Text, amount.Conf = amount.Text+"."+cents[1], min(amount.Conf, sw[0].Conf)
		span := []Word{{Box: amount.Box}}
		out := make([]Word, 0, len(words))
		for j, o := range words {
			if j == i || overlapsAny(o.Box, span) {
				continue
			}
			// A mark left of the number on its line that is no currency
			// sign is a sign misread ("5/1" for "S/"): kept, it would be
			// read as the number's first digit ("5/1 711.60" is 1711.60).
			if o.Box.Max.X <= whole.Min.X && o.Box.Max.X > whole.Min.X-3*whole.Dy()/2 &&
				2*(min(o.Box.Max.Y, whole.Max.Y)-max(o.Box.Min.Y, whole.Min.Y)) > whole.Dy() &&
				!reSign.MatchString(fold(o.Text)) && alnumCount(o.Text) <= 3 && !strings.ContainsAny(fold(o.Text), "aeiou") {
				continue
			}
			out = append(out, o)
		}
		return append(out, amount), true
	}
	return words, false
}

// numberStart is where the number ending in box whole begins: the page's
// layout may have cut a large amount into words ("S/ 2," and "574⁷⁰"),
// so the ink left of the box, between its cap and base lines, is taken
// in up to a gap as wide as a word space (0.3 of the digits' height; a
// digit's or a separator's side bearings leave less).
func numberStart(page *image.Gray, whole image.Rectangle) int {
	space := max(2, whole.Dy()*3/10)
	start, blank := whole.Min.X, 0
	for x := whole.Min.X - 1; x >= page.Rect.Min.X && blank < space; x-- {
		inked := false
		for y := whole.Min.Y; y < whole.Max.Y && !inked; y++ {
			inked = page.Pix[y*page.Stride+x] < 128
		}
		if inked {
			start, blank = x, 0
		} else {
			blank++
		}
	}
	return start
}

// repairRaised repairs a part of an amount whose raised cents were found:
// besides repairNumeric's confusions, a bold "4" read as "A" ("A5" for
// 45), which is not repaired in general (an agent code "A0012345" would
// become a CIP-like number).
func repairRaised(s string) string {
	return repairNumeric(strings.ReplaceAll(s, "A", "4"))
}

// readRaised reads the raised digits in box sup, right of the word's
// part whole: the box, with a little of the paper round it but no column
// of the whole part, is set on a white page with wide margins (single-line
// mode reads a small crop badly, and beside other ink not at all), and
// enlarged when shorter than Tesseract reads well.
func readRaised(c *gosseract.Client, page *image.Gray, whole, sup image.Rectangle) []Word {
	p := max(2, sup.Dy()/8)
	r := image.Rect(max(whole.Max.X+1, sup.Min.X-p), sup.Min.Y-p, sup.Max.X+p, sup.Max.Y+p).Intersect(page.Rect)
	f := 1
	if sup.Dy() < raisedReadPx {
		f = (raisedReadPx + sup.Dy() - 1) / sup.Dy()
	}
	m := sup.Dy() * f // margin
	g := whitePage(r.Dx()*f+2*m, r.Dy()*f+2*m)
	part := crop(page, r)
	if f > 1 {
		part = resize(part, r.Dx()*f, r.Dy()*f)
	}
	draw.Draw(g, part.Rect.Add(image.Pt(m, m)), part, part.Rect.Min, draw.Src)
	words := readLine(c, g, image.Point{})
	for i := range words {
		b := words[i].Box.Sub(image.Pt(m, m))
		words[i].Box = image.Rect(b.Min.X/f, b.Min.Y/f, b.Max.X/f, b.Max.Y/f).Add(r.Min).Intersect(r)
	}
	return words
}

// raisedReadPx: raised digits shorter than this are enlarged to it
// before reading. Not more: enlarged from 33 px, a crisp "50" read "350"
// at 0.71, and "30" at 3×, where as it came it read "50" at 0.97.
const raisedReadPx = 20

// padRect is r grown by p on every side, within page.
func padRect(page *image.Gray, r image.Rectangle, p int) image.Rectangle {
	return r.Inset(-p).Intersect(page.Rect)
}

// splitRaised looks in and right of box b of page for raised glyphs after
// the word's last glyph on its baseline: it returns the word's part up to
// that glyph and the raised part's box.
func splitRaised(page *image.Gray, b image.Rectangle) (whole, raised image.Rectangle, ok bool) {
	h := b.Dy()
	r := image.Rect(b.Min.X, b.Min.Y-h/4, b.Max.X+h*3/2, b.Max.Y+h/4).Intersect(page.Rect)
	if h < 12 || r.Empty() {
		return
	}
	type seg struct{ x0, x1, top, bot int }
	var segs []seg
	// Glyphs apart: runs of columns holding ink (two pixels or more, so
	// a speck of paper grain does not bridge a gap), parted by a few
	// blank columns (a blurred photo's glyphs nearly touch).
	gap := max(2, h/40)
	inSeg, blank := false, 0
	for x := r.Min.X; x <= r.Max.X; x++ {
		top, bot, n := -1, -1, 0
		if x < r.Max.X {
			for y := r.Min.Y; y < r.Max.Y; y++ {
				if page.Pix[y*page.Stride+x] < 128 {
					if top < 0 {
						top = y
					}
					bot = y
					n++
				}
			}
		}
		switch {
		case n >= 2 && inSeg:
			s := &segs[len(segs)-1]
			s.x1, s.top, s.bot = x, min(s.top, top), max(s.bot, bot)
			blank = 0
		case n >= 2:
			segs = append(segs, seg{x, x, top, bot})
			inSeg, blank = true, 0
		case inSeg:
			if blank++; blank >= gap {
				inSeg = false
			}
		}
	}
	// The last glyph standing on the baseline (at least 0.6 of the word's
	// height), and the cap line of the glyphs that tall.
	j, cap := -1, -1
	for i, s := range segs {
		if s.bot-s.top+1 >= h*6/10 {
			j = i
			if cap < 0 || s.top < cap {
				cap = s.top
			}
		}
	}
	if j < 0 || j == len(segs)-1 {
		return
	}
	base := segs[j].bot
	// The raised run: every glyph after it is a digit that ends in the
	// upper 0.6 (cents set at 0.45 of the size end at half the height,
	// past it once a JPEG blurs them) and starts near the cap line, or a
	// mark under half their height (the point or comma before them, on
	// their baseline) that ends in the upper three quarters. The digits'
	// box leaves the mark out.
	tall := 0
	for _, s := range segs[j+1:] {
		tall = max(tall, s.bot-s.top+1)
	}
	var sup image.Rectangle
	for _, s := range segs[j+1:] {
		if 2*(s.bot-s.top+1) <= tall {
			if 4*(s.bot-cap) >= 3*(base-cap) {
				return
			}
			continue
		}
		if 5*(s.bot-cap) >= 3*(base-cap) || 4*(s.top-cap) > base-cap {
			return
		}
		sup = sup.Union(image.Rect(s.x0, s.top, s.x1+1, s.bot+1))
	}
	if sup.Dy() < (base-cap)/4 || sup.Dx() < sup.Dy() {
		return // a quote mark or a speck, not two digits
	}
	return image.Rect(b.Min.X, cap, segs[j].x1+1, base+1), sup, true
}
