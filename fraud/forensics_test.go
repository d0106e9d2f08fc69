package fraud_test

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/disintegration/imaging"
	"golang.org/x/image/font"
	"golang.org/x/image/math/fixed"

	"github.com/constancia/constancia/assets"
	"github.com/constancia/constancia/fraud"
)

// ink is how a word was put on the page.
type ink struct {
	c     color.RGBA
	blur  int        // box-blur radius: a photo's softness
	noise float64    // paper noise amplitude
	paper color.RGBA // what it is printed on (zero: paper)
}

var (
	photoInk = ink{c: color.RGBA{40, 40, 40, 255}, blur: 1, noise: 6}
	pasted   = ink{c: color.RGBA{40, 40, 40, 255}, blur: 0, noise: 6}                                          // drawn onto the photo's pixels: crisp
	blueInk  = ink{c: color.RGBA{32, 42, 62, 255}, blur: 1, noise: 6}                                          // an editor's blue-black (#202a3e)
	brandInk = ink{c: color.RGBA{20, 70, 210, 255}, blur: 1, noise: 6}                                         // a value the design prints in blue
	cleanBox = ink{c: color.RGBA{40, 40, 40, 255}, blur: 1, noise: 0}                                          // a flat patch over noisy paper
	noisyBox = ink{c: color.RGBA{40, 40, 40, 255}, blur: 1, noise: 30}                                         // a patch from a noisier picture
	fadedInk = ink{c: color.RGBA{120, 120, 118, 255}, blur: 1, noise: 6}                                       // faded thermal print
	blackInk = ink{c: color.RGBA{0, 0, 0, 255}, blur: 1, noise: 6}                                             // fresh black over faded print
	digital  = ink{c: color.RGBA{40, 40, 40, 255}, blur: 1, noise: 0.8}                                        // a screenshot: resampling's faint noise
	digital2 = ink{c: color.RGBA{40, 40, 40, 255}, blur: 1, noise: 2.6}                                        // twice the faint noise, under a level more
	onPanel  = ink{c: color.RGBA{255, 255, 255, 255}, paper: color.RGBA{20, 60, 160, 255}}                     // white on an app's blue header
	litWhite = ink{c: color.RGBA{40, 40, 40, 255}, blur: 1, noise: 1.5, paper: color.RGBA{254, 254, 254, 255}} // paper lit to white: its grain clipped to a trace
	mono     = mustFace()
)

func mustFace() font.Face {
	fc, err := assets.Face("DejaVuSansMono.ttf", 28)
	if err != nil {
		panic(err)
	}
	return fc
}

// word renders text as a photographed word crop with a margin of paper.
func word(r *rand.Rand, text string, k ink) image.Image { return wordIn(r, text, k, mono) }

// wordIn renders text in face fc as word does.
func wordIn(r *rand.Rand, text string, k ink, fc font.Face) image.Image {
	w := font.MeasureString(fc, text).Ceil() + 16
	img := image.NewRGBA(image.Rect(0, 0, w, 40))
	paper := color.RGBA{235, 232, 225, 255}
	if k.paper.A != 0 {
		paper = k.paper
	}
	draw.Draw(img, img.Rect, image.NewUniform(paper), image.Point{}, draw.Src)
	d := &font.Drawer{Dst: img, Src: image.NewUniform(k.c), Face: fc, Dot: fixed.P(8, 30)}
	d.DrawString(text)
	out := image.NewRGBA(img.Rect)
	for y := 0; y < 40; y++ {
		for x := 0; x < w; x++ {
			var s [3]int
			n := 0
			for dy := -k.blur; dy <= k.blur; dy++ {
				for dx := -k.blur; dx <= k.blur; dx++ {
					c := img.RGBAAt(min(max(x+dx, 0), w-1), min(max(y+dy, 0), 39))
					s[0], s[1], s[2] = s[0]+int(c.R), s[1]+int(c.G), s[2]+int(c.B)
					n++
				}
			}
			nz := (r.Float64()*2 - 1) * k.noise
			px := func(v int) uint8 { return uint8(min(max(float64(v)/float64(n)+nz, 0), 255)) }
			out.SetRGBA(x, y, color.RGBA{px(s[0]), px(s[1]), px(s[2]), 255})
		}
	}
	return out
}

