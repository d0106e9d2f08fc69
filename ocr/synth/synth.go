// Package synth generates labelled PagoEfectivo-style vouchers: clean
// renders of a thermal agent ticket and of a banking-app screen, then
// photo-like captures (rotation, background, uneven light, blur, noise,
// JPEG). Tests, benchmarks and `constancia synth` use it, so a fresh clone
// needs no outside images. It is deterministic for a given seed.
package synth

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/disintegration/imaging"
	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"github.com/constancia/constancia/assets"
)

// Voucher is the truth behind one generated image, in the label format of
// the dev corpus (see docs/corpus.md).
type Voucher struct {
	File      string `json:"file"`
	Template  string `json:"template"`
	Kind      string `json:"kind"`
	CIP       string `json:"cip"`
	Operation string `json:"operation"`
	Amount    string `json:"amount"`
	Currency  string `json:"currency"`
	PaidAt    string `json:"paid_at"`
	TimeShown string `json:"time_shown"`
	Capture   string `json:"capture"`
	Edit      *Edit  `json:"edit"` // for an edited voucher: what changed (as in the dev corpus's labels)

	cents int64
	paid  time.Time
	was   int64     // an edited amount's original, which a ticket's TOTAL still adds up (0: not edited)
	cipAt float64   // the size an edited CIP was redrawn at, against the other values' (0: as printed)
	wasAt time.Time // an edited payment time's original, which the print stamp and weekday still show
}

// Options choose what to generate.
type Options struct {
	Seed   uint64
	Photo  bool    // simulate a phone photo (else a screenshot or flat scan)
	Blur   float64 // extra blur sigma for photos (0 = random 0–0.8)
	Format string  // "jpg" (default) or "png"
	// Touch widens every stroke sideways by this many pixels before the
	// capture, so neighbouring letters touch (a condensed receipt font).
	Touch int
}

var lima = time.FixedZone("PET", -5*3600)

type fonts struct{ mono, monoBold, sans, sansBold *opentype.Font }

var loaded = mustLoadFonts()

func mustLoadFonts() fonts {
	load := func(name string) *opentype.Font {
		b, err := assets.Fonts.ReadFile("fonts/" + name)
		if err != nil {
			panic(err) // embedded at build time: cannot fail at run time
		}
		f, err := opentype.Parse(b)
		if err != nil {
			panic(err)
		}
		return f
	}
	return fonts{load("DejaVuSansMono.ttf"), load("DejaVuSansMono-Bold.ttf"), load("DejaVuSans.ttf"), load("DejaVuSans-Bold.ttf")}
}

func face(f *opentype.Font, size float64) font.Face {
	fc, err := opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		panic(err)
	}
	return fc
}

// Random returns the truth of voucher number i for a seed.
func Random(seed uint64, i int) Voucher {
	r := rand.New(rand.NewPCG(seed, uint64(i)))
	v := Voucher{Kind: "original"}
	v.CIP = fmt.Sprintf("%0*d", 8, r.IntN(90000000)+10000000)
	if r.IntN(6) == 0 {
		v.CIP = fmt.Sprint(r.IntN(9000000) + 1000000)
	}
	v.Operation = fmt.Sprintf("%0*d", 6+r.IntN(5), r.IntN(999999))
	v.cents = int64(r.IntN(300000)+100) / 10 * 10
	if r.IntN(3) == 0 {
		v.cents = int64(r.IntN(2000)+1) * 100
	}
	v.Currency = "PEN"
	if r.IntN(6) == 0 {
		v.Currency = "USD"
	}
	v.Amount = fmt.Sprintf("%d.%02d", v.cents/100, v.cents%100)
	v.paid = time.Date(2026, time.Month(1+r.IntN(12)), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), 0, lima)
	// "header" (the amount in white on a coloured header; its photos are
	// read by the engine's panel pass, TestReadHeaderPhoto), "table" and
	// "wallet" (raised cents) are drawn when asked for, so that the
	// generated sets measured in docs/measurements.md stay the same
	// vouchers.
	v.Template = []string{"thermal", "app", "stacked"}[r.IntN(3)]
	return v
}

