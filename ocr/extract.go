package ocr

import (
	"image"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Lima is Peru's time zone: UTC−5 all year (no daylight saving since 1994).
var Lima = time.FixedZone("PET", -5*3600)

// Fields are what a voucher says. Zero values mean "not read".
type Fields struct {
	CIP         string    `json:"cip,omitempty"`
	Operation   string    `json:"operation,omitempty"`
	AmountCents int64     `json:"-"`
	HasAmount   bool      `json:"-"`
	Currency    string    `json:"currency,omitempty"` // PEN or USD
	PaidAt      time.Time `json:"-"`                  // in Lima time
	TimeShown   string    `json:"-"`                  // "second", "minute" or "" (date only)
}

// Amount renders the amount as "1249.00", or "" when none was read.
func (f Fields) Amount() string {
	if !f.HasAmount {
		return ""
	}
	return FormatCents(f.AmountCents)
}

// FormatCents renders integer cents as a decimal string with two places.
func FormatCents(c int64) string {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	return sign + strconv.FormatInt(c/100, 10) + "." + pad2(int(c%100))
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// Result is everything read from one voucher image.
type Result struct {
	Fields     Fields
	Confidence map[string]float64         // per field name ("cip", "amount", …), 0–1
	Boxes      map[string]image.Rectangle // where each field's value was read, in Prep.Image pixels
	Quality    []string                   // reasons a buyer can act on: blurry, too_dark, too_small, no_document, unreadable
	Words      []Word
	Prep       *Prepared
	Upload     image.Image // the decoded, oriented upload (for forensics)
	Size       image.Point // the oriented upload's width and height: the frame of Prep.ToUpload, as a viewer shows the file
	// Asides are values printed besides the fields that the fields must
	// agree with: "total" and "fee" when the amount was read beside its own
	// label (TOTAL = Importe + Comisión on agent tickets), "printed_at",
	// the ticket's print stamp, and "weekday", the day named before the
	// payment date. Forensics checks them (fraud.CrossCheck).
	Asides  map[string]Aside
	Format  string
	Elapsed time.Duration

	orphans map[string]image.Rectangle // key field not read → the box of its label, found without a value
	basis   map[string]float64         // cip, operation, paid_at: the share of the confidence that is how the value was found (its pairing), not how it was read
	label   map[string]labelRank       // how specific the label each field's value was paired with is (absent: found without a label)
	// dateAlone: paid_at is a receipt's date found without a payment
	// label (its one date, its issue date), which a reading holding a CIP
	// does not keep (dropGuesses).
	dateAlone bool
}

// labelRank is how surely a label names a field's value: its priority
// among the field's labels, and whether it sits beside the value (on its
// row) rather than above or below it.
type labelRank struct {
	prio   int
	beside bool
}

// over reports whether a names its value more surely than b: by a more
// specific label, placed as closely.
func (a labelRank) over(b labelRank) bool {
	return a.prio > b.prio && (a.beside || !b.beside)
}

// Aside is one value printed besides the fields, as read.
type Aside struct {
	Cents    int64     `json:"cents,omitempty"`    // money, in cents
	Currency string    `json:"currency,omitempty"` // money: PEN, USD or "" (not printed)
	At       time.Time `json:"at,omitempty"`       // a stamp, in Lima time
	HasTime  bool      `json:"has_time,omitempty"` // the stamp shows a time of day
	// Weekday is the day named before the payment date (key "weekday";
	// At is then that date as read, Conf the weaker of the two readings).
	Weekday time.Weekday    `json:"weekday,omitempty"`
	Box     image.Rectangle `json:"-"` // where it was read, in Prep.Image pixels
	Conf    float64         `json:"confidence"`
}

// aside records the value paired with label l, read with confidence conf.
func (r *Result) aside(k string, l *item, conf float64) {
	v := l.pair
	a := Aside{Cents: v.cents, Currency: v.currency, Conf: v.conf * conf, Box: v.box}
	if v.kind == kDate {
		a = Aside{At: v.date, HasTime: v.hasTime, Conf: v.conf * conf, Box: v.box}
	}
	r.setAside(k, a, true)
}

// item is a label or a typed value found on one OCR line.
type item struct {
	label bool
	kind  kind
	role  role
	prio  int
	box   image.Rectangle
	conf  float64
	line  int
	// values
	text      string
	cents     int64
	currency  string
	whole     bool      // money without cents ("S/ 150"): only taken beside an amount label
	date      time.Time // date part (and time when hasTime)
	hasDate   bool
	hasTime   bool
	secs      bool
	timeOfDay int // seconds since midnight for kTime
	// a weekday named before the date, as read
	weekday     time.Weekday
	hasWeekday  bool
	weekdayConf float64
	weekdayBox  image.Rectangle
	// alignment
	pair    *item
	pairDY  float64
	claimed bool
}

func (it *item) cy() float64 { return float64(it.box.Min.Y+it.box.Max.Y) / 2 }

// tok is one normalised word-piece of a line, for label matching.
type tok struct {
	s     string
	words []int // indexes into the line's words
}

type line struct {
	words  []Word
	text   string // words joined by spaces, after numeric repair
	points []int  // where text holds a decimal point OCR lost (lostPoint)
	spans  [][2]int
}

// reGluedMeridian is a time read as one word with its meridian
// ("06:42pm", "6:42p.m.").
var reGluedMeridian = regexp.MustCompile(`(?i)^(\d{1,2}[:.]\d{2}(?:[:.]\d{2})?)([ap]\.?\s?m\.?)$`)

// splitMeridian parts a time glued to its meridian into two words, the
// box divided by characters, as a time printed "06:42 p.m." reads.
func splitMeridian(words []Word) []Word {
	var out []Word // nil until a word is split
	for i, w := range words {
		m := reGluedMeridian.FindStringSubmatch(w.Text)
		if m == nil {
			if out != nil {
				out = append(out, w)
			}
			continue
		}
		if out == nil {
			out = append(make([]Word, 0, len(words)+1), words[:i]...)
		}
		cut := w.Box.Min.X + w.Box.Dx()*len(m[1])/len(w.Text)
		t, ap := w, w
		t.Text, t.Box.Max.X = m[1], cut
		ap.Text, ap.Box.Min.X = m[2], cut+1
		out = append(out, t, ap)
	}
	if out == nil {
		return words
	}
	return out
}

// buildLines groups words into lines by geometry: a word joins the line
// whose last word ends just left of it at the same height. Tesseract's own
// line ids are not used: sparse-text mode gives every word its own.
func buildLines(words []Word) []line {
	ws := append([]Word(nil), words...)
	sort.SliceStable(ws, func(a, b int) bool { return ws[a].Box.Min.X < ws[b].Box.Min.X })
	var lines []line
	for _, w := range ws {
		h := float64(w.Box.Dy())
		cy := float64(w.Box.Min.Y+w.Box.Max.Y) / 2
		best, bestD := -1, math.Inf(1)
		for i := range lines {
			last := lines[i].words[len(lines[i].words)-1]
			lh := float64(last.Box.Dy())
			lcy := float64(last.Box.Min.Y+last.Box.Max.Y) / 2
			gap := float64(w.Box.Min.X - last.Box.Max.X)
			dy := math.Abs(cy - lcy)
			// A word may overlap the last one when Tesseract drew that
			// one's box too wide ("05/09/2025" spanning the time after
			// it); it still follows it if it starts well to its right.
			after := float64(w.Box.Min.X-last.Box.Min.X) > 0.5*lh
			if (gap < -0.3*h && !after) || gap > 2.5*math.Max(h, lh) || dy > 0.45*math.Max(h, lh) {
				continue
			}
			if d := dy + gap/10; d < bestD {
				best, bestD = i, d
			}
		}
		if best < 0 {
			lines = append(lines, line{})
			best = len(lines) - 1
		}
		lines[best].words = append(lines[best].words, w)
	}
	for i := range lines {
		l := &lines[i]
		// A box Tesseract drew too wide ("CIP:" reaching over the value
		// after it, in a narrow face held askew) ends where the next word
		// begins: a label must not cover its value. Not for a mark ("|",
		// the paper's edge read inside a value's box) or a lone letter.
		for j := 1; j < len(l.words); j++ {
			prev, next := &l.words[j-1].Box, l.words[j]
			if prev.Max.X > next.Box.Min.X && next.Box.Min.X > prev.Min.X && alnumCount(next.Text) >= 1 && len([]rune(next.Text)) >= 2 {
				prev.Max.X = next.Box.Min.X
			}
		}
		var sb strings.Builder
		n := 0
		for j, w := range l.words {
			if j > 0 {
				if lostPoint(l.words, j) {
					l.points = append(l.points, n)
					sb.WriteByte('.')
				} else {
					sb.WriteByte(' ')
				}
				n++
			}
			t := repairNumeric(w.Text)
			l.spans = append(l.spans, [2]int{n, n + len([]rune(t))})
			sb.WriteString(t)
			n += len([]rune(t))
		}
		l.text = sb.String()
	}
	sort.SliceStable(lines, func(a, b int) bool { return lines[a].words[0].Box.Min.Y < lines[b].words[0].Box.Min.Y })
	return lines
}

// lostPoint reports whether words[j], the line's last word, is the cents
// of a price whose decimal point OCR lost ("659" "00", a monospaced
// receipt's point read as nothing): two digits, close after a number of
// one to four digits (a longer one is more likely a code OCR split,
// "116430" "71") that does not begin with a zero (a time or date that
// lost its colon or slash: "08 30") and follows no other number (a phone
// number, "311 98 98").
func lostPoint(words []Word, j int) bool {
	if j != len(words)-1 || j < 1 {
		return false
	}
	whole, cents := repairNumeric(words[j-1].Text), repairNumeric(words[j].Text)
	if len(cents) != 2 || !allDigits(cents) || len(whole) > 4 || !allDigits(whole) || (whole[0] == '0' && len(whole) > 1) {
		return false
	}
	if j >= 2 && allDigits(strings.Trim(repairNumeric(words[j-2].Text), ".,")) {
		return false
	}
	h := float64(max(words[j-1].Box.Dy(), words[j].Box.Dy()))
	gap := float64(words[j].Box.Min.X - words[j-1].Box.Max.X)
	return gap > 0 && gap < 1.2*h
}

// lostPointConf weighs an amount read across a decimal point OCR lost.
const lostPointConf = 0.7

// alnumCount is the number of letters and digits in s.
func alnumCount(s string) int {
	n := 0
	for _, c := range s {
		if unicode.IsLetter(c) || unicode.IsDigit(c) {
			n++
		}
	}
	return n
}

// repairNumeric fixes common OCR confusions inside tokens that are mostly
// digits: O→0, l/I/|→1, S→5, B→8, Z→2, keeping currency prefixes intact.
func repairNumeric(w string) string {
	prefix := ""
	lw := strings.ToLower(w)
	for _, p := range []string{"s/.", "s/", "us$", "$"} {
		if strings.HasPrefix(lw, p) && len(w) > len(p) {
			prefix, w = w[:len(p)], w[len(p):]
			break
		}
	}
	// Repair only words made of digits and digit look-alikes, with at least
	// one real digit: "5O9l2277", "3.OO"; never "CIP" or "Operación".
	digits, alnum := 0, 0
	for _, r := range w {
		switch {
		case unicode.IsDigit(r):
			digits++
			alnum++
		case strings.ContainsRune("OoDQliI|!SsBZzG", r):
			alnum++
		case unicode.IsLetter(r):
			return prefix + w
		}
	}
	if digits == 0 || alnum < 2 {
		return prefix + w
	}
	// A word that begins with a letter and holds more look-alikes than
	// digits is a word OCR misread a letter of ("GO0OODS" for GOODS), not
	// a number: repaired, it was a 7-digit CIP.
	if first, _ := utf8.DecodeRuneInString(w); alnum >= 6 && 2*digits < alnum && unicode.IsLetter(first) {
		return prefix + w
	}
	var sb strings.Builder
	for _, r := range w {
		switch r {
		case 'O', 'o', 'D', 'Q':
			r = '0'
		case 'l', 'I', '|', 'i', '!':
			r = '1'
		case 'S', 's':
			r = '5'
		case 'B':
			r = '8'
		case 'Z', 'z':
			r = '2'
		case 'G':
			r = '6'
		}
		sb.WriteRune(r)
	}
	return prefix + sb.String()
}

// foldRune maps a rune to lower-case ASCII one-for-one, so byte offsets in
// the folded string equal rune offsets in the original.
func foldRune(r rune) byte {
	switch r {
	case 'á', 'à', 'â', 'ä', 'Á', 'À', 'Â', 'Ä':
		return 'a'
	case 'é', 'è', 'ê', 'ë', 'É', 'È', 'Ê', 'Ë':
		return 'e'
	case 'í', 'ì', 'î', 'ï', 'Í', 'Ì', 'Î', 'Ï':
		return 'i'
	case 'ó', 'ò', 'ô', 'ö', 'Ó', 'Ò', 'Ô', 'Ö':
		return 'o'
	case 'ú', 'ù', 'û', 'ü', 'Ú', 'Ù', 'Û', 'Ü':
		return 'u'
	case 'ñ', 'Ñ':
		return 'n'
	case '°', 'º':
		return 'o'
	case '’', '‘', '´', '`':
		return '\''
	}
	if r < 128 {
		return byte(unicode.ToLower(r))
	}
	return '?'
}

func fold(s string) string {
	rs := []rune(s)
	b := make([]byte, len(rs))
	for i, r := range rs {
		b[i] = foldRune(r)
	}
	return string(b)
}

var (
	monthNames = map[string]int{"ene": 1, "feb": 2, "mar": 3, "abr": 4, "may": 5, "jun": 6, "jul": 7, "ago": 8,
		"set": 9, "sep": 9, "oct": 10, "nov": 11, "dic": 12, "jan": 1, "apr": 4, "aug": 8, "dec": 12}
	timePat = `(\d{1,2})\s?[:;]\s?(\d{2})(?:\s?[:;]\s?(\d{2}))?(?:\s*(a\.?\s?m\.?|p\.?\s?m\.?))?`
	// After a date, a time's colons may read as a dash, a dot or a space
	// ("05/09/2025 13-01 33"): the position makes it a time.
	// An hour suffix may be glued to the time ("18:42h", "18:42:07hrs").
	datedTimePat = `(\d{1,2})\s?(?:[:;.\-]|h)\s?(\d{2})(?:h|hs|hrs?)?\b(?:(?:\s?[:;.\-]\s?|\s)(\d{2})(?:h|hs|hrs?)?\b)?(?:\s*(a\.?\s?m\.?|p\.?\s?m\.?))?`
	sepPat       = `(?:\s*(?:[-,|]|a las|hora:?|hrs?:?)?\s*)`
	reDMY        = regexp.MustCompile(`\b(\d{1,2})\s?[/\-.]\s?(\d{1,2})\s?[/\-.]\s?(\d{4}|\d{2})\b(?:` + sepPat + datedTimePat + `)?`)
	reYMD        = regexp.MustCompile(`\b(\d{4})[/\-.](\d{1,2})[/\-.](\d{1,2})\b(?:` + sepPat + datedTimePat + `)?`)
	reTxt        = regexp.MustCompile(`\b(\d{1,2})(?:\s*de\s+|\s*[/\-]\s*|\s*)(ene|feb|mar|abr|may|jun|jul|ago|sep|set|oct|nov|dic|jan|apr|aug|dec)[a-z]*\.?,?(?:\s*[/\-]\s*|\s*(?:de\s+|del\s+)?)(\d{4})\b(?:` + sepPat + datedTimePat + `)?`)
	// "21NOV26", "21-nov-26": a two-digit year only right after the month,
	// so "21 nov 18:42" never reads as 2018.
	reTxtShort = regexp.MustCompile(`\b(\d{1,2})(?:\s*[/\-]\s*)?(ene|feb|mar|abr|may|jun|jul|ago|sep|set|oct|nov|dic|jan|apr|aug|dec)\.?(?:[/\-])?(\d{2})\b(?:` + sepPat + datedTimePat + `)?`)
	reTxtMDY   = regexp.MustCompile(`\b(ene|feb|mar|abr|may|jun|jul|ago|sep|set|oct|nov|dic|jan|apr|aug|dec)[a-z]*\.?\s*(\d{1,2}),?\s*(\d{4})\b(?:` + sepPat + datedTimePat + `)?`)
	reISOT     = regexp.MustCompile(`(\d)t(\d)`) // "2026-11-21t18:05:07": the T of ISO 8601
	reTime     = regexp.MustCompile(`\b` + timePat)
	reMoney    = regexp.MustCompile(`(?:(s/\s?\.?|s/,|5/\.?|s1\.?|si\.?|sl\.?|\$/\.?|pen|usd|us\s?\$|\$|soles|dolares|rm|myr)\s*)?(\d{1,3}(?:[,.']\d{3})+[.,]\d{2}|\d+[.,]\d{2})\b`)
	// reMoneySuffix is a currency named after the amount ("75.50 dolares").
	reMoneySuffix = regexp.MustCompile(`^\s*(soles|pen|dolares|usd|us\$)\b`)
	reSpacedMoney = regexp.MustCompile(`(s/\s?\.?|s/,|5/\.?|\$/\.?|pen|usd|us\s?\$|\$)\s*(\d{1,3}(?: \d{3})+[.,]\d{2})\b`)
	reWholeMoney  = regexp.MustCompile(`(s/\s?\.?|s/,|\$/\.?|pen|usd|us\s?\$|\$)\s*(\d{1,3}(?:,\d{3})+|\d{1,6})\b`)
	reNumber      = regexp.MustCompile(`\b\d{5,14}\b`)
	// A weekday named just before a date ("lunes, 13 de julio de 2026",
	// "sáb. 21/11/2026"): checked against the date (fraud.CrossCheck).
	reWeekday = regexp.MustCompile(`\b(lunes|martes|miercoles|jueves|viernes|sabado|domingo|lun|mar|mie|jue|vie|sab|dom)\.?,?\s*$`)
	weekdays  = map[string]time.Weekday{"domingo": time.Sunday, "lunes": time.Monday, "martes": time.Tuesday, "miercoles": time.Wednesday,
		"jueves": time.Thursday, "viernes": time.Friday, "sabado": time.Saturday}
)

// weekdayOf returns the weekday named by a full or three-letter Spanish
// name (reWeekday matched it, so one of weekdays begins with it).
func weekdayOf(name string) time.Weekday {
	for full, d := range weekdays {
		if strings.HasPrefix(full, name) {
			return d
		}
	}
	return 0
}

// reDigitMonth is a month's abbreviation between a date's digits with a
// letter read as the digit it resembles ("08 0CT 2026", "05AG02026": a
// monospaced O is a 0 to Tesseract beside digits).
var reDigitMonth = regexp.MustCompile(`\d[ /\-]?(0ct|ag0|n0v|5ep|5et|d1c|dlc|fe8|a8r)\.?[ /\-]?\d`)

// digitMonths maps each misread abbreviation to its month.
var digitMonths = map[string]string{"0ct": "oct", "ag0": "ago", "n0v": "nov", "5ep": "sep", "5et": "set",
	"d1c": "dic", "dlc": "dic", "fe8": "feb", "a8r": "abr"}

// repairMonths spells the misread months of low's dates (reDigitMonth) as
// months, keeping its length so that spans stay.
func repairMonths(low string) string {
	return reDigitMonth.ReplaceAllStringFunc(low, func(m string) string {
		for bad, good := range digitMonths {
			if i := strings.Index(m, bad); i >= 0 {
				return m[:i] + good + m[i+len(bad):]
			}
		}
		return m
	})
}

// lineItems finds the labels and typed values of one line.
func lineItems(l line, li int) []*item {
	var out []*item
	low := reISOT.ReplaceAllString(fold(l.text), "$1 $2") // same length: spans stay
	low = repairMonths(low)
	taken := make([]bool, len(low))
	boxOf := func(a, b int) (image.Rectangle, float64) {
		var r image.Rectangle
		conf, n := 0.0, 0
		for i, sp := range l.spans {
			if sp[1] > a && sp[0] < b {
				// Only the characters of the word inside [a, b): a label
				// glued to its value ("IMPORTE......S/") ends where its
				// letters end, so the value still sits to its right.
				wb := l.words[i].Box
				if k := sp[1] - sp[0]; k > 0 && (a > sp[0] || b < sp[1]) {
					x0 := wb.Min.X + wb.Dx()*(max(a, sp[0])-sp[0])/k
					x1 := wb.Min.X + wb.Dx()*(min(b, sp[1])-sp[0])/k
					wb.Min.X, wb.Max.X = x0, max(x1, x0+1)
				}
				r = r.Union(wb)
				conf += l.words[i].Conf
				n++
			}
		}
		if n == 0 {
			return r, 0
		}
		return r, conf / float64(n)
	}
	add := func(a, b int, it *item) {
		for i := a; i < b; i++ {
			taken[i] = true
		}
		it.box, it.conf = boxOf(a, b)
		it.line = li
		it.text = strings.TrimSpace(string([]rune(l.text)[a:b]))
		out = append(out, it)
	}
	free := func(a, b int) bool {
		for i := a; i < b; i++ {
			if taken[i] {
				return false
			}
		}
		return true
	}
	// Dates (with an optional time), textual dates, then times alone.
	dateAt := map[int]*item{} // dates without a time, by where they start
	for _, re := range []*regexp.Regexp{reTxt, reTxtShort, reTxtMDY, reDMY, reYMD} {
		for _, d := range findDates(re, low) {
			m, it := d.m, d.it
			if !free(m[0], m[1]) {
				continue
			}
			add(m[0], m[1], it)
			if !it.hasTime {
				dateAt[m[0]] = it
			}
			if w := reWeekday.FindStringSubmatchIndex(low[:m[0]]); w != nil && free(w[0], m[0]) {
				it.weekday = weekdayOf(low[w[2]:w[3]])
				it.hasWeekday = true
				it.weekdayBox, it.weekdayConf = boxOf(w[2], w[3])
			}
		}
	}
	for _, m := range reTime.FindAllStringSubmatchIndex(low, -1) {
		if !free(m[0], m[1]) {
			continue
		}
		it, ok := parseTimeMatch(low, m, 1)
		if !ok {
			continue
		}
		// A time printed just before a date ("18:42 21/11/2026",
		// "18:42 - 21/11/2026") is that date's time.
		gap := len(low[m[1]:]) - len(strings.TrimLeft(low[m[1]:], " -,|"))
		if d := dateAt[m[1]+gap]; d != nil && gap > 0 && gap <= 3 {
			d.date = d.date.Add(time.Duration(it.tod) * time.Second)
			d.hasTime, d.secs = true, it.secs
			tb, tc := boxOf(m[0], m[1])
			d.box, d.conf = d.box.Union(tb), (d.conf+tc)/2
			for i := m[0]; i < m[1]; i++ {
				taken[i] = true
			}
			continue
		}
		add(m[0], m[1], &item{kind: kTime, timeOfDay: it.tod, hasTime: true, secs: it.secs})
	}
	// "S/ 1 249.00": a thousands comma lost (or a space printed) between
	// digit groups; only after a currency sign, where "2 100.00" cannot be
	// a quantity and a price.
	for _, m := range reSpacedMoney.FindAllStringSubmatchIndex(low, -1) {
		if !free(m[0], m[1]) {
			continue
		}
		cents, ok := parseCents(strings.ReplaceAll(low[m[4]:m[5]], " ", ""))
		if !ok {
			continue
		}
		it := &item{kind: kMoney, cents: cents, currency: currencyOf(low[m[2]:m[3]])}
		add(m[0], m[1], it)
		_, it.conf = boxOf(m[4], m[5])
	}
	for _, m := range reMoney.FindAllStringSubmatchIndex(low, -1) {
		if !free(m[0], m[1]) {
			continue
		}
		cur := ""
		if m[2] >= 0 {
			cur = currencyOf(low[m[2]:m[3]])
		} else if sm := reMoneySuffix.FindStringSubmatch(low[m[1]:]); sm != nil {
			cur = currencyOf(sm[1])
		}
		cents, ok := parseCents(low[m[4]:m[5]])
		if !ok {
			continue
		}
		// A bare decimal glued to letters (a version, a masked account) is not money.
		if m[2] < 0 && cur == "" && m[4] > 0 && unicode.IsLetter(rune(low[m[4]-1])) {
			continue
		}
		it := &item{kind: kMoney, cents: cents, currency: cur}
		add(m[0], m[1], it)
		// The amount is as sure as its digits: Tesseract gives a bare "S/"
		// a low confidence even when it reads it right.
		_, it.conf = boxOf(m[4], m[5])
		for _, p := range l.points {
			if p >= m[4] && p < m[5] {
				it.conf *= lostPointConf
			}
		}
	}
	// "S/ 150": a whole amount after a currency sign. Less sure than one
	// with cents: OCR may have lost the point of "1.50". Not "S/ 45.5".
	for _, m := range reWholeMoney.FindAllStringSubmatchIndex(low, -1) {
		if !free(m[0], m[1]) || (m[1]+1 < len(low) && strings.ContainsRune(".,", rune(low[m[1]])) && unicode.IsDigit(rune(low[m[1]+1]))) {
			continue
		}
		cents, ok := parseCents(strings.ReplaceAll(low[m[4]:m[5]], ",", "") + ".00")
		if !ok {
			continue
		}
		it := &item{kind: kMoney, cents: cents, currency: currencyOf(low[m[2]:m[3]]), whole: true}
		add(m[0], m[1], it)
		_, c := boxOf(m[4], m[5])
		it.conf = c * 0.75
	}
	for _, m := range reNumber.FindAllStringIndex(low, -1) {
		if !free(m[0], m[1]) {
			continue
		}
		// Digits inside a masked account or phone ("**** 8107", "*8107",
		// "(01) 311-9898") are not codes. A lone mark before a space is a
		// stray one (a colon's dot read as "*", a speck as "-"), not a mask.
		if before := low[max(0, m[0]-3):m[0]]; strings.Contains(before, "**") || strings.HasSuffix(before, "*") ||
			strings.HasSuffix(before, "-") || strings.ContainsAny(low[max(0, m[0]-2):m[0]], ")") {
			continue
		}
		if m[1] < len(low) && strings.ContainsAny(low[m[1]:min(len(low), m[1]+1)], "-*") {
			continue
		}
		// The number of a receipt's series, its dash read apart from it
		// ("B004- 31245247"): a dash glued to letters or digits before it.
		if k := len(strings.TrimRight(low[:m[0]], " ")); k >= 2 && k < m[0] && low[k-1] == '-' && isAlnum(low[k-2]) {
			continue
		}
		add(m[0], m[1], &item{kind: kNum, text: low[m[0]:m[1]]})
	}
	// Labels: longest dictionary phrase at each token, on the free text.
	// A phrase may also be one token, its words run together ("CODIGOCIP:"
	// where a narrow font's word gap is lost).
	// Of phrases as long, the one read with fewer edits: "EMISION" is
	// the label, not a Comisión two edits away.
	toks := tokens(low, taken)
	for i := 0; i < len(toks); {
		best, bestWords, bestN, bestEdits := -1, 0, 0, 0
		for di, ph := range labelPhrases {
			ws := ph.words
			if len(ws) < bestWords {
				continue
			}
			if i+len(ws) <= len(toks) && similarAll(toks[i:i+len(ws)], ws) && onePhrase(toks[i:i+len(ws)], taken) {
				if e := editsAll(toks[i:i+len(ws)], ws); len(ws) > bestWords || e < bestEdits {
					best, bestWords, bestN, bestEdits = di, len(ws), len(ws), e
				}
			} else if len(ws) > 1 && len(ws) > bestWords && len(ph.joined) >= 6 && runTogether(toks[i].s, ph.joined) {
				best, bestWords, bestN, bestEdits = di, len(ws), 1, lev(strings.TrimSuffix(toks[i].s, ":"), ph.joined)
			}
		}
		if best < 0 {
			// An unknown "Something:" label still takes part in alignment.
			if strings.HasSuffix(toks[i].s, ":") && len(toks[i].s) > 3 {
				a, b := toks[i].span()
				add(a, b, &item{label: true, kind: kAny, role: rNone})
			}
			i++
			continue
		}
		d := labelDefs[best]
		if bestWords == 1 && complement(toks, i, taken) && d.role == rOperation {
			// "Constancia de operación", "Tipo de operación": a title or
			// another field's name, whose value is no operation number.
			i++
			continue
		}
		a, _ := toks[i].span()
		_, b := toks[i+bestN-1].span()
		add(a, b, &item{label: true, kind: d.kind, role: d.role, prio: d.prio})
		i += bestN
	}
	return out
}

// itemColumns are the words that head a receipt's item table besides its
// money column ("Description  Qty  Price  Total", "Cant. Descripción
// P.Unit Importe", "GST Summary  Amount(RM)  Tax(RM)").
var itemColumns = map[string]bool{
	"qty": true, "quantity": true, "cant": true, "cantidad": true, "price": true, "precio": true,
	"description": true, "desc": true, "descripcion": true, "item": true, "items": true,
	"articulo": true, "producto": true, "disc": true, "unit": true, "unitario": true,
	"summary": true, "uom": true, "punit": true, "tax": true, "gst": true, "igv": true,
}

// columnHeaders turns the labels of an item table's header row into
// text: a row that holds no value and, beside a money label ("Total",
// "Amount", "Importe"), names an item column. Such a label heads the
// prices (or the item codes: "CODE/DESC") under it, none of which is the
// payment's. A voucher's own header row ("CIP  Monto  Fecha" over one row
// of values) names no item column and keeps its labels.
func columnHeaders(words []Word, labels, values []*item, rowH float64) {
	onRow := func(cy, y float64) bool { return math.Abs(cy-y) < rowH*0.4 }
	var heads []*item
	for _, l := range labels {
		if l.kind != kMoney {
			continue
		}
		cy, valued, named := l.cy(), false, false
		for _, v := range values {
			valued = valued || onRow(v.cy(), cy)
		}
		for _, w := range words {
			if !onRow(float64(w.Box.Min.Y+w.Box.Max.Y)/2, cy) {
				continue
			}
			for _, piece := range strings.FieldsFunc(fold(w.Text), func(r rune) bool { return r < 'a' || r > 'z' }) {
				named = named || itemColumns[piece]
			}
		}
		if named && !valued {
			heads = append(heads, l)
		}
	}
	for _, h := range heads {
		for _, l := range labels {
			if onRow(l.cy(), h.cy()) {
				l.kind, l.role, l.prio = kText, rNone, 0
			}
		}
	}
}

// digitLetter is the letter a digit stands for inside a word.
var digitLetter = [256]byte{'0': 'o', '1': 'i', '5': 's', '8': 'b'}

type ltok struct {
	s    string
	a, b int
}

func (t ltok) span() (int, int) { return t.a, t.b }

// tokens splits the folded line into alphabetic word pieces outside taken
// spans. A trailing ':' is kept on the piece so unknown labels can be seen.
// A digit or two that looks like a letter, between letters, is read as
// that letter: a blurred "COMISION" reads "COMIS10N", which would
// otherwise split into pieces no label matches.
func tokens(low string, taken []bool) []ltok {
	var out []ltok
	letter := func(j int) bool { return !taken[j] && ((low[j] >= 'a' && low[j] <= 'z') || low[j] == '?') }
	i := 0
	for i < len(low) {
		c := low[i]
		if taken[i] || !(c >= 'a' && c <= 'z') {
			i++
			continue
		}
		j := i
		glued := false
		for j < len(low) {
			if letter(j) {
				j++
				continue
			}
			k := j
			for k < len(low) && k-j < 2 && !taken[k] && digitLetter[low[k]] != 0 {
				k++
			}
			if k == j || k >= len(low) || !letter(k) {
				break
			}
			j, glued = k, true
		}
		s := low[i:j]
		if glued {
			b := []byte(s)
			for n, ch := range b {
				if l := digitLetter[ch]; l != 0 {
					b[n] = l
				}
			}
			s = string(b)
		}
		k := j
		for k < len(low) && (low[k] == '.' || low[k] == ' ') && k-j < 2 {
			k++
		}
		if k < len(low) && low[k] == ':' {
			s += ":"
		}
		out = append(out, ltok{s: s, a: i, b: j})
		i = j
	}
	return out
}

// runTogether reports whether token t is phrase joined with its word gaps
// lost ("CODIGOCIP:"): similar, and with no letter fewer. A word the
// phrase holds, alone, is not the phrase: "Operación" is no "N
// operación", "Pagado" no "Pagado el".
func runTogether(t, joined string) bool {
	return len(strings.TrimSuffix(t, ":")) >= len(joined) && similar(t, joined)
}

// complement reports whether toks[i] follows a noun and "de" or "del" in
// the same phrase: a word naming what another noun is of ("Constancia de
// operación"). The labels that hold such a word whole ("Número de
// operación") were matched as phrases before it.
func complement(toks []ltok, i int, taken []bool) bool {
	if i < 2 || !onePhrase(toks[i-2:i+1], taken) {
		return false
	}
	if p := toks[i-1].s; p != "de" && p != "del" {
		return false
	}
	// The noun before it names something other than a number ("N.º de
	// operación", "ID de operación", a misread "Nurnero de operación"
	// are labels).
	noun := toks[i-2].s
	if len(noun) < 5 {
		return false
	}
	for _, w := range []string{"numero", "codigo", "identificador", "referencia"} {
		if lev(noun, w) <= 2 {
			return false
		}
	}
	return true
}

// onePhrase reports whether ts can be the words of one label: none but
// the last ends in a colon and no value lies between two of them ("FECHA :
// 21/11/2026 HORA : 18:42" holds the labels Fecha and Hora, not "Fecha
// Hora").
func onePhrase(ts []ltok, taken []bool) bool {
	for k := 0; k+1 < len(ts); k++ {
		if strings.HasSuffix(ts[k].s, ":") {
			return false
		}
		for j := ts[k].b; j < ts[k+1].a; j++ {
			if taken[j] {
				return false
			}
		}
	}
	return true
}

// similar reports whether OCR'd token t matches label word w, allowing one
// edit in words of five letters or more and two in words of eight or more.
// similarAll reports whether each token matches the label word in its place.
func similarAll(ts []ltok, ws []string) bool {
	for k, w := range ws {
		if !similar(ts[k].s, w) {
			return false
		}
	}
	return true
}

// editsAll is how many edits make the tokens ts the label words ws.
func editsAll(ts []ltok, ws []string) int {
	n := 0
	for k, w := range ws {
		n += lev(strings.TrimSuffix(ts[k].s, ":"), w)
	}
	return n
}

func similar(t, w string) bool {
	t = strings.TrimSuffix(t, ":")
	if t == w {
		return true
	}
	if len(w) < 5 {
		return false
	}
	d := lev(t, w)
	return d <= 1 || (len(w) >= 8 && d <= 2)
}

func lev(a, b string) int {
	if abs(len(a)-len(b)) > 2 {
		return 3
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// currencyOf names the currency of a matched sign ("s/.", "us$", "pen"…).
func currencyOf(sign string) string {
	switch c := strings.ReplaceAll(sign, " ", ""); {
	case strings.HasPrefix(c, "us"), c == "usd", c == "$", c == "dolares", c == "dolar":
		return "USD"
	case c == "rm", c == "myr":
		// A shop receipt's ringgit ("RM12.50"), read so that its digits
		// glued to the sign are money; no currency a voucher is paid in,
		// so the page's is inferred.
		return ""
	}
	return "PEN"
}

// parseCents reads "1,249.00", "149.90", "1.249,00" or "149,90" as cents.
func parseCents(s string) (int64, bool) {
	if len(s) < 4 {
		return 0, false
	}
	dec := s[len(s)-2:]
	intPart := strings.NewReplacer(",", "", ".", "", "'", "").Replace(s[:len(s)-3])
	if intPart == "" || len(intPart) > 9 {
		return 0, false
	}
	n, err := strconv.ParseInt(intPart, 10, 64)
	if err != nil {
		return 0, false
	}
	d, err := strconv.ParseInt(dec, 10, 64)
	if err != nil {
		return 0, false
	}
	return n*100 + d, true
}

type tod struct {
	tod  int
	secs bool
}

// parseTimeMatch reads the time groups starting at submatch group g of m.
func parseTimeMatch(low string, m []int, g int) (tod, bool) {
	if m[2*g] < 0 {
		return tod{}, false
	}
	h, _ := strconv.Atoi(low[m[2*g]:m[2*g+1]])
	mi, _ := strconv.Atoi(low[m[2*g+2]:m[2*g+3]])
	s, secs := 0, false
	if m[2*g+4] >= 0 {
		s, _ = strconv.Atoi(low[m[2*g+4]:m[2*g+5]])
		secs = true
	}
	if m[2*g+6] >= 0 {
		ap := strings.NewReplacer(".", "", " ", "").Replace(low[m[2*g+6]:m[2*g+7]])
		if h < 1 || h > 12 {
			return tod{}, false
		}
		if ap == "pm" && h != 12 {
			h += 12
		}
		if ap == "am" && h == 12 {
			h = 0
		}
	}
	if h > 23 || mi > 59 || s > 59 {
		return tod{}, false
	}
	return tod{tod: h*3600 + mi*60 + s, secs: secs}, true
}

// dateMatch is a match of a date pattern and the date it reads.
type dateMatch struct {
	m  []int
	it *item
}

// findDates returns re's matches in low that parse as dates, parsed. A
// match that is no date ("07 - 21/11" of "18:42:07 - 21/11/2026", day 7 of
// month 21) must not hide one that starts inside it, so the search resumes
// at the next character after a rejected match rather than after its end.
func findDates(re *regexp.Regexp, low string) []dateMatch {
	var out []dateMatch
	for pos := 0; pos < len(low); {
		m := re.FindStringSubmatchIndex(low[pos:])
		if m == nil {
			break
		}
		for i := range m {
			if m[i] >= 0 {
				m[i] += pos
			}
		}
		// A match found from inside a word does not start a word.
		if m[0] > 0 && isAlnum(low[m[0]-1]) && isAlnum(low[m[0]]) {
			pos = m[0] + 1
			continue
		}
		if it, ok := parseDate(re, low, m); ok {
			out = append(out, dateMatch{m, it})
			pos = m[1]
			continue
		}
		pos = m[0] + 1
	}
	return out
}

func isAlnum(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'a' && b <= 'z'
}

func parseDate(re *regexp.Regexp, low string, m []int) (*item, bool) {
	get := func(g int) string {
		if m[2*g] < 0 {
			return ""
		}
		return low[m[2*g]:m[2*g+1]]
	}
	var y, mo, d int
	switch re {
	case reDMY:
		d, _ = strconv.Atoi(get(1))
		mo, _ = strconv.Atoi(get(2))
		y, _ = strconv.Atoi(get(3))
		sep1, sep2 := strings.TrimSpace(low[m[3]:m[4]]), strings.TrimSpace(low[m[5]:m[6]])
		if mo > 12 && d <= 12 && y >= 1000 && sep1 == sep2 {
			// No day-first date ("01/15/2019"): a month-first one, as
			// an American receipt prints it, with a four-digit year and
			// one separator ("07 - 21/11" before a date is no date).
			d, mo = mo, d
		}
		if y < 100 {
			y += 2000
		}
	case reYMD:
		y, _ = strconv.Atoi(get(1))
		mo, _ = strconv.Atoi(get(2))
		d, _ = strconv.Atoi(get(3))
	case reTxt:
		d, _ = strconv.Atoi(get(1))
		mo = monthNames[get(2)]
		y, _ = strconv.Atoi(get(3))
	case reTxtShort:
		d, _ = strconv.Atoi(get(1))
		mo = monthNames[get(2)]
		y, _ = strconv.Atoi(get(3))
		y += 2000
	case reTxtMDY:
		mo = monthNames[get(1)]
		d, _ = strconv.Atoi(get(2))
		y, _ = strconv.Atoi(get(3))
	}
	if y < 2000 || y > 2099 || mo < 1 || mo > 12 || d < 1 || d > 31 {
		return nil, false
	}
	t := time.Date(y, time.Month(mo), d, 0, 0, 0, 0, Lima)
	if t.Day() != d {
		return nil, false
	}
	it := &item{kind: kDate, hasDate: true, date: t}
	if tt, ok := parseTimeMatch(low, m, 4); ok {
		it.date = t.Add(time.Duration(tt.tod) * time.Second)
		it.hasTime, it.secs = true, tt.secs
	}
	return it, true
}

func compatible(l, v *item) bool {
	switch l.kind {
	case kAny:
		return true
	case kDate:
		return v.kind == kDate || v.kind == kTime
	case kTime:
		return v.kind == kTime || (v.kind == kDate && v.hasTime)
	case kMoney:
		// No payment is of 0.00: that is a commission waived, a change
		// given, beside the label that lost its own value.
		return v.kind == kMoney && (v.cents > 0 || (l.role != rAmount && l.role != rTotal))
	case kNum:
		return v.kind == kNum
	}
	return false
}

// align pairs labels with values by an order-preserving alignment of the
// two lists sorted top to bottom: type-compatible pairs score, and pairs
// far apart vertically score less. This reads both same-row layouts and
// two-column tickets whose value column is offset by a row or two.
func align(labels, values []*item, rowH float64) {
	n, m := len(labels), len(values)
	if n == 0 || m == 0 {
		return
	}
	score := func(l, v *item) float64 {
		if !compatible(l, v) {
			return math.Inf(-1)
		}
		dy := (v.cy() - l.cy()) / rowH
		if dy < -0.6 || dy > 4.5 {
			return math.Inf(-1)
		}
		sameRow := math.Abs(dy) < 0.6
		if sameRow && v.box.Min.X < l.box.Max.X-int(rowH) {
			return math.Inf(-1) // a value on the row must sit right of its label
		}
		if !sameRow && v.box.Max.X < l.box.Min.X {
			return math.Inf(-1)
		}
		s := 10 - math.Abs(dy)
		if l.kind == kAny {
			s -= 3
		}
		if l.kind == kTime && v.kind == kDate {
			// "Fecha  Hora" over "21/11/2026 18:42:07": the date and time
			// belong to the date label, which a time label must not take.
			s -= 0.5
		}
		return s
	}
	dp := make([][]float64, n+1)
	for i := range dp {
		dp[i] = make([]float64, m+1)
	}
	for i := 1; i <= n; i++ {
		for j := 1; j <= m; j++ {
			best := math.Max(dp[i-1][j], dp[i][j-1])
			if s := score(labels[i-1], values[j-1]); s > 0 {
				best = math.Max(best, dp[i-1][j-1]+s)
			}
			dp[i][j] = best
		}
	}
	for i, j := n, m; i > 0 && j > 0; {
		s := score(labels[i-1], values[j-1])
		switch {
		case s > 0 && dp[i][j] == dp[i-1][j-1]+s:
			labels[i-1].pair, values[j-1].pair = values[j-1], labels[i-1]
			labels[i-1].pairDY = (values[j-1].cy() - labels[i-1].cy()) / rowH
			i, j = i-1, j-1
		case dp[i][j] == dp[i-1][j]:
			i--
		default:
			j--
		}
	}
}

// captions pairs each label left without a value with the value of its
// kind just above it that it is set under: centred on the same axis, or
// starting where it starts, at most a row's height below it. Apps print a
// caption under the value ("S/ 149.90" over "Monto pagado"); align only
// looks down, and may have given that value to a label rows above it
// (the caption of the value before, of the same kind), which then takes
// its own value above it in turn. A value paired with the label right
// above it keeps it. A value read this way counts captionConf of its
// confidence.
func captions(labels, values []*item, rowH float64) {
	for range labels { // each round pairs one caption at least, or stops
		changed := false
		for _, l := range labels {
			if l.pair != nil || l.kind == kAny {
				continue
			}
			var best *item
			for _, v := range values {
				if !compatible(l, v) || (v.pair != nil && v.pair.pairDY <= 1.6) {
					continue
				}
				gap := float64(l.box.Min.Y - v.box.Max.Y)
				if gap < 0 || gap > rowH || (v.cy()-l.cy())/rowH > -0.6 {
					continue
				}
				lc, vc := (l.box.Min.X+l.box.Max.X)/2, (v.box.Min.X+v.box.Max.X)/2
				if abs(lc-vc) > max(l.box.Dx(), v.box.Dx())/3 && float64(abs(l.box.Min.X-v.box.Min.X)) > rowH {
					continue
				}
				if best == nil || v.box.Max.Y > best.box.Max.Y {
					best = v
				}
			}
			if best != nil {
				if old := best.pair; old != nil {
					old.pair, old.pairDY = nil, 0
				}
				l.pair, best.pair = best, l
				l.pairDY = (best.cy() - l.cy()) / rowH
				changed = true
			}
		}
		if !changed {
			return
		}
	}
}

// captionConf: a value paired with the caption under it is taken at this
// fraction of its confidence (a label above or beside its value is the
// common layout; a caption may belong to the row below in a design we
// have not seen).
const captionConf = 0.88

// extract turns OCR words into fields.
func extract(words []Word, bounds image.Rectangle) *Result {
	res := &Result{Confidence: map[string]float64{}, Boxes: map[string]image.Rectangle{}, basis: map[string]float64{}, label: map[string]labelRank{}}
	lines := buildLines(splitMeridian(words))
	var labels, values, texts []*item
	var hs []int
	for _, w := range words {
		hs = append(hs, w.Box.Dy())
	}
	medH := median(hs)
	rowH := math.Max(float64(medH)*1.3, 8)
	docText := strings.Builder{}
	for i, l := range lines {
		docText.WriteString(fold(l.text) + "\n")
		for _, it := range lineItems(l, i) {
			switch {
			case it.label && it.kind == kText:
				texts = append(texts, it)
			case it.label:
				labels = append(labels, it)
			default:
				values = append(values, it)
			}
		}
	}
	byPos := func(s []*item) {
		sort.SliceStable(s, func(a, b int) bool {
			if math.Abs(s[a].cy()-s[b].cy()) < rowH*0.4 {
				return s[a].box.Min.X < s[b].box.Min.X
			}
			return s[a].cy() < s[b].cy()
		})
	}
	byPos(labels)
	byPos(values)
	columnHeaders(words, labels, values, rowH)
	// A number set under a text label on the next row, left-aligned with
	// it (a stacked layout: "AGENTE" over "418534"), is that label's: a
	// code label further up whose own value went unread must not take it.
	// Only a number: a heading ("AGENTE BCP") over an unlabelled payment
	// date leaves the date free.
	for _, t := range texts {
		for _, v := range values {
			dy := (v.cy() - t.cy()) / rowH
			if v.kind == kNum && v.pair == nil && dy > 0.6 && dy < 1.6 && math.Abs(float64(v.box.Min.X-t.box.Min.X)) < rowH {
				t.pair, v.pair = v, t
				break
			}
		}
	}
	// Align each kind apart: a date printed beside a number on the next row
	// must not block the number's pairing with its own label.
	for _, class := range [][]kind{{kNum, kAny}, {kMoney}, {kDate, kTime}} {
		in := func(k kind) bool { return k == class[0] || (len(class) > 1 && k == class[1]) }
		var ls, vs []*item
		for _, l := range labels {
			if in(l.kind) {
				ls = append(ls, l)
			}
		}
		for _, v := range values {
			if in(v.kind) && v.pair == nil {
				vs = append(vs, v)
			}
		}
		align(ls, vs, rowH)
	}
	captions(labels, values, rowH)
	pairConf := func(l *item) float64 {
		c := 1.0
		switch {
		case l.pairDY <= -0.6:
			c = captionConf
		case math.Abs(l.pairDY) >= 0.6:
			c = 0.92
		}
		switch {
		case !outranked(labels, l):
		case l.kind == kMoney:
			c *= outrankedMoney
		default:
			c *= outrankedConf
		}
		return c
	}
	pick := func(r ...role) *item {
		var best *item
		for _, l := range labels {
			if l.pair == nil || !containsRole(r, l.role) {
				continue
			}
			if best == nil || l.prio > best.prio {
				best = l
			}
		}
		return best
	}
	// CIP
	if l := pick(rCIP); l != nil {
		v := l.pair
		c := v.conf * pairConf(l)
		if n := len(v.text); n < 7 || n > 9 {
			c *= 0.5
		}
		res.Fields.CIP = v.text
		res.Confidence["cip"] = c
		res.basis["cip"] = c / max(v.conf, 1e-6)
		res.label["cip"] = rankOf(l)
		res.Boxes["cip"] = v.box
	}
	if res.Fields.CIP == "" {
		// Labels can vanish (light grey on a screen photo) while values
		// survive: one unclaimed 7–9 digit number is the CIP, at low
		// confidence. Two or more and nothing is taken.
		var only *item
		n := 0
		for _, v := range values {
			if v.kind == kNum && v.pair == nil && len(v.text) >= 7 && len(v.text) <= 9 {
				only = v
				n++
			}
		}
		if n == 1 {
			basis := 0.4
			if headlineNumber(only, values, medH) {
				basis = 0.9
			}
			res.Fields.CIP = only.text
			res.Confidence["cip"] = only.conf * basis
			res.basis["cip"] = basis
			res.Boxes["cip"] = only.box
			only.claimed = true
		}
	}
	if l := pick(rOperation); l != nil && l.pair.text != res.Fields.CIP {
		res.Fields.Operation = l.pair.text
		res.Confidence["operation"] = l.pair.conf * pairConf(l)
		res.basis["operation"] = pairConf(l)
		res.label["operation"] = rankOf(l)
		res.Boxes["operation"] = l.pair.box
	}
	// Amount: Importe/Monto beats a Total.
	var amt *item
	amtConf := 1.0
	derived := int64(-1)
	if l := pick(rAmount, rTotal); l != nil {
		amt, amtConf = l.pair, pairConf(l)
		res.label["amount"] = rankOf(l)
		// Only a TOTAL was labelled (the Importe label was lost): on agent
		// tickets TOTAL = Importe + Comisión, so the amount is the value
		// that makes that sum, or the difference itself.
		if fee := pick(rFee); l.role == rTotal && fee != nil && fee.pair.cents > 0 && fee.pair.cents < amt.cents {
			want := amt.cents - fee.pair.cents
			found := false
			for _, v := range values {
				if v.kind == kMoney && v.cents == want && v != fee.pair {
					amt, found = v, true
					break
				}
			}
			if !found {
				derived, amtConf = want, amtConf*0.6
			}
		}
		// One Importe, one Comisión, one TOTAL and no other charge: a
		// receipt listing several payments, or adding IGV, a service
		// charge or a discount, has a TOTAL that is no Importe + Comisión.
		if l.role == rAmount && paired(labels, rAmount) == 1 && paired(labels, rFee) <= 1 && paired(labels, rTotal) == 1 && paired(labels, rCharge) == 0 {
			if t := pick(rTotal); t != nil && t.pair.kind == kMoney {
				res.aside("total", t, pairConf(t))
			}
			if f := pick(rFee); f != nil && f.pair.kind == kMoney {
				res.aside("fee", f, pairConf(f))
			}
		}
	} else {
		amt, amtConf = unlabelledAmount(values, medH)
	}
	if amt != nil {
		res.Fields.AmountCents, res.Fields.HasAmount = amt.cents, true
		if derived >= 0 {
			res.Fields.AmountCents = derived
		}
		res.Confidence["amount"] = amt.conf * amtConf
		res.Boxes["amount"] = amt.box
		res.Fields.Currency = amt.currency
		if res.Fields.Currency == "" {
			res.Fields.Currency = inferCurrency(docText.String())
			res.Confidence["amount"] *= 0.8
		}
	}
	// Payment date and time.
	if l := pick(rDate); l != nil && l.pair.kind == kDate {
		v := l.pair
		t, hasT, secs := v.date, v.hasTime, v.secs
		c := v.conf * pairConf(l)
		if !hasT {
			// "Fecha: dd/mm/yyyy  Hora: hh:mm" or a time just below the date.
			if lt := pick(rTime); lt != nil {
				t = t.Add(time.Duration(lt.pair.timeOfDay) * time.Second)
				hasT, secs = true, lt.pair.secs
			} else {
				for _, x := range values {
					if x.kind == kTime && x.pair == nil && x.cy() >= v.cy()-rowH/2 && x.cy() < v.cy()+2*rowH {
						t = t.Add(time.Duration(x.timeOfDay) * time.Second)
						hasT, secs = true, x.secs
						break
					}
				}
			}
		}
		res.Fields.PaidAt, res.Fields.TimeShown = t, timeShown(hasT, secs)
		if !hasT {
			c *= 0.6
		}
		res.Confidence["paid_at"] = c
		res.basis["paid_at"] = c / max(v.conf, 1e-6)
		res.label["paid_at"] = rankOf(l)
		res.Boxes["paid_at"] = v.box
		if v.hasWeekday {
			// As sure as the weaker of the two readings: the phrase is
			// checked against itself, whatever its pairing.
			res.setAside("weekday", Aside{At: v.date, Weekday: v.weekday, Conf: min(v.weekdayConf, v.conf), Box: v.weekdayBox}, true)
		}
	} else if t, ok := dayFromPrintStamp(labels, values, paymentTime(pick(rTime), pick(rDate))); ok {
		// The payment date is unreadable but its time is not, and the
		// ticket's print stamp follows within two hours: same day.
		res.Fields.PaidAt, res.Fields.TimeShown = t.date, timeShown(true, t.secs)
		res.Confidence["paid_at"] = t.conf * 0.6
		res.Boxes["paid_at"] = t.box
	} else if v, basis := unlabelledDateTime(labels, values, rowH, !anyRole(labels, rCIP) && res.Fields.CIP == ""); v != nil {
		dated(res, v, basis, !v.hasTime)
	} else if l := pick(rIssued); l != nil && l.pair.kind == kDate && !anyRole(labels, rCIP) {
		// A shop receipt (a boleta, a factura) dates itself by its issue
		// ("Fecha de emisión"): the sale and its payment. Not on a page
		// that names a CIP, where the issue is the payment code's creation
		// (PagoEfectivo's page), before the payment.
		basis := issuedConf
		if !l.pair.hasTime {
			basis *= 0.6
		}
		dated(res, l.pair, basis, true)
	}
	if l := pick(rPrinted); l != nil && l.pair.kind == kDate {
		res.aside("printed_at", l, pairConf(l))
	}
	res.orphans = orphanLabels(labels)
	return res
}

// heroSize is how much taller than the page's median word an unlabelled
// amount must be to be its headline, and heroApart how near in size
// another unlabelled amount may come (as a fraction of the headline's).
const (
	heroSize  = 1.4
	heroApart = 0.8
)

// headlineNumber reports whether v, a code no label claimed, is set in
// the page's headline type: at least heroSize times the median word
// height, with no other number within heroApart of its size. A
// confirmation that prints its CIP as its headline ("CIP" in small grey
// above "812552129") loses the small label on a screen photo first.
func headlineNumber(v *item, values []*item, medianH int) bool {
	if float64(v.box.Dy()) < heroSize*float64(medianH) {
		return false
	}
	for _, o := range values {
		if o != v && o.kind == kNum && float64(o.box.Dy()) >= heroApart*float64(v.box.Dy()) {
			return false
		}
	}
	return true
}

// unlabelledAmount picks the amount of a page whose amount label was not
// read, or that prints none, from the amounts with a currency sign no label
// claimed, and the confidence its pairing lends: the first in reading
// order, at half; or, at 0.9, the headline amount a confirmation sets in
// its largest type ("¡Pago exitoso!  S/ 35.00") when it stands heroSize
// above the page's text and no other such amount comes near its size.
// An amount without cents ("S/ 45", as wallet apps set their headline)
// takes part only in headline type: in the text it may be a quantity.
func unlabelledAmount(values []*item, medianH int) (*item, float64) {
	var cands []*item
	for _, v := range values {
		if v.kind == kMoney && v.pair == nil && v.cents > 0 && v.currency != "" && (!v.whole || float64(v.box.Dy()) >= heroSize*float64(medianH)) {
			cands = append(cands, v)
		}
	}
	if len(cands) == 0 {
		return nil, 1
	}
	hero := cands[0]
	for _, v := range cands[1:] {
		if v.box.Dy() > hero.box.Dy() {
			hero = v
		}
	}
	if float64(hero.box.Dy()) < heroSize*float64(medianH) {
		return cands[0], 0.5
	}
	for _, v := range cands {
		if v != hero && float64(v.box.Dy()) >= heroApart*float64(hero.box.Dy()) {
			return cands[0], 0.5
		}
	}
	return hero, 0.9
}

// unlabelledDateTime picks the payment's date-time on a page where no
// date label paired with one (a light grey label lost on a photo), from
// the date-times no label claimed, and the confidence its pairing lends:
// the first in reading order, at half; at 0.9 when it is the only one and
// no label of another date (a print stamp, an issue or due date) was read
// without its value, which it could then be. A date printed without its
// time counts with the unclaimed time beside it or just below it (a
// wallet's "Fecha" and "Hora" rows, both labels lost), as a labelled
// date takes its time.
func unlabelledDateTime(labels, values []*item, rowH float64, receipt bool) (*item, float64) {
	var cands []*item
	for _, v := range values {
		if v.kind != kDate || v.pair != nil {
			continue
		}
		if v.hasTime {
			cands = append(cands, v)
			continue
		}
		for _, x := range values {
			if x.kind == kTime && x.pair == nil && x.cy() >= v.cy()-rowH/2 && x.cy() < v.cy()+2*rowH {
				c := *v
				c.date = v.date.Add(time.Duration(x.timeOfDay) * time.Second)
				c.hasTime, c.secs, c.conf = true, x.secs, min(v.conf, x.conf)
				cands = append(cands, &c)
				break
			}
		}
	}
	orphanStamp := false
	for _, l := range labels {
		orphanStamp = orphanStamp || (l.kind == kDate && l.role.stamp() && l.pair == nil)
	}
	if len(cands) == 0 {
		// A receipt printing one date and no time ("15.01.2019" under
		// the shop's name): the sale's day, unsure. Not when a stamp's
		// label stands without its date, which this may be, nor on a
		// voucher (a page naming or showing a CIP), whose payment is
		// dated by its label: a date alone there may be any of its
		// stamps.
		var only *item
		n := 0
		for _, v := range values {
			if v.kind == kDate && v.pair == nil {
				only = v
				n++
			}
		}
		if n == 1 && !orphanStamp && receipt {
			return only, loneDateConf
		}
		return nil, 0
	}
	if len(cands) > 1 || orphanStamp {
		return cands[0], 0.5
	}
	return cands[0], 0.9
}

// timeShown is Fields.TimeShown for a time read (hasTime) with or without
// its seconds: "second", "minute", or "" for a date alone.
func timeShown(hasTime, secs bool) string {
	switch {
	case !hasTime:
		return ""
	case secs:
		return "second"
	}
	return "minute"
}

// dated sets res's payment time to date v, found without a payment label
// at basis; alone marks a receipt's date that a reading holding a CIP
// drops (dropGuesses).
func dated(res *Result, v *item, basis float64, alone bool) {
	res.Fields.PaidAt, res.Fields.TimeShown, res.dateAlone = v.date, timeShown(v.hasTime, v.secs), alone
	res.Confidence["paid_at"] = v.conf * basis
	res.basis["paid_at"] = basis
	res.Boxes["paid_at"] = v.box
}

// loneDateConf weighs the one date of a page without a time or a label
// taken as the payment's day.
const loneDateConf = 0.45

// issuedConf weighs a receipt's issue date taken as its payment date:
// below the 0.8 that verifies, so an agent confirms what the receipt
// calls its issue.
const issuedConf = 0.75

// anyRole reports whether a label of role r was read, paired or not.
func anyRole(labels []*item, r role) bool {
	for _, l := range labels {
		if l.role == r {
			return true
		}
	}
	return false
}

// orphanLabels returns, for each key field, the box of the
// highest-priority label of that field found without a value. The field
// may still be filled another way (a CIP guessed from the one unclaimed
// number) which a later pass can take back; recoverOrphans reads beside
// the label only of a field no pass has read.
// orphanTime keys, among the orphaned labels, a time label ("Hora:")
// left without a value.
const orphanTime = "time"

func orphanLabels(labels []*item) map[string]image.Rectangle {
	keyOf := map[role]string{rCIP: "cip", rOperation: "operation", rAmount: "amount", rTotal: "amount", rDate: "paid_at", rTime: orphanTime}
	out := map[string]image.Rectangle{}
	prio, line := map[string]int{}, map[string]int{}
	for _, l := range labels {
		k, ok := keyOf[l.role]
		if !ok || l.pair != nil {
			continue
		}
		switch p, seen := prio[k]; {
		case !seen || l.prio > p:
			out[k], prio[k], line[k] = l.box, l.prio, l.line
		case l.line == line[k]:
			// "Código de pago (CIP)": two labels of one field on one line
			out[k] = out[k].Union(l.box)
		}
	}
	return out
}

// rankOf is how surely label l names its value.
func rankOf(l *item) labelRank {
	return labelRank{prio: l.prio, beside: math.Abs(l.pairDY) < 0.6}
}

// outranked reports whether the page holds, without a value, a label that
// names l's field more surely than l does ("Número de operación" left
// alone while "Referencia" has a number): the value l holds may be
// another one, and the field's own value was dropped. Only a specific
// label (priority 3 or more) outranks: a bare word such as "Operación"
// is as often a title ("¡Operación exitosa!").
func outranked(labels []*item, l *item) bool {
	same := func(r role) bool {
		return r == l.role || (r == rAmount && l.role == rTotal) || (r == rTotal && l.role == rAmount)
	}
	for _, o := range labels {
		if o.pair == nil && same(o.role) && o.prio >= 3 && o.prio > l.prio {
			return true
		}
	}
	return false
}

// outrankedConf: a number held by an outranked label is taken at this
// fraction of its confidence, below what verifies and below orphanSure,
// so its field's own label is read again (recoverOrphans). A money value
// is doubted less (outrankedMoney: 0.8 of its confidence): a TOTAL read
// while the Importe's value was not is the amount itself, or the amount
// and a commission, so it still goes to an agent, never verified
// unseen, but is still compared with a stored voucher's amount (an edit
// of it is still "edited", as on dev v0185).
const (
	outrankedConf  = 0.5
	outrankedMoney = 0.8
)

func containsRole(rs []role, r role) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

// reMoneda is a currency row ("Moneda: Dólares", "Moneda\nSOLES"): bank
// apps print the amount bare and name its currency there.
var reMoneda = regexp.MustCompile(`\bmoneda\s*:?\s*(dolares|dolar|usd|us\$|soles|sol|pen|s/)`)

// inferCurrency names the currency of an amount printed without a sign:
// the currency row's, else dollars when the voucher names them anywhere.
func inferCurrency(doc string) string {
	if m := reMoneda.FindStringSubmatch(doc); m != nil {
		return currencyOf(m[1])
	}
	if strings.Contains(doc, "us$") || strings.Contains(doc, "usd") {
		return "USD"
	}
	return "PEN"
}

// keyFields are the fields whose absence or weakness earns a second pass:
// the three an order is matched on, and the operation number, which the
// duplicate checks use.
var keyFields = []string{"cip", "amount", "paid_at", "operation"}

// amountWeak: an amount read with less confidence is weak. Amount
// confidence is its digits' alone (no currency sign dragging it down): a
// misread digit shows only a little lower.
const amountWeak = 0.82

// weak reports whether a key field is missing or read with low confidence.
func (r *Result) weak() bool {
	for _, k := range keyFields {
		limit := 0.7
		if k == "amount" {
			limit = amountWeak
		}
		if r.Confidence[k] < limit {
			return true
		}
	}
	return false
}

// fieldText is the text of identifier field k ("cip" or "operation").
func (r *Result) fieldText(k string) string {
	switch k {
	case "cip":
		return r.Fields.CIP
	case "operation":
		return r.Fields.Operation
	}
	return ""
}

// setFieldText sets identifier field k.
func (r *Result) setFieldText(k, v string) {
	switch k {
	case "cip":
		r.Fields.CIP = v
	case "operation":
		r.Fields.Operation = v
	}
}

// minFieldConfidence: a field read with less is noise Tesseract put
// letters to (a speck, a smudge), and is left out rather than guessed.
const minFieldConfidence = 0.1

// dropGuesses removes the fields read with less than minFieldConfidence.
// A receipt's date found without a payment label goes when the reading
// holds a CIP: a voucher is dated by its label, and a pass that read
// neither its CIP nor that label took one of its other dates.
func (r *Result) dropGuesses() {
	for k, c := range r.Confidence {
		if c < minFieldConfidence {
			r.clear(k)
		}
	}
	if r.dateAlone && r.Fields.CIP != "" {
		r.clear("paid_at")
	}
}

// clear removes field k and what was recorded of its reading.
func (r *Result) clear(k string) {
	switch k {
	case "cip":
		r.Fields.CIP = ""
	case "operation":
		r.Fields.Operation = ""
	case "amount":
		r.Fields.AmountCents, r.Fields.HasAmount, r.Fields.Currency = 0, false, ""
	case "paid_at":
		r.Fields.PaidAt, r.Fields.TimeShown, r.dateAlone = time.Time{}, "", false
	}
	delete(r.Confidence, k)
	delete(r.Boxes, k)
	delete(r.basis, k)
	delete(r.label, k)
}

// sameValue reports whether r and o read field k alike.
func (r *Result) sameValue(o *Result, k string) bool {
	a, b := r.Fields, o.Fields
	switch k {
	case "cip":
		return a.CIP == b.CIP
	case "operation":
		return a.Operation == b.Operation
	case "amount":
		return a.HasAmount == b.HasAmount && a.AmountCents == b.AmountCents && a.Currency == b.Currency
	case "paid_at":
		return a.PaidAt.Equal(b.PaidAt) && a.TimeShown == b.TimeShown
	}
	return false
}

// specificSure: a field read beside a more specific label than another
// pass's reading of it is taken when both read it with at least this.
const specificSure = 0.5

// copyKey sets (*dst)[k] to src[k], or deletes it when src has no k.
func copyKey[V any](dst *map[string]V, src map[string]V, k string) {
	v, ok := src[k]
	switch {
	case !ok:
		delete(*dst, k)
	case *dst == nil:
		*dst = map[string]V{k: v}
	default:
		(*dst)[k] = v
	}
}

// mergeOnly is merge limited to the fields named in keys.
func (r *Result) mergeOnly(o *Result, keys []string) {
	keep := map[string]bool{}
	for _, k := range keys {
		keep[k] = true
	}
	for k := range o.Confidence {
		if !keep[k] {
			delete(o.Confidence, k)
		}
	}
	r.merge(o)
}

// merge takes from o each field that r lacks or read with less confidence,
// or, when both read it otherwise and surely enough (specificSure), beside
// a more specific label placed as closely (labelRank.over): "Nro.
// Operación" over "Operación" (a title's word), an Importe over a TOTAL
// (which may add a commission), but not an Importe that took the value of
// the row under it over a TOTAL beside its own.
func (r *Result) merge(o *Result) {
	better := func(k string) bool {
		oc, rc := o.Confidence[k], r.Confidence[k]
		ol, ok1 := o.label[k]
		rl, ok2 := r.label[k]
		if ok1 && ok2 && oc >= specificSure && rc >= specificSure && !r.sameValue(o, k) {
			switch {
			case ol.over(rl):
				return true
			case rl.over(ol):
				return false
			}
		}
		return oc > rc
	}
	take := func(k string) {
		r.Confidence[k] = o.Confidence[k]
		copyKey(&r.label, o.label, k)
		copyKey(&r.basis, o.basis, k)
		if b, ok := o.Boxes[k]; ok {
			r.Boxes[k] = b
		}
	}
	// One number is never both the CIP and the operation number: a pass
	// that reads one field as the other's value (a CIP guessed from the
	// one unclaimed number, which another pass paired with its operation
	// label) takes it only when surer, and the other field is then left
	// unread rather than kept twice.
	if better("cip") && (o.Fields.CIP != r.Fields.Operation || o.Confidence["cip"] > r.Confidence["operation"]) {
		if o.Fields.CIP == r.Fields.Operation {
			r.clear("operation")
		}
		r.Fields.CIP = o.Fields.CIP
		take("cip")
	}
	if better("operation") && (o.Fields.Operation != r.Fields.CIP || o.Confidence["operation"] > r.Confidence["cip"]) {
		if o.Fields.Operation == r.Fields.CIP {
			r.clear("cip")
		}
		r.Fields.Operation = o.Fields.Operation
		take("operation")
	}
	if better("amount") {
		r.Fields.AmountCents, r.Fields.HasAmount, r.Fields.Currency = o.Fields.AmountCents, o.Fields.HasAmount, o.Fields.Currency
		take("amount")
		for _, k := range []string{"total", "fee"} { // read with the amount: they go with it
			a, ok := o.Asides[k]
			r.setAside(k, a, ok)
		}
	}
	if better("paid_at") {
		r.Fields.PaidAt, r.Fields.TimeShown, r.dateAlone = o.Fields.PaidAt, o.Fields.TimeShown, o.dateAlone
		take("paid_at")
		a, ok := o.Asides["weekday"] // read with the date: goes with it
		r.setAside("weekday", a, ok)
	}
	if a, ok := o.Asides["printed_at"]; ok && a.Conf > r.Asides["printed_at"].Conf {
		r.setAside("printed_at", a, true)
	}
}

// setAside sets or, when !ok, removes aside k.
func (r *Result) setAside(k string, a Aside, ok bool) {
	if !ok {
		delete(r.Asides, k)
		return
	}
	if r.Asides == nil {
		r.Asides = map[string]Aside{}
	}
	r.Asides[k] = a
}

// paired counts the labels of role r that found a value.
func paired(labels []*item, r role) int {
	n := 0
	for _, l := range labels {
		if l.role == r && l.pair != nil {
			n++
		}
	}
	return n
}

// dayFromPrintStamp combines a payment time (paired with a "Hora" label)
// with the day of a print/issue stamp ("Impreso: 04/09/2026 07:50:44")
// printed up to two hours after it.
func dayFromPrintStamp(labels, values []*item, hora *item) (*item, bool) {
	if hora == nil || hora.pair.kind != kTime {
		return nil, false
	}
	tm := hora.pair
	for _, l := range labels {
		if !l.role.stamp() || l.kind != kDate || l.pair == nil || !l.pair.hasTime {
			continue
		}
		p := l.pair.date
		day := time.Date(p.Year(), p.Month(), p.Day(), 0, 0, 0, 0, Lima)
		paid := day.Add(time.Duration(tm.timeOfDay) * time.Second)
		if d := p.Sub(paid); d >= 0 && d <= 2*time.Hour {
			return &item{date: paid, secs: tm.secs, conf: tm.conf, box: tm.box}, true
		}
	}
	return nil, false
}

// paymentTime is the label holding the payment time: "Hora", or "Fecha"
// when its date was unreadable and it paired with the time beside it.
func paymentTime(hora, fecha *item) *item {
	if hora != nil {
		return hora
	}
	if fecha != nil && fecha.pair.kind == kTime {
		return fecha
	}
	return nil
}