// voucher returns the regions of a voucher whose amount was put on the
// page with amount and every other word with peers.
func voucher(seed uint64, peers, amount ink) []fraud.Region {
	r := rand.New(rand.NewPCG(seed, 7))
	words := []string{"20100123456", "CIP", "73488329", "Operacion", "004512", "21/11/2026", "18:42:07", "Agente", "KASNET", "Terminal", "88123", "S/", "2.00", "151.90"}
	var out []fraud.Region
	for i, w := range words {
		field := ""
		switch w {
		case "73488329":
			field = "cip"
		case "004512":
			field = "operation"
		}
		out = append(out, fraud.Region{Field: field, Text: w, Box: image.Rect(0, i*40, 200, i*40+40), Crop: word(r, w, peers)})
	}
	out = append(out, fraud.Region{Field: "amount", Text: "149.90", Box: image.Rect(0, 600, 200, 640), Crop: word(r, "149.90", amount)})
	return out
}

func TestInspect(t *testing.T) {
	tests := []struct {
		name          string
		peers, amount ink
		code          string // "" for no finding on the amount
		detail        string
	}{
		{"consistent voucher", photoInk, photoInk, "", ""},
		{"consistent faded voucher", fadedInk, fadedInk, "", ""},
		{"digits pasted onto the photo", photoInk, pasted, fraud.FlagEdited, "sharp"},
		{"another ink colour", photoInk, blueInk, fraud.FlagEdited, "colour"},
		{"a designed colour is no evidence", photoInk, brandInk, "", ""},
		{"a patch from a noisier picture (weak: paper by the page's edge is noisier too)", photoInk, noisyBox, fraud.FlagSuspiciousPixels, "noisy"},
		{"black digits on a faded print (weak: bold print is darker too)", fadedInk, blackInk, fraud.FlagSuspiciousPixels, "darker"},
		{"a flat patch (less noise is not evidence)", photoInk, cleanBox, "", ""},
		{"faint noise under a level is no patch", digital, digital2, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for seed := uint64(1); seed <= 3; seed++ {
				rs := fraud.Inspect(voucher(seed, tc.peers, tc.amount), false, fraud.DefaultForensics)
				var got *fraud.Reason
				for i := range rs {
					if rs[i].Field != "amount" {
						t.Fatalf("seed %d: unexpected finding on %s: %+v", seed, rs[i].Field, rs[i])
					}
					got = &rs[i]
				}
				switch {
				case tc.code == "" && got != nil && got.Code == fraud.FlagEdited:
					t.Fatalf("seed %d: flagged a consistent amount: %+v", seed, *got)
				case tc.code != "" && got == nil:
					t.Fatalf("seed %d: no finding, want %s", seed, tc.code)
				case tc.code != "" && (got.Code != tc.code || got.Layer != "pixels" || !strings.Contains(got.Detail, tc.detail)):
					t.Fatalf("seed %d: got %+v, want %s mentioning %q", seed, *got, tc.code, tc.detail)
				}
			}
		})
	}
}

// TestInspectClippedPaper: a photo whose light clipped the paper white
// around most words shows no grain there; a value in the shade, with the
// photo's ordinary grain, is not "noisier" than they are.
func TestInspectClippedPaper(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		if rs := fraud.Inspect(voucher(seed, litWhite, photoInk), false, fraud.DefaultForensics); len(rs) > 0 {
			t.Errorf("seed %d: %+v, want no finding", seed, rs)
		}
	}
}