// SetAmount changes the amount v shows (for edited copies in tests).
func (v *Voucher) SetAmount(cents int64) {
	v.cents = cents
	v.Amount = fmt.Sprintf("%d.%02d", cents/100, cents%100)
}

// Edit is the change made to an edited voucher.
type Edit struct {
	Field string `json:"field"` // "amount" or "date"
	From  string `json:"from"`
	To    string `json:"to"`
}

// EditAmount changes the amount v shows the way an image editor does:
// only the amount's digits change, so a ticket's TOTAL still adds up the
// amount it replaced.
func (v *Voucher) EditAmount(cents int64) {
	if v.was == 0 {
		v.was = v.cents
	}
	from := v.Amount
	v.SetAmount(cents)
	v.Kind, v.Edit = "edited", &Edit{Field: "amount", From: from, To: v.Amount}
}

// EditPaidAt changes the payment time v shows the way an image editor
// does: the ticket's print stamp and the weekday named before the date
// still follow the time it replaced.
func (v *Voucher) EditPaidAt(t time.Time) {
	if v.wasAt.IsZero() {
		v.wasAt = v.paid
	}
	from := v.paid.Format(time.RFC3339)
	v.SetPaidAt(t)
	v.Kind, v.Edit = "edited", &Edit{Field: "date", From: from, To: v.paid.Format(time.RFC3339)}
}

// EditCIP changes the CIP v shows the way a careless image editor does:
// the new digits typed in the values' face but scaled by size (1.064: a
// CIP pasted 6.4 % larger). Drawn so by the app template.
func (v *Voucher) EditCIP(cip string, size float64) {
	from := v.CIP
	v.CIP, v.cipAt = cip, size
	v.Kind, v.Edit = "edited", &Edit{Field: "cip", From: from, To: cip}
}

// printedAt is when the voucher was really made: its print stamp and
// weekday follow it.
func (v *Voucher) printedAt() time.Time {
	if !v.wasAt.IsZero() {
		return v.wasAt
	}
	return v.paid
}

// AmountCents is the amount v shows, in cents.
func (v *Voucher) AmountCents() int64 { return v.cents }

// PaidAtTime is the payment time v shows, in Lima time (before Render
// truncates it to what the chosen date style prints).
func (v *Voucher) PaidAtTime() time.Time { return v.paid }

// SetPaidAt changes the payment time v shows (Lima time, whole seconds).
func (v *Voucher) SetPaidAt(t time.Time) { v.paid = t.In(lima).Truncate(time.Second) }

