package fraud

import (
	"fmt"
	"testing"
)

// TestInspectHeadline: a value set far larger than the page's words keeps
// steeper edges through a photo's blur (a genuine photo's 64-pt light
// amount, 5.8× the other words' height, measured 1.35× as sharp, z 6.2);
// its sharpness alone makes it suspicious, never edited. The same
// sharpness at the page's size, or on a value printed three times as tall
// (a thermal ticket's double-height CIP, where dev edits are pasted), is
// edited.
func TestInspectHeadline(t *testing.T) {
	var ts []Traits
	for i := 0; i < 12; i++ {
		ts = append(ts, Traits{Region: Region{Text: fmt.Sprintf("%06d", 100000+i*7919)},
			Height: 20 + float64(i%3), Ink: 0.2, Contrast: 150, Sharp: 0.30 + 0.004*float64(i%5), BgNoise: 1, Stroke: 3, ok: true})
	}
	for _, tc := range []struct {
		height float64
		want   string
	}{{20, FlagEdited}, {60, FlagEdited}, {100, FlagSuspiciousPixels}} {
		field := Traits{Region: Region{Field: "amount", Text: "149.90"}, Height: tc.height, Ink: 0.2, Contrast: 150, Sharp: 0.41, BgNoise: 1, Stroke: 3, ok: true}
		r, found := inspectField(append(ts, field), "amount", false, DefaultForensics)
		if !found || r.Code != tc.want {
			t.Errorf("height %.0f: %+v (found %v), want %s", tc.height, r, found, tc.want)
		}
	}
}