// TestInspectSparseSpecks: specks on the paper around one value (dust,
// the ringing of other print nearby) are no grain: the paper's noise is
// measured without its largest fifth, so they do not make the value's
// paper "noisier" than its peers'.
func TestInspectSparseSpecks(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		rs := voucher(seed, photoInk, photoInk)
		amount := rs[len(rs)-1].Crop.(*image.RGBA)
		r := rand.New(rand.NewPCG(seed, 11))
		b := amount.Rect
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				if c := amount.RGBAAt(x, y); c.R > 200 && r.IntN(7) == 0 {
					v := uint8(max(0, int(c.R)-25))
					amount.SetRGBA(x, y, color.RGBA{v, v, v, 255})
				}
			}
		}
		if got := fraud.Inspect(rs, false, fraud.DefaultForensics); len(got) > 0 {
			t.Errorf("seed %d: %+v, want no finding", seed, got)
		}
	}
}

func TestInspectLightOnDark(t *testing.T) {
	bold, err := assets.Face("DejaVuSansMono-Bold.ttf", 28)
	if err != nil {
		t.Fatal(err)
	}
	for seed := uint64(1); seed <= 3; seed++ {
		// The amount in bold white on an app's blue header, cropped close
		// (the print fills much of its box) and crisper than the photo's
		// other words: light print on a panel is not ink on paper, so it
		// is not measured against them.
		rs := voucher(seed, photoInk, photoInk)
		r := rand.New(rand.NewPCG(seed, 3))
		img := wordIn(r, "149.90", onPanel, bold).(*image.RGBA)
		rs[len(rs)-1].Crop = img.SubImage(image.Rect(6, 8, img.Rect.Dx()-6, 33))
		if got := fraud.Inspect(rs, false, fraud.DefaultForensics); len(got) != 0 {
			t.Fatalf("seed %d: light print on a dark panel flagged: %+v", seed, got)
		}
	}
}

func TestInspectSize(t *testing.T) {
	face := func(name string, size float64) font.Face {
		fc, err := assets.Face(name, size)
		if err != nil {
			t.Fatal(err)
		}
		return fc
	}
	// A screenshot's value column: the CIP among four other values
	// printed in one face and size.
	// narrow: the CIP's glyphs drawn this much narrower (1: as the face
	// draws them), a condensed face.
	page := func(seed uint64, cip font.Face, narrow float64) []fraud.Region {
		r := rand.New(rand.NewPCG(seed, 9))
		var out []fraud.Region
		for i, v := range []string{"00218929", "2026", "11:30", "0.00", "6278"} {
			out = append(out, fraud.Region{Text: v, Box: image.Rect(0, i*40, 200, i*40+40), Crop: word(r, v, pasted)})
		}
		crop := wordIn(r, "8410155", pasted, cip)
		if narrow != 1 {
			b := crop.Bounds()
			crop = imaging.Resize(crop, int(float64(b.Dx())*narrow), b.Dy(), imaging.Linear)
		}
		return append(out, fraud.Region{Field: "cip", Text: "8410155", Box: image.Rect(0, 200, 200, 240), Crop: crop})
	}
	mono30 := face("DejaVuSansMono.ttf", 30)
	tests := []struct {
		name   string
		cip    font.Face
		narrow float64
		flat   bool
		code   string
		detail string
	}{
		{"printed alike", mono, 1, true, "", ""},
		{"redrawn 7 % larger", mono30, 1, true, fraud.FlagSuspiciousPixels, "taller"},
		{"redrawn 7 % smaller", face("DejaVuSansMono.ttf", 26), 1, true, fraud.FlagSuspiciousPixels, "shorter"},
		{"set apart in a condensed face by design", mono30, 0.85, true, "", ""},
		{"larger in bold by design: another weight, not compared", face("DejaVuSansMono-Bold.ttf", 30), 1, true, "", ""},
		{"a photo's sizes are not compared", mono30, 1, false, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for seed := uint64(1); seed <= 3; seed++ {
				rs := fraud.Inspect(page(seed, tc.cip, tc.narrow), tc.flat, fraud.DefaultForensics)
				switch {
				case tc.code == "" && len(rs) > 0:
					t.Fatalf("seed %d: unexpected finding %+v", seed, rs)
				case tc.code != "" && len(rs) != 1:
					t.Fatalf("seed %d: got %+v, want one %s", seed, rs, tc.code)
				case tc.code != "" && (rs[0].Code != tc.code || rs[0].Field != "cip" || !strings.Contains(rs[0].Detail, tc.detail)):
					t.Fatalf("seed %d: got %+v, want %s on the cip mentioning %q", seed, rs[0], tc.code, tc.detail)
				}
			}
		})
	}
}

