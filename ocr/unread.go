package ocr

import (
	"image"
	"sort"
)

// Lines of ink no pass read. Tesseract's page layout, sparse or not,
// drops whole rows of a photographed page now and then: on a keystoned
// photo of a bank's constancia it read every label but "Hora:" and none
// of the bold values beside them, which a single-line read of each row
// returns. unreadLines finds the runs of ink shaped like a line of text
// that no word read overlaps, for a single-line read.

// unreadLines returns, top to bottom, at most max boxes of ink on page
// shaped like a line of text at glyph px a letter — letters joined across
// gaps under glyph px, as tall as glyph/2 to 5·glyph/2, at least twice as
// wide as tall — clear of the page's edges and of every word in seen
// (overlapped by a third of its area or less). Ink is what is under 128.
func unreadLines(page *image.Gray, glyph float64, seen []Word, max int) []image.Rectangle {
	b := page.Rect
	if glyph < 4 || b.Dx() < 8 || b.Dy() < 8 {
		return nil
	}
	gap := int(glyph)
	// Runs of ink on each row, bridged across gaps under gap.
	type run struct{ y, x0, x1, id int }
	var runs []run
	rowStart := make([]int, b.Dy()+1)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		rowStart[y-b.Min.Y] = len(runs)
		row := page.Pix[(y-b.Min.Y)*page.Stride : (y-b.Min.Y)*page.Stride+b.Dx()]
		x0, last := -1, -gap-1
		for x, p := range row {
			if p >= 128 {
				continue
			}
			if x0 >= 0 && x-last > gap {
				runs = append(runs, run{y: y, x0: x0, x1: last + 1})
				x0 = -1
			}
			if x0 < 0 {
				x0 = x
			}
			last = x
		}
		if x0 >= 0 {
			runs = append(runs, run{y: y, x0: x0, x1: last + 1})
		}
	}
	rowStart[b.Dy()] = len(runs)
	// Runs that overlap on neighbouring rows are one mark (union-find).
	parent := make([]int, len(runs))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	for r := 1; r < b.Dy(); r++ {
		j := rowStart[r-1]
		for i := rowStart[r]; i < rowStart[r+1]; i++ {
			for j < rowStart[r] && runs[j].x1 <= runs[i].x0 {
				j++
			}
			for k := j; k < rowStart[r] && runs[k].x0 < runs[i].x1; k++ {
				if a, c := find(i), find(k); a != c {
					parent[a] = c
				}
			}
		}
	}
	boxes := map[int]image.Rectangle{}
	for i, rn := range runs {
		r := find(i)
		box := image.Rect(b.Min.X+rn.x0, rn.y, b.Min.X+rn.x1, rn.y+1)
		if old, ok := boxes[r]; ok {
			box = old.Union(box)
		}
		boxes[r] = box
	}
	var out []image.Rectangle
	margin := int(glyph / 2)
	for _, r := range boxes {
		h := float64(r.Dy())
		if h < glyph/2 || h > 2.5*glyph || r.Dx() < 2*r.Dy() {
			continue
		}
		if r.Min.X-b.Min.X < margin || r.Min.Y-b.Min.Y < margin || b.Max.X-r.Max.X < margin || b.Max.Y-r.Max.Y < margin {
			continue
		}
		covered := 0
		for _, w := range seen {
			in := w.Box.Intersect(r)
			covered += in.Dx() * in.Dy()
		}
		if 3*covered > r.Dx()*r.Dy() {
			continue
		}
		out = append(out, r)
	}
	// The widest first, when there are too many: a line of text is wider
	// than a speck or a fold's shadow.
	sort.Slice(out, func(i, j int) bool {
		if out[i].Dx() != out[j].Dx() {
			return out[i].Dx() > out[j].Dx()
		}
		return out[i].Min.Y < out[j].Min.Y
	})
	if len(out) > max {
		out = out[:max]
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Min.Y != out[j].Min.Y {
			return out[i].Min.Y < out[j].Min.Y
		}
		return out[i].Min.X < out[j].Min.X
	})
	return out
}