// Render draws v and captures it per opt, returning the encoded image. It
// fills v.File's extension, v.PaidAt, v.TimeShown and v.Capture.
func Render(v *Voucher, opt Options) ([]byte, error) {
	r := rand.New(rand.NewPCG(opt.Seed, 7))
	var img *image.Gray
	switch v.Template {
	case "thermal":
		img = renderThermal(v, r)
	case "stacked":
		img = renderStacked(v, r)
	case "header":
		img = renderHeader(v, r)
	case "table":
		img = renderTable(v, r)
	case "wallet":
		img = renderWallet(v, r)
	case "receipt":
		img = renderReceipt(v, r)
	default:
		img = renderApp(v, r)
	}
	if opt.Touch > 0 {
		img = touch(img, opt.Touch)
	}
	var out image.Image = img
	v.Capture = "screenshot"
	if opt.Photo {
		v.Capture = "photo"
		out = photograph(img, r, opt.Blur)
	}
	v.PaidAt = v.paid.Format(time.RFC3339)
	var buf bytes.Buffer
	if opt.Format == "png" {
		if err := png.Encode(&buf, out); err != nil {
			return nil, err
		}
	} else {
		if err := jpeg.Encode(&buf, out, &jpeg.Options{Quality: 60 + r.IntN(31)}); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

func cents(c int64) string { return fmt.Sprintf("%d.%02d", c/100, c%100) }

func money(v *Voucher, r *rand.Rand) string {
	n := fmt.Sprintf("%d.%02d", v.cents/100, v.cents%100)
	if v.cents >= 100000 && r.IntN(2) == 0 {
		n = fmt.Sprintf("%d,%03d.%02d", v.cents/100000, (v.cents/100)%1000, v.cents%100)
	}
	if v.Currency == "USD" {
		return []string{"US$ ", "USD "}[r.IntN(2)] + n
	}
	return []string{"S/ ", "S/. ", "PEN "}[r.IntN(3)] + n
}

var monthsES = []string{"ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "set", "oct", "nov", "dic"}

var monthNamesES = []string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"}

var weekdaysES = []string{"domingo", "lunes", "martes", "miércoles", "jueves", "viernes", "sábado"}

// dateText renders the payment time in one of the styles vouchers use and
// records whether seconds are shown. Only wide layouts (wide) print the
// weekday and month name in full.
func dateText(v *Voucher, r *rand.Rand, wide bool) string {
	t := v.paid
	v.TimeShown = "second"
	switch k := r.IntN(6); {
	case k == 4 && !wide:
		return t.Format("02/01/2006 15:04:05")
	case k == 4:
		v.TimeShown = "minute"
		v.paid = v.paid.Truncate(time.Minute)
		return fmt.Sprintf("%s, %d de %s de %d %s", weekdaysES[v.printedAt().Weekday()], t.Day(), monthNamesES[t.Month()-1], t.Year(), t.Format("15:04"))
	case k == 5:
		v.TimeShown = "minute"
		v.paid = v.paid.Truncate(time.Minute)
		return fmt.Sprintf("%02d %s %d - %s %s", t.Day(), monthsES[t.Month()-1], t.Year(), t.Format("3:04"), map[bool]string{true: "p. m.", false: "a. m."}[t.Hour() >= 12])
	case k == 0:
		return t.Format("02/01/2006 15:04:05")
	case k == 1:
		v.TimeShown = "minute"
		v.paid = v.paid.Truncate(time.Minute)
		return t.Format("02-01-2006 03:04 PM")
	case k == 2:
		v.TimeShown = "minute"
		v.paid = v.paid.Truncate(time.Minute)
		return t.Format("2006-01-02 15:04")
	default:
		return fmt.Sprintf("%02d %s %d %s", t.Day(), monthsES[t.Month()-1], t.Year(), t.Format("15:04:05"))
	}
}

type canvas struct {
	img *image.Gray
	y   int
}

func (c *canvas) text(f font.Face, s string, x int, align int) {
	d := &font.Drawer{Dst: c.img, Src: image.Black, Face: f}
	w := d.MeasureString(s).Round()
	switch align {
	case 1: // right
		x -= w
	case 2: // centre
		x -= w / 2
	}
	d.Dot = fixed.P(x, c.y)
	d.DrawString(s)
}

// blank is a white page of w × h to draw a template on.
func blank(w, h int) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	return img
}

func pick(r *rand.Rand, s ...string) string { return s[r.IntN(len(s))] }

func renderThermal(v *Voucher, r *rand.Rand) *image.Gray {
	w := 576
	img := blank(w, 1100)
	f, fb := face(loaded.mono, 22), face(loaded.monoBold, 24)
	c := &canvas{img: img, y: 50}
	lh := 30
	row := func(label, value string, bold bool) {
		c.text(f, label, 24, 0)
		ff := f
		if bold {
			ff = fb
		}
		c.text(ff, value, w-24, 1)
		c.y += lh
	}
	c.text(fb, pick(r, "AGENTE KASNET", "AGENTE BCP", "TAMBO+"), w/2, 2)
	c.y += lh
	c.text(f, pick(r, "BODEGA DON LUCHO", "INTERNET CABINAS JHON", "FARMACIA SAN JUAN"), w/2, 2)
	c.y += lh
	c.text(f, fmt.Sprintf("RUC: 20%09d", r.IntN(999999999)), w/2, 2)
	c.y += lh
	c.text(f, strings.Repeat("-", 38), 24, 0)
	c.y += lh
	row("TERMINAL:", fmt.Sprintf("%08d", r.IntN(99999999)), false)
	row("SECUENCIA:", fmt.Sprintf("%06d", r.IntN(999999)), false)
	row(pick(r, "FECHA:", "Fecha y hora:"), dateText(v, r, false), false)
	c.text(f, strings.Repeat("-", 38), 24, 0)
	c.y += lh
	c.text(fb, "PAGO DE SERVICIOS - PAGOEFECTIVO", w/2, 2)
	c.y += lh
	row("EMPRESA:", pick(r, "TIENDA GLOBAL SAC", "MERCADO DIGITAL PERU"), false)
	row(pick(r, "CODIGO CIP:", "CIP:", "Cod. Pago:"), v.CIP, true)
	m := money(v, r)
	sign := m[:strings.LastIndexByte(m, ' ')+1] // the amount's currency, as printed
	fee := int64(100*(1+r.IntN(3)) + 50)
	total := v.cents + fee
	if v.was != 0 {
		total = v.was + fee
	}
	row(pick(r, "IMPORTE:", "Monto:"), m, true)
	row("COMISION:", sign+cents(fee), false)
	row("TOTAL:", sign+cents(total), true)
	row(pick(r, "Nro. Operación:", "N° de operación:"), v.Operation, false)
	c.text(f, strings.Repeat("-", 38), 24, 0)
	c.y += lh
	c.text(f, "IMPRESO: "+v.printedAt().Add(90*time.Second).Format("02/01/2006 15:04:05"), w/2, 2)
	c.y += 2 * lh
	return crop(img, c.y)
}

func renderApp(v *Voucher, r *rand.Rand) *image.Gray {
	w := 720
	img := blank(w, 1300)
	draw.Draw(img, image.Rect(0, 0, w, 90), image.NewUniform(color.Gray{Y: 40}), image.Point{}, draw.Src)
	f, fb, big := face(loaded.sans, 26), face(loaded.sansBold, 26), face(loaded.sansBold, 56)
	c := &canvas{img: img, y: 200}
	c.text(fb, "¡Pago exitoso!", w/2, 2)
	c.y += 80
	c.text(f, pick(r, "Monto pagado", "Monto total", "Importe"), w/2, 2)
	c.y += 80
	c.text(big, money(v, r), w/2, 2)
	c.y += 90
	row := func(label, value string) {
		c.text(f, label, 40, 0)
		c.text(fb, value, w-40, 1)
		c.y += 70
	}
	row("Empresa", "PagoEfectivo")
	row("Comercio", pick(r, "Inversiones Los Andes Sac", "Juegos Atlantis SAC"))
	if v.cipAt != 0 {
		c.text(f, pick(r, "Cód. Pago", "Código CIP", "CIP"), 40, 0)
		c.text(face(loaded.sansBold, 26*v.cipAt), v.CIP, w-40, 1)
		c.y += 70
	} else {
		row(pick(r, "Cód. Pago", "Código CIP", "CIP"), v.CIP)
	}
	row("Cuenta de cargo", fmt.Sprintf("Ahorro Soles **** %04d", r.IntN(9999)))
	row("Comisión", "S/ 0.00")
	row(pick(r, "Fecha y hora", "Fecha de pago"), dateText(v, r, false))
	row(pick(r, "Número de operación", "Nro. Operación"), v.Operation)
	c.y += 40
	return crop(img, c.y)
}

// renderStacked draws a web confirmation whose labels sit in grey above
// their values, with other wording and distractors the other templates
// lack: an order number as long as the CIP, an issue date, a total.
func renderStacked(v *Voucher, r *rand.Rand) *image.Gray {
	w := 680
	img := blank(w, 1500)
	fb, small := face(loaded.sansBold, 27), face(loaded.sans, 20)
	c := &canvas{img: img, y: 70}
	c.text(fb, pick(r, "Constancia de pago", "Comprobante de operación"), 40, 0)
	c.y += 50
	c.text(small, "Tu pago se registró correctamente.", 40, 0)
	c.y += 70
	grey := &font.Drawer{Dst: img, Src: image.NewUniform(color.Gray{Y: 110}), Face: small}
	field := func(label, value string) {
		grey.Dot = fixed.P(40, c.y)
		grey.DrawString(label)
		c.y += 38
		c.text(fb, value, 40, 0)
		c.y += 62
	}
	field(pick(r, "Código de pago (CIP)", "CIP PagoEfectivo", "Código CIP"), v.CIP)
	field(pick(r, "N° de pedido", "Orden de compra"), fmt.Sprintf("%08d", r.IntN(99999999)))
	field(pick(r, "Monto pagado", "Importe pagado", "Total pagado"), money(v, r))
	field(pick(r, "Fecha y hora de pago", "Fecha de operación"), dateText(v, r, true))
	field(pick(r, "N.º de operación", "Número de operación", "Operación N°"), v.Operation)
	field("RUC del comercio", fmt.Sprintf("20%09d", r.IntN(999999999)))
	c.text(small, "Fecha de emisión: "+v.paid.Add(26*time.Hour).Format("02/01/2006 15:04"), 40, 0)
	c.y += 60
	return crop(img, c.y)
}

// touch darkens each pixel to the darkest of the n to its right: strokes
// grow sideways until neighbouring letters meet.
func touch(g *image.Gray, n int) *image.Gray {
	out := image.NewGray(g.Rect)
	w := g.Rect.Dx()
	for y := 0; y < g.Rect.Dy(); y++ {
		row := g.Pix[y*g.Stride : y*g.Stride+w]
		dst := out.Pix[y*out.Stride : y*out.Stride+w]
		for x := range row {
			m := row[x]
			for k := 1; k <= n && x+k < w; k++ {
				m = min(m, row[x+k])
			}
			dst[x] = m
		}
	}
	return out
}

// renderHeader draws a banking app's confirmation whose coloured header
// carries the title and the amount in white, above rows of label and value.
func renderHeader(v *Voucher, r *rand.Rand) *image.Gray {
	w := 720
	img := blank(w, 1250)
	band := uint8(30 + r.IntN(120)) // dark blue to mid-tone green or red, as grey
	draw.Draw(img, image.Rect(0, 0, w, 380), image.NewUniform(color.Gray{Y: band}), image.Point{}, draw.Src)
	f, fb, big := face(loaded.sans, 26), face(loaded.sansBold, 26), face(loaded.sansBold, 60)
	white := func(fc font.Face, s string, x, y int) {
		d := &font.Drawer{Dst: img, Src: image.White, Face: fc, Dot: fixed.P(x, y)}
		d.DrawString(s)
	}
	white(fb, pick(r, "Operación exitosa", "¡Listo! Pagaste"), 40, 90)
	white(f, pick(r, "Monto pagado", "Importe"), 40, 190)
	white(big, money(v, r), 40, 290)
	c := &canvas{img: img, y: 470}
	row := func(label, value string) {
		c.text(f, label, 40, 0)
		c.text(fb, value, w-40, 1)
		c.y += 70
	}
	row("Servicio", "PagoEfectivo")
	row(pick(r, "Código CIP", "CIP"), v.CIP)
	row(pick(r, "Fecha", "Fecha y hora"), dateText(v, r, false))
	row(pick(r, "N° de operación", "Operación"), v.Operation)
	row("Cuenta", fmt.Sprintf("**** %04d", r.IntN(9999)))
	c.y += 30
	return crop(img, c.y)
}

// renderWallet draws a wallet app's confirmation whose amount is set large
// with its cents raised and small ("S/ 2,536⁴⁰"), top-aligned with the
// digits, after a point, a comma or nothing; rows of label and value
// below.
func renderWallet(v *Voucher, r *rand.Rand) *image.Gray {
	w := 720
	img := blank(w, 1100)
	f, fb := face(loaded.sans, 24), face(loaded.sansBold, 24)
	size := 52 + float64(r.IntN(20))
	big, small := face(loaded.sansBold, size), face(loaded.sansBold, size*0.45)
	c := &canvas{img: img, y: 90}
	c.text(fb, pick(r, "¡Pagaste!", "Pago exitoso", "Listo, pagaste"), w/2, 2)
	c.y += 110
	c.text(f, pick(r, "Monto pagado", "Total pagado"), w/2, 2)
	c.y += int(size) + 40
	// The whole part with its sign, then the cents at the digits' cap line
	// (cap heights are 0.73 of the size in DejaVu Sans).
	whole := fmt.Sprintf("%d", v.cents/100)
	if v.cents >= 100000 {
		whole = fmt.Sprintf("%d,%03d", v.cents/100000, (v.cents/100)%1000)
	}
	sign := "S/ "
	if v.Currency == "USD" {
		sign = "US$ "
	}
	raised := pick(r, ".", ",", "") + fmt.Sprintf("%02d", v.cents%100)
	d := &font.Drawer{Dst: img, Src: image.Black, Face: big}
	width := d.MeasureString(sign+whole).Round() + 4 + font.MeasureString(small, raised).Round()
	d.Dot = fixed.P((w-width)/2, c.y)
	d.DrawString(sign + whole)
	d.Face, d.Dot = small, fixed.P(d.Dot.X.Round()+4, c.y-int(0.73*size)+int(0.73*size*0.45))
	d.DrawString(raised)
	c.y += 110
	row := func(label, value string) {
		c.text(f, label, 50, 0)
		c.text(fb, value, w-50, 1)
		c.y += 72
	}
	row(pick(r, "Código CIP", "CIP"), v.CIP)
	row(pick(r, "Fecha", "Fecha y hora"), dateText(v, r, false))
	row(pick(r, "Nro. de operación", "Operación N°"), v.Operation)
	row("Servicio", "PagoEfectivo")
	row("Desde", fmt.Sprintf("Cuenta **** %04d", r.IntN(9999)))
	c.y += 20
	return crop(img, c.y)
}

// renderTable draws a bank's operation record whose date, time and
// operation number are a table: grey column headings over one row of
// values, the time printed before the date on some. Below, rows of label
// and value with a debit account and a total charged.
func renderTable(v *Voucher, r *rand.Rand) *image.Gray {
	w := 760
	img := blank(w, 1100)
	f, fb, small := face(loaded.sans, 24), face(loaded.sansBold, 24), face(loaded.sans, 20)
	c := &canvas{img: img, y: 70}
	c.text(face(loaded.sansBold, 30), pick(r, "BANCO DEL SUR", "CAJA ANDINA"), 40, 0)
	c.y += 50
	c.text(f, pick(r, "Constancia de operación", "Detalle de la operación"), 40, 0)
	c.y += 40
	c.text(small, "Pago de servicios - PagoEfectivo", 40, 0)
	c.y += 30
	rule := func() {
		draw.Draw(img, image.Rect(40, c.y, w-40, c.y+2), image.NewUniform(color.Gray{Y: 160}), image.Point{}, draw.Src)
		c.y += 45
	}
	rule()
	// The table: headings in grey, values in bold below them.
	t := v.paid
	v.TimeShown = "second"
	var day, clock string
	switch r.IntN(3) {
	case 0:
		day, clock = t.Format("02/01/2006"), t.Format("15:04:05")
	case 1:
		day, clock = t.Format("02-01-2006"), t.Format("15:04:05")
	default:
		v.TimeShown = "minute"
		v.paid = v.paid.Truncate(time.Minute)
		day, clock = fmt.Sprintf("%02d %s %d", t.Day(), monthsES[t.Month()-1], t.Year()), t.Format("03:04 PM")
	}
	cols := []struct{ head, value string }{
		{"Fecha", day}, {"Hora", clock},
		{pick(r, "N° de operación", "Nro. Operación", "Operación"), v.Operation},
	}
	if r.IntN(2) == 0 {
		cols[0], cols[1] = cols[1], cols[0] // time first
	}
	grey := &font.Drawer{Dst: img, Src: image.NewUniform(color.Gray{Y: 110}), Face: small}
	xs := []int{40, 300, 520}
	for i, col := range cols {
		grey.Dot = fixed.P(xs[i], c.y)
		grey.DrawString(col.head)
	}
	c.y += 40
	for i, col := range cols {
		c.text(fb, col.value, xs[i], 0)
	}
	c.y += 30
	rule()
	row := func(label, value string) {
		c.text(f, label, 40, 0)
		c.text(fb, value, w-40, 1)
		c.y += 56
	}
	row(pick(r, "Código de pago", "Cód. de pago CIP", "Código CIP"), v.CIP)
	row("Empresa", pick(r, "PagoEfectivo - Tienda Global SAC", "PagoEfectivo - Mercado Digital"))
	row("Cuenta de cargo", fmt.Sprintf("Ahorros **** %04d", r.IntN(9999)))
	m := money(v, r)
	sign := m[:strings.LastIndexByte(m, ' ')+1]
	row(pick(r, "Importe", "Monto de la operación", "Importe pagado"), m)
	row("Comisión", sign+"0.00")
	row(pick(r, "Total cargado", "Total debitado"), m)
	c.y += 20
	return crop(img, c.y)
}

// renderReceipt draws a shop's receipt, no PagoEfectivo voucher: a
// Peruvian boleta (OP. GRAVADA, IGV, TOTAL, EFECTIVO, VUELTO, dated by its
// "Fecha de emisión") or an English one (items under a Qty/Price/Amount
// header, totals with and without GST, rounding, cash and change). Its
// truth has no CIP or operation: the amount is the TOTAL paid and the
// payment time its date (the minute when it prints a time, the day
// otherwise, as TimeShown says).
func renderReceipt(v *Voucher, r *rand.Rand) *image.Gray {
	w := 576
	img := blank(w, 1500)
	f, fb := face(loaded.mono, 21), face(loaded.monoBold, 23)
	c := &canvas{img: img, y: 50}
	lh := 29
	line := func(s string, align int) {
		x := map[int]int{0: 24, 1: w - 24, 2: w / 2}[align]
		c.text(f, s, x, align)
		c.y += lh
	}
	row := func(label, value string, ff font.Face) {
		c.text(f, label, 24, 0)
		c.text(ff, value, w-24, 1)
		c.y += lh
	}
	v.CIP, v.Operation, v.Currency = "", "", "PEN"
	// Items that add up to the total: two or three lines.
	n := 2 + r.IntN(2)
	parts := make([]int64, n)
	left := v.cents
	for i := range parts[:n-1] {
		parts[i] = (left / int64(n-i)) / 10 * 10
		left -= parts[i]
	}
	parts[n-1] = left
	names := []string{"GASEOSA 500ML", "PAN FRANCES", "ARROZ 5KG", "ACEITE 1L", "LECHE EVAP", "DETERGENTE", "CUADERNO A4", "PILAS AA"}
	t := v.paid
	withTime := r.IntN(3) != 0
	v.TimeShown = "minute"
	if !withTime {
		v.TimeShown = ""
		v.paid = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, lima)
	} else {
		v.paid = v.paid.Truncate(time.Minute)
	}
	if r.IntN(2) == 0 {
		// A Peruvian boleta: the total includes IGV (18 %).
		c.text(fb, pick(r, "BODEGA DON PEPE E.I.R.L.", "MINIMARKET LA ECONOMICA", "LIBRERIA SAN MARCOS SAC"), w/2, 2)
		c.y += lh
		line(fmt.Sprintf("RUC: 20%09d", r.IntN(999999999)), 2)
		line("AV. LOS INCAS 123 - LIMA", 2)
		line("BOLETA DE VENTA ELECTRONICA", 2)
		line(fmt.Sprintf("B%03d-%08d", 1+r.IntN(9), r.IntN(99999999)), 2)
		day := t.Format("02/01/2006")
		if withTime {
			day += " " + t.Format("15:04")
		}
		line(pick(r, "Fecha de emisión: ", "FECHA EMISION: ")+day, 0)
		line(strings.Repeat("-", 40), 0)
		line("CANT DESCRIPCION        IMPORTE", 0)
		for i, p := range parts {
			row(fmt.Sprintf("%d %s", 1+i%2, names[r.IntN(len(names))]), cents(p), f)
		}
		line(strings.Repeat("-", 40), 0)
		base := v.cents * 100 / 118
		row("OP. GRAVADA", cents(base), f)
		row("IGV 18%", cents(v.cents-base), f)
		row("TOTAL", "S/ "+cents(v.cents), fb)
		paid := (v.cents/1000 + 1) * 1000
		row("EFECTIVO", "S/ "+cents(paid), f)
		row("VUELTO", "S/ "+cents(paid-v.cents), f)
		line("GRACIAS POR SU COMPRA", 2)
	} else {
		// An English receipt: GST (6 %) included, rounding, cash and change.
		c.text(fb, pick(r, "SANYU STATIONERY SHOP", "RESTORAN WAN SHENG", "99 SPEED MART S/B"), w/2, 2)
		c.y += lh
		line(fmt.Sprintf("(%06d-%s)", r.IntN(999999), pick(r, "W", "K", "X")), 2)
		line("NO. 31G, JALAN SETIA INDAH", 2)
		line(fmt.Sprintf("GST ID No: %012d", r.Int64N(999999999999)), 2)
		line("TAX INVOICE", 2)
		line(fmt.Sprintf("INV NO: CS-%07d", r.IntN(9999999)), 0)
		day := t.Format(pick(r, "02/01/2006", "02-01-2006"))
		if withTime {
			day += " " + t.Format("15:04")
		}
		line("DATE : "+day, 0)
		line(strings.Repeat("-", 40), 0)
		line("DESCRIPTION    QTY  PRICE  AMOUNT", 0)
		for _, p := range parts {
			row(names[r.IntN(len(names))]+"  1", cents(p), f)
		}
		line(strings.Repeat("-", 40), 0)
		gst := v.cents * 6 / 106
		row(pick(r, "Total Qty:", "TOTAL QTY:"), fmt.Sprint(n), f)
		row(pick(r, "Total (Excluding GST):", "TOTAL SALES (EXCL GST)"), cents(v.cents-gst), f)
		row(pick(r, "Total GST @6%:", "GST 6%"), cents(gst), f)
		row("Rounding", "0.00", f)
		row(pick(r, "Total (Inclusive of GST):", "TOTAL AMOUNT", "Grand Total"), cents(v.cents), fb)
		paid := (v.cents/1000 + 1) * 1000
		row("CASH", cents(paid), f)
		row("CHANGE", cents(paid-v.cents), f)
		line("THANK YOU. PLEASE COME AGAIN", 2)
	}
	c.y += lh
	return crop(img, c.y)
}

func crop(g *image.Gray, h int) *image.Gray {
	return g.SubImage(image.Rect(0, 0, g.Rect.Dx(), min(h, g.Rect.Dy()))).(*image.Gray)
}

// photograph places the document on a background, rotates it, darkens one
// side, blurs and adds noise: a phone photo of the paper or screen.
func photograph(doc *image.Gray, r *rand.Rand, blur float64) image.Image {
	scale := 0.9 + r.Float64()*0.8
	d := imaging.Resize(doc, int(float64(doc.Rect.Dx())*scale), 0, imaging.Linear)
	angle := (r.Float64()*2 - 1) * 10
	bg := color.NRGBA{uint8(60 + r.IntN(60)), uint8(50 + r.IntN(50)), uint8(40 + r.IntN(40)), 255}
	d = imaging.Rotate(d, angle, bg)
	pad := d.Bounds().Dx() / 8
	canvasImg := imaging.New(d.Bounds().Dx()+2*pad, d.Bounds().Dy()+2*pad, bg)
	canvasImg = imaging.Paste(canvasImg, d, image.Pt(pad, pad))
	if blur == 0 {
		blur = r.Float64() * 0.8
	}
	if blur > 0.05 {
		canvasImg = imaging.Blur(canvasImg, blur)
	}
	// Light falling off towards one side, and sensor noise.
	b := canvasImg.Bounds()
	lightAngle := r.Float64() * 2 * math.Pi
	lmin := 0.7 + r.Float64()*0.2
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			t := (math.Cos(lightAngle)*float64(x)/float64(b.Dx()) + math.Sin(lightAngle)*float64(y)/float64(b.Dy()) + 1) / 2
			k := lmin + (1-lmin)*t
			i := y*canvasImg.Stride + 4*x
			n := r.NormFloat64() * 6
			for ch := 0; ch < 3; ch++ {
				canvasImg.Pix[i+ch] = uint8(math.Max(0, math.Min(255, float64(canvasImg.Pix[i+ch])*k+n)))
			}
		}
	}
	return canvasImg
}