// TestInspectBrandColours: a screenshot whose codes and amount are
// printed in a brand colour and whose date in near-black, shrunk and
// re-saved at JPEG quality 50 as a messaging app does. The date's digits
// are darker than the other digits by design, not by an editor's hand:
// darkness is compared among digits of one colour.
func TestInspectBrandColours(t *testing.T) {
	sans, bold := faces(t)
	grey, teal, dark := color.RGBA{127, 140, 141, 255}, color.RGBA{26, 188, 156, 255}, color.RGBA{44, 62, 80, 255}
	rows := [][]inkCell{
		{{"", "Monto pagado", sans, grey, 40}},
		{{"amount", "2227.70", bold, teal, 40}},
		{{"", "Código de pago", sans, grey, 40}, {"cip", "13151856", bold, teal, 520}},
		{{"", "Empresa", sans, grey, 40}, {"", "Tienda Lima SAC", bold, dark, 440}},
		{{"", "Fecha", sans, grey, 40}, {"paid_at", "24/02/2026", bold, dark, 330}, {"paid_at", "19:00", bold, dark, 520}},
		{{"", "N° de operación", sans, grey, 40}, {"operation", "254190461", bold, teal, 510}},
		{{"", "Canal", sans, grey, 40}, {"", "Banca móvil", bold, dark, 500}},
	}
	if rs := fraud.Inspect(resavedScreenshot(t, rows), true, fraud.DefaultForensics); len(rs) != 0 {
		t.Fatalf("a re-saved screenshot flagged: %+v", rs)
	}
}

// TestInspectGreyDate: a confirmation that prints its codes in black and
// its date in a lighter grey, by design. The codes are darker than the
// date's digits, which are no peers of theirs: codes and amounts are
// compared among themselves.
func TestInspectGreyDate(t *testing.T) {
	sans, bold := faces(t)
	label, date, black := color.RGBA{153, 153, 153, 255}, color.RGBA{102, 102, 102, 255}, color.RGBA{0, 0, 0, 255}
	rows := [][]inkCell{
		{{"", "Pago exitoso", bold, black, 40}},
		{{"paid_at", "21/11/2026", sans, date, 40}, {"paid_at", "18:42", sans, date, 240}, {"", "hrs", sans, date, 330}},
		{{"", "Código de pago", sans, label, 40}, {"cip", "13151856", sans, black, 520}},
		{{"", "N° de operación", sans, label, 40}, {"operation", "254190461", sans, black, 510}},
		{{"", "Destino", sans, label, 40}, {"", "Tienda Lima", sans, black, 500}},
	}
	if rs := fraud.Inspect(resavedScreenshot(t, rows), true, fraud.DefaultForensics); len(rs) != 0 {
		t.Fatalf("black codes beside a grey date flagged: %+v", rs)
	}
}

// inkCell is one word run drawn on a screenshot: its field, text, face,
// colour and left edge.
type inkCell struct {
	field, text string
	fc          font.Face
	c           color.RGBA
	x           int
}

func faces(t *testing.T) (sans, bold font.Face) {
	t.Helper()
	sans, err := assets.Face("DejaVuSans.ttf", 26)
	if err != nil {
		t.Fatal(err)
	}
	bold, err = assets.Face("DejaVuSans-Bold.ttf", 28)
	if err != nil {
		t.Fatal(err)
	}
	return sans, bold
}

// resavedScreenshot draws rows on a white 720 px screen, shrinks it to
// 45 % and re-saves it at JPEG quality 50, as a messaging app does, and
// returns each word's region as the reader would give it.
func resavedScreenshot(t *testing.T, rows [][]inkCell) []fraud.Region {
	t.Helper()
	page := image.NewRGBA(image.Rect(0, 0, 720, 90*len(rows)+60))
	draw.Draw(page, page.Rect, image.White, image.Point{}, draw.Src)
	type placed struct {
		field, text string
		box         image.Rectangle
	}
	var words []placed
	for i, row := range rows {
		base := 80 + 90*i
		for _, c := range row {
			d := &font.Drawer{Dst: page, Src: image.NewUniform(c.c), Face: c.fc, Dot: fixed.P(c.x, base)}
			for i, w := range strings.Fields(c.text) { // word by word, as Tesseract reports them
				if i > 0 {
					d.DrawString(" ")
				}
				b, _ := d.BoundString(w)
				d.DrawString(w)
				words = append(words, placed{c.field, w, image.Rect(b.Min.X.Floor(), b.Min.Y.Floor(), b.Max.X.Ceil(), b.Max.Y.Ceil())})
			}
		}
	}
	const k = 0.45
	small := imaging.Resize(page, int(720*k), 0, imaging.Lanczos)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, small, &jpeg.Options{Quality: 50}); err != nil {
		t.Fatal(err)
	}
	shot, err := jpeg.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var regions []fraud.Region
	for _, w := range words {
		b := image.Rect(int(float64(w.box.Min.X)*k), int(float64(w.box.Min.Y)*k), int(float64(w.box.Max.X)*k+1), int(float64(w.box.Max.Y)*k+1))
		m := max(2, b.Dy()/4)
		crop := imaging.Resize(imaging.Crop(shot, b.Inset(-m)), int(float64(b.Dx()+2*m)/k), 0, imaging.Linear)
		regions = append(regions, fraud.Region{Field: w.field, Text: w.text, Box: b, Crop: crop})
	}
	return regions
}

func TestInspectNeedsPeers(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	// A lone crisp field with two peers: too little to compare with.
	rs := fraud.Inspect([]fraud.Region{
		{Field: "amount", Text: "149.90", Crop: word(r, "149.90", pasted)},
		{Text: "2.00", Crop: word(r, "2.00", photoInk)},
		{Text: "151.90", Crop: word(r, "151.90", photoInk)},
	}, true, fraud.DefaultForensics)
	if len(rs) != 0 {
		t.Fatalf("verdict from two peers: %+v", rs)
	}
	// Degenerate crops: empty, blank paper, tiny.
	rs = fraud.Inspect([]fraud.Region{
		{Field: "cip", Crop: image.NewRGBA(image.Rect(0, 0, 0, 0))},
		{Field: "amount", Crop: image.NewRGBA(image.Rect(0, 0, 50, 20))},
		{Field: "paid_at", Crop: image.NewRGBA(image.Rect(0, 0, 3, 3))},
		{Field: "operation"},
	}, true, fraud.DefaultForensics)
	if len(rs) != 0 {
		t.Fatalf("verdict from blank crops: %+v", rs)
	}
}

func BenchmarkInspect(b *testing.B) {
	// A voucher of 60 words, the size of a busy thermal ticket.
	var regions []fraud.Region
	for i := 0; i < 4; i++ {
		regions = append(regions, voucher(uint64(i), photoInk, photoInk)...)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		fraud.Inspect(regions, true, fraud.DefaultForensics)
	}
}
