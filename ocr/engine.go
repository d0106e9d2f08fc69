package ocr

import (
	"context"
	"image"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/otiai10/gosseract/v2"

	"github.com/constancia/constancia"
)

// Config sets up an Engine.
type Config struct {
	Workers   int    // Tesseract clients, one per concurrent read (default 2)
	Languages string // Tesseract languages, "+"-joined (default "spa")
	Limits    Limits
	Prep      PrepConfig
	Logger    *slog.Logger
}

// Validate reports the first bad field of c.
func (c Config) Validate() error {
	if c.Workers < 0 || c.Workers > 64 {
		return constancia.Errorf(constancia.EINVALID, "ocr: Workers must be between 1 and 64, got %d", c.Workers)
	}
	if c.Limits.MaxBytes < 0 || c.Limits.MaxPixels < 0 {
		return constancia.Errorf(constancia.EINVALID, "ocr: Limits must not be negative")
	}
	return nil
}

// Engine reads vouchers with a fixed pool of Tesseract clients. It is safe
// for concurrent use; at most Workers reads run at once, the rest wait.
type Engine struct {
	cfg     Config
	clients chan *gosseract.Client
	log     *slog.Logger
}

// NewEngine starts cfg.Workers Tesseract clients. It fails with EUNAVAILABLE
// when Tesseract or its language data cannot be loaded.
func NewEngine(cfg Config) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Workers == 0 {
		cfg.Workers = 2
	}
	if cfg.Languages == "" {
		cfg.Languages = "spa"
	}
	cfg.Limits = cfg.Limits.withDefaults()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if os.Getenv("OMP_THREAD_LIMIT") == "" {
		// libgomp has read its settings already; this only warns.
		cfg.Logger.Warn("OMP_THREAD_LIMIT is not set: Tesseract's OpenMP threads make each read several times slower; set OMP_THREAD_LIMIT=1")
	}
	e := &Engine{cfg: cfg, clients: make(chan *gosseract.Client, cfg.Workers), log: cfg.Logger.With("component", "ocr")}
	for i := 0; i < cfg.Workers; i++ {
		c := gosseract.NewClient()
		if err := c.SetLanguage(strings.Split(cfg.Languages, "+")...); err != nil {
			e.Close()
			return nil, constancia.Wrap(err, constancia.EUNAVAILABLE, "tesseract languages unavailable")
		}
		c.SetVariable("debug_file", "/dev/null")
		c.SetVariable("user_defined_dpi", "300")
		// Preprocessing makes every page dark ink on white: skip Tesseract's
		// second recognition of weak lines as inverted text.
		c.SetVariable("tessedit_do_invert", "0")
		// Probe once so a missing traineddata fails here, not on first upload.
		if err := c.SetImageFromBytes(encodeBMP(image.NewGray(image.Rect(0, 0, 8, 8)))); err != nil {
			c.Close()
			e.Close()
			return nil, constancia.Wrap(err, constancia.EUNAVAILABLE, "tesseract unavailable")
		}
		if _, err := c.Text(); err != nil {
			c.Close()
			e.Close()
			return nil, constancia.Wrap(err, constancia.EUNAVAILABLE, "tesseract could not load language data "+cfg.Languages)
		}
		e.clients <- c
	}
	return e, nil
}

// Workers returns the size of the client pool.
func (e *Engine) Workers() int { return e.cfg.Workers }

// Limits returns the byte and pixel caps the engine enforces.
func (e *Engine) Limits() Limits { return e.cfg.Limits }

// Close releases every Tesseract client. Reads in flight finish first.
func (e *Engine) Close() error {
	for i := 0; i < cap(e.clients); i++ {
		select {
		case c := <-e.clients:
			c.Close()
		default:
			return nil
		}
	}
	return nil
}

// Word is one word Tesseract read, with its box in the prepared image.
type Word struct {
	Text  string
	Box   image.Rectangle
	Conf  float64 // 0–1
	Block int
	Line  int // line index in reading order as Tesseract grouped it
}

// recognize runs Tesseract on g in page-segmentation mode psm and returns
// its words.
func recognize(c *gosseract.Client, g *image.Gray, psm gosseract.PageSegMode) ([]Word, error) {
	if err := c.SetPageSegMode(psm); err != nil {
		return nil, err
	}
	if err := c.SetImageFromBytes(encodeBMP(g)); err != nil {
		return nil, err
	}
	boxes, err := c.GetBoundingBoxesVerbose()
	if err != nil {
		return nil, err
	}
	words := make([]Word, 0, len(boxes))
	for _, b := range boxes {
		t := strings.TrimSpace(b.Word)
		if t == "" {
			continue
		}
		words = append(words, Word{Text: t, Box: b.Box, Conf: b.Confidence / 100,
			Block: b.BlockNum, Line: b.BlockNum*10000 + b.ParNum*100 + b.LineNum})
	}
	return words, nil
}

// acquire takes a client from the pool, or fails when ctx ends first.
func (e *Engine) acquire(ctx context.Context) (*gosseract.Client, error) {
	select {
	case c := <-e.clients:
		return c, nil
	case <-ctx.Done():
		return nil, constancia.Wrap(ctx.Err(), constancia.EUNAVAILABLE, "timed out waiting for an OCR worker")
	}
}

// Read decodes data, preprocesses it and extracts the voucher's fields. The
// returned error is an *constancia.Error for bad input (see Decode) or
// EUNAVAILABLE when ctx ends while waiting for a worker.
func (e *Engine) Read(ctx context.Context, data []byte) (*Result, error) {
	start := time.Now()
	img, format, err := Decode(data, e.cfg.Limits)
	if err != nil {
		return nil, err
	}
	r, err := e.ReadImage(ctx, img)
	if err != nil {
		return nil, err
	}
	r.Format = format
	r.Elapsed = time.Since(start)
	return r, nil
}

// ReadImage is Read for an already decoded image.
func (e *Engine) ReadImage(ctx context.Context, img image.Image) (res *Result, err error) {
	start := time.Now()
	defer func() {
		// A bug in preprocessing or extraction must cost one upload, not the process.
		if p := recover(); p != nil {
			e.log.Error("panic while reading a voucher", "panic", p, "stack", string(debug.Stack()))
			res, err = nil, constancia.Errorf(constancia.EINTERNAL, "internal error while reading the image")
		}
	}()
	c, err := e.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { e.clients <- c }()
	// Pass 1: sparse text on the gamma-darkened page; it finds label and
	// value columns that page layout analysis drops as pictures.
	pc := e.cfg.Prep
	prep := Preprocess(img, pc)
	words, err := recognize(c, prep.Image, gosseract.PSM_SPARSE_TEXT)
	if err != nil {
		return nil, constancia.Wrap(err, constancia.EINTERNAL, "ocr failed")
	}
	// A page of grain is read again with the grain averaged away (grainWords).
	if len(words) > grainWords {
		pc.Denoise = true
		prep = Preprocess(img, pc)
		if words, err = recognize(c, prep.Image, gosseract.PSM_SPARSE_TEXT); err != nil {
			return nil, constancia.Wrap(err, constancia.EINTERNAL, "ocr failed")
		}
	}
	// A page that reads as almost no words may be sideways or upside down
	// (a photo whose file lost its orientation, as messaging apps strip
	// it): every later pass reads it the way it reads upright. A picture
	// without text-like marks (no document) has none to turn.
	first := pageRead{prep: prep, words: words}
	if first.weigh(); first.sure < turnBelow && !prep.NoDocument {
		if r := turnUpright(c, img, pc, first); r.turn != 0 {
			pc.Turn, prep, words = r.turn, r.prep, r.words
		}
	}
	res = extract(words, prep.Image.Rect)
	res.Prep, res.Words, res.Upload, res.Size = prep, words, img, img.Bounds().Size()
	// Pass 2, only when a key field is missing or weak: layout analysis on
	// a linear-contrast page, merged field by field.
	var others [][]Word // the later passes' words, in the first page's frame
	if res.weak() {
		cfg2 := pc
		cfg2.Gamma = 1
		pr := rereadPage(c, img, prep, cfg2, gosseract.PSM_AUTO)
		others = append(others, pr.Words)
		res.merge(pr)
	}
	// Pass 2b, only on a blurry page of small glyphs still weak (a screen
	// photographed from afar, a shaken photo): the blur is deconvolved
	// before enlarging, where an unsharp mask only steepens it.
	if res.weak() && prep.Sharpness < e.cfg.Prep.sharpenBelow() && prep.GlyphPx < deblurGlyph {
		cfgD := pc
		cfgD.Deblur = deblurSigma
		pr := rereadPage(c, img, prep, cfgD, gosseract.PSM_SPARSE_TEXT)
		others = append(others, pr.Words)
		res.merge(pr)
	}
	// Pass 3, only on a page whose letters run together (a narrow font,
	// blurred) and still weak: Tesseract's layout drops a word that is one
	// blob, so its mid-tones are lightened to part the letters.
	if res.weak() && prep.RunTogether {
		cfg3 := pc
		cfg3.PartLetters = true
		pr := rereadPage(c, img, prep, cfg3, gosseract.PSM_SPARSE_TEXT)
		others = append(others, pr.Words)
		res.merge(pr)
	}
	// Pass 4, only on a page still weak whose crop left out a dark panel of
	// light text beside the bright region (an app's header holding the
	// amount, photographed on a dark table): read again with the panels
	// taken in and inverted. Only a field read at least partly outside the
	// first page is taken: the rest the earlier passes read already.
	if res.weak() && prep.Panels > 0 {
		cfgP := pc
		cfgP.TakePanels = true
		pr := rereadPage(c, img, prep, cfgP, gosseract.PSM_SPARSE_TEXT)
		var inPanel []string
		for _, k := range keyFields {
			if b, ok := pr.Boxes[k]; ok && !b.In(prep.Image.Rect) {
				inPanel = append(inPanel, k)
			}
		}
		res.mergeOnly(pr, inPanel)
	}
	// Pass 5, only on a page still weak that holds colour: values printed
	// in a light brand colour are mid-grey by luminance, faint once a
	// photo blurs them; darkened by their colour they are ink again.
	if res.weak() && colourful(img) {
		cfgC := pc
		cfgC.InkGray = true
		pr := rereadPage(c, img, prep, cfgC, gosseract.PSM_SPARSE_TEXT)
		others = append(others, pr.Words)
		res.merge(pr)
	}
	// Rows of ink no pass read, each read as a single line (unreadLines).
	if res.weak() {
		seen := unionWords(words, others)
		glyph := prep.GlyphPx * prep.Scale
		var add []Word
		for _, r := range unreadLines(prep.Image, glyph, seen, maxUnread) {
			r = r.Inset(-int(glyph / 2)).Intersect(prep.Image.Rect)
			for _, w := range readLine(c, crop(prep.Image, r), r.Min) {
				// A row read unsurely is more likely a smudge or a
				// fold than text (a word read at 0.3 beside a photo's
				// values moved the page's pairing onto the wrong row).
				if w.Conf >= unreadSure && !overlapsAny(w.Box, seen) && !overlapsAny(w.Box, add) {
					add = append(add, w)
				}
			}
		}
		if len(add) > 0 {
			others = append(others, add)
		}
	}
	// A label one pass read beside a value only another read: the words
	// of all passes read as one page, the earlier pass's word kept where
	// two overlap.
	if res.weak() && len(others) > 0 {
		res.merge(extract(unionWords(words, others), prep.Image.Rect))
	}
	// An amount with raised cents ("S/ 2,536⁴⁰") reads as a whole number
	// at almost no confidence, or not at all: its two parts are read
	// apart and joined. The whole number alone, read as "S/ 2,536" and
	// taken for 2536.00, is contradicted by the cents: they replace it
	// even when read less surely.
	if res.Confidence["amount"] < amountWeak {
		if ws, ok := raisedCents(c, prep.Image, unionWords(words, others)); ok {
			r := extract(ws, prep.Image.Rect)
			if r.Fields.HasAmount && res.Fields.HasAmount && res.Fields.AmountCents == r.Fields.AmountCents/100*100 {
				res.clear("amount")
			}
			res.mergeOnly(r, []string{"amount"})
		}
	}
	// A value its label announces that no pass found: Tesseract's layout
	// drops a word whose letters all touch (bold digits of a condensed
	// font), which single-line mode reads.
	recoverOrphans(c, prep.Image, res, others)
	// Identifiers re-read from their own line: on a whole page Tesseract
	// can drop a digit at a bold word's edge, which the crop keeps.
	for _, k := range []string{"cip", "operation"} {
		recheckDigits(c, prep.Image, res, k)
	}
	recheckPaidAt(c, prep.Image, res)
	confirmSum(c, prep.Image, res)
	res.dropGuesses()
	res.Quality = assessQuality(prep, res)
	res.Elapsed = time.Since(start)
	return res, nil
}

// grainWords: a first read of more words than this is of a page of grain
// (a light table's, or the paper's under a dim photo's noise): a page of
// print reads 20–164 words on the dev corpus, while tickets whose grain
// the flattening turned to specks read 270–540, lost their CIP or took
// another's, and every further read of them took up to a minute (a
// photo of the n6 probe, 63 s). Such a page is read again with its
// grain averaged away (PrepConfig.Denoise): 5 s, every field but the
// blurred CIP read (TestReadGrainyPhoto).
const grainWords = 200

// Orientation (Engine.ReadImage): a page whose first read has fewer than
// turnBelow sure words is read turned. A turn is taken at once when it
// reads at least turnWins sure words and more than twice as many, plus a
// few, as upright; failing that (a blurred page reads few sure words any
// way up), the way whose words weigh turnMassRatio times as much as any
// other's, if they weigh at least turnMassMin. Measured on the dev corpus
// turned by 90°, 180° and 270°: a voucher read the right way up has 16–50
// sure words, read any other way 0–3; upright, only 5 of the 220
// (unreadable photos) have fewer than 8, and on each their upright words
// weigh 1.1–4 times any turn's (4.8–15, where the turned unreadable ones
// that are taken weigh 13–15).
const (
	turnBelow     = 8
	turnWins      = 8
	turnMassRatio = 1.5
	turnMassMin   = 3 // words' worth of confidence: a picture that reads a stray word one way is not turned for it
)

// pageRead is one reading of an upload turned upright by turn.
type pageRead struct {
	turn  int
	prep  *Prepared
	words []Word
	sure  int     // words of 3+ letters or digits read at 0.85 or more
	mass  float64 // the summed confidence of the words of 3+ letters or digits
}

// weigh sets r's sure words and mass: what a page read the right way up
// is full of, and one read sideways or upside down almost lacks.
func (r *pageRead) weigh() {
	r.sure, r.mass = 0, 0
	for _, w := range r.words {
		if alnumCount(w.Text) < 3 {
			continue
		}
		r.mass += w.Conf
		if w.Conf >= 0.85 {
			r.sure++
		}
	}
}

// turnUpright reads img turned a quarter, a half and three quarters,
// sideways first when the document is wider than tall, and returns the
// reading that is clearly the right way up, or first when none is.
func turnUpright(c *gosseract.Client, img image.Image, cfg PrepConfig, first pageRead) pageRead {
	turns := []int{2, 1, 3}
	if first.prep.Doc.Dx() > first.prep.Doc.Dy() {
		turns = []int{1, 3, 2}
	}
	reads := []pageRead{first}
	for _, t := range turns {
		cfg.Turn = t
		r := pageRead{turn: t, prep: Preprocess(img, cfg)}
		var err error
		if r.words, err = recognize(c, r.prep.Image, gosseract.PSM_SPARSE_TEXT); err != nil {
			return first
		}
		r.weigh()
		if r.sure >= turnWins && r.sure > 2*first.sure+3 {
			return r
		}
		reads = append(reads, r)
	}
	best, next := 0, -1
	for i := 1; i < len(reads); i++ {
		if reads[i].mass > reads[best].mass {
			best, next = i, best
		} else if next < 0 || reads[i].mass > reads[next].mass {
			next = i
		}
	}
	if best != 0 && reads[best].mass >= turnMassMin && reads[best].mass >= turnMassRatio*reads[next].mass {
		return reads[best]
	}
	return first
}

// unionWords returns base and the words of others, in order, that overlap
// no word kept before them by more than a third of the smaller box.
func unionWords(base []Word, others [][]Word) []Word {
	out := append([]Word(nil), base...)
	for _, ws := range others {
		for _, w := range ws {
			keep := true
			for _, o := range out {
				in := w.Box.Intersect(o.Box)
				if !in.Empty() && 3*in.Dx()*in.Dy() > min(w.Box.Dx()*w.Box.Dy(), o.Box.Dx()*o.Box.Dy()) {
					keep = false
					break
				}
			}
			if keep {
				out = append(out, w)
			}
		}
	}
	return out
}

// rereadPage prepares img again with cfg, reads it in mode psm and returns
// what it extracts, its boxes in first's frame (an empty result when
// Tesseract fails: a later pass only adds to the first).
func rereadPage(c *gosseract.Client, img image.Image, first *Prepared, cfg PrepConfig, psm gosseract.PageSegMode) *Result {
	prep := Preprocess(img, cfg)
	words, err := recognize(c, prep.Image, psm)
	if err != nil {
		return &Result{Confidence: map[string]float64{}, Boxes: map[string]image.Rectangle{}}
	}
	res := extract(words, prep.Image.Rect)
	for k, b := range res.Boxes {
		res.Boxes[k] = first.reframe(prep, b)
	}
	res.Words = make([]Word, len(words))
	for i, w := range words {
		w.Box = first.reframe(prep, w.Box)
		res.Words[i] = w
	}
	for k, a := range res.Asides {
		a.Box = first.reframe(prep, a.Box)
		res.Asides[k] = a
	}
	return res
}

// recheckDigits re-reads field k's value from a crop of its box widened on
// both sides, and takes the crop's number when it is the page's with one
// more digit at either end: the digit the page read dropped.
func recheckDigits(c *gosseract.Client, page *image.Gray, res *Result, k string) {
	b, ok := res.Boxes[k]
	got := res.fieldText(k)
	if !ok || got == "" {
		return
	}
	words := readAround(c, page, b, 2*b.Dy())
	for _, w := range words {
		t := repairNumeric(w.Text)
		if len(t) == len(got)+1 && allDigits(t) && (strings.HasSuffix(t, got) || strings.HasPrefix(t, got)) {
			res.setFieldText(k, t)
			res.Boxes[k] = w.Box
			res.Confidence[k] = min(res.Confidence[k], w.Conf)
			return
		}
	}
	// A digit the page invented ("004078363" for 00407863 at 0.76): the
	// value alone reads one digit fewer, surely. Single-line mode is
	// fickle (the same bold digits read right or with the phantom as the
	// crop's margins change by a few pixels), so the value is read with
	// its line, without, and fitted to its row of ink. Not a digit of a
	// run ("887" read "87"), which single-line mode can merge.
	// The value alone (with a little paper round it) is read once, here or
	// for confirmDigits.
	var tight []Word
	tightRead := false
	readTight := func() []Word {
		if !tightRead {
			tight, tightRead = readAround(c, page, b, b.Dy()/3), true
		}
		return tight
	}
	if res.Confidence[k] < phantomSure {
		fit := fitRows(page, b)
		for _, read := range []func() []Word{
			func() []Word { return words },
			readTight,
			func() []Word { return readLine(c, crop(page, fit), fit.Min) },
		} {
			for _, w := range read() {
				if t := repairNumeric(w.Text); w.Conf >= phantomSure && allDigits(t) && phantomDigit(got, t) {
					res.setFieldText(k, t)
					res.Confidence[k] = w.Conf * res.basisOf(k)
					return
				}
			}
		}
	}
	if res.Confidence[k] < 0.5 {
		// The line may read the digits where the value alone does not
		// ("CIP:41039453" at 0.47 with its label glued on, ":41030459"
		// alone): either reading confirms them.
		confirmDigits(res, k, append(readTight(), words...))
	}
}

// phantomSure: a field the page read with less, whose line alone reads
// one digit fewer with at least this, takes the line's reading.
const phantomSure = 0.9

// phantomDigit reports whether long is short with one digit added inside
// it that repeats neither neighbour. A digit at either end is no phantom:
// a crop that clips the value loses its first or last digit (v0079's
// 8610885257 read 861088525 at 0.92).
func phantomDigit(long, short string) bool {
	if len(long) != len(short)+1 {
		return false
	}
	i := 0
	for i < len(short) && long[i] == short[i] {
		i++
	}
	if i == 0 || i == len(short) || long[i+1:] != short[i:] {
		return false
	}
	return long[i-1] != long[i] && long[i+1] != long[i]
}

// recheckPaidAt re-reads a doubtful payment date-time from its own line:
// on a whole page Tesseract can misread a crisp bold digit that the line
// alone reads surely ("18:05" as "13:05" at 0.56 in the app template's
// bold face). The line's reading is taken when it is a date-time read at
// 0.9 or more and surer than the page's; its confidence is weighed by how
// the page found the value (its label), as the page's was.
func recheckPaidAt(c *gosseract.Client, page *image.Gray, res *Result) {
	b, ok := res.Boxes["paid_at"]
	basis, found := res.basis["paid_at"]
	if !ok || !found || res.Confidence["paid_at"] >= 0.9 {
		return
	}
	r := extract(readAround(c, page, b, b.Dy()), page.Rect)
	lb, ok := r.basis["paid_at"]
	if !ok || r.Fields.PaidAt.IsZero() {
		return
	}
	read := r.Confidence["paid_at"] / lb // how surely the line read it
	if read < 0.9 || read*basis <= res.Confidence["paid_at"] {
		return
	}
	if r.Fields.TimeShown == "" && res.Fields.TimeShown != "" {
		return // the line lost the time the page read: not the same reading
	}
	res.Fields.PaidAt, res.Fields.TimeShown = r.Fields.PaidAt, r.Fields.TimeShown
	res.Confidence["paid_at"] = read * basis
}

// fitRows moves strip r up or down onto the line of ink it overlaps most:
// a value beside its label can sit higher or lower than the label by what
// deskewing left of a photo's slant or keystone (a third of a line over a
// wide row), and single-line mode reads nothing of a line cut through.
// The line is looked for within one strip height above and below; ink is
// what is dark (under 128) across r's columns, and a line is a run of
// inked rows, gaps of a row or two bridged; the strip returned holds it
// with half r's height of paper above and below. r is kept when no line
// overlaps it or the line found is more than twice its height.
func fitRows(page *image.Gray, r image.Rectangle) image.Rectangle {
	h := r.Dy()
	w := image.Rect(r.Min.X, r.Min.Y-h, r.Max.X, r.Max.Y+h).Intersect(page.Rect)
	if h < 4 || w.Empty() {
		return r
	}
	inked := make([]bool, w.Dy())
	for y := w.Min.Y; y < w.Max.Y; y++ {
		n := 0
		for _, p := range page.Pix[y*page.Stride+w.Min.X : y*page.Stride+w.Max.X] {
			if p < 128 {
				n++
			}
		}
		inked[y-w.Min.Y] = n >= 2
	}
	best, bestLo, bestHi := 0, 0, 0
	for i := 0; i < len(inked); {
		if !inked[i] {
			i++
			continue
		}
		lo, hi := i, i
		for j := i + 1; j < len(inked) && j <= hi+3; j++ {
			if inked[j] {
				hi = j
			}
		}
		a, b := w.Min.Y+lo, w.Min.Y+hi+1
		if ov := min(b, r.Max.Y) - max(a, r.Min.Y); ov > best {
			best, bestLo, bestHi = ov, a, b
		}
		i = hi + 1
	}
	if best <= 0 || bestHi-bestLo > 2*h {
		return r
	}
	pad := h / 2
	return image.Rect(r.Min.X, max(w.Min.Y, bestLo-pad), r.Max.X, min(w.Max.Y, bestHi+pad))
}

// trimEdges narrows strip r of page to its text. A strip running to the
// page's edge can end on the paper's edge (a thin, maybe slanted line) or
// the background beyond it, and one beside a label can begin with a wide
// blank gap before a right-aligned value; beside either, Tesseract's
// single-line mode may read nothing at all, the value included. Groups of
// inked columns dark over most of the strip's height are dropped, and so
// are thin ones (specks, a line) set apart from every other group by more
// than the strip's height; half the strip's height is kept round the
// rest.
func trimEdges(page *image.Gray, r image.Rectangle) image.Rectangle {
	r = r.Intersect(page.Rect)
	h := r.Dy()
	if h < 4 {
		return r
	}
	type group struct {
		left, right int
		tall        bool
		most        int // the most ink of one column
	}
	var gs []group
	for x := r.Min.X; x < r.Max.X; x++ {
		n := 0
		for y := r.Min.Y; y < r.Max.Y; y++ {
			if page.Pix[y*page.Stride+x] < 128 {
				n++
			}
		}
		switch {
		case n == 0:
		case len(gs) > 0 && gs[len(gs)-1].right == x-1:
			g := &gs[len(gs)-1]
			g.right, g.tall, g.most = x, g.tall || n > h*6/10, max(g.most, n)
		default:
			gs = append(gs, group{x, x, n > h*6/10, n})
		}
	}
	// A speck: no column of it is inked over a sixth of the strip's height,
	// as none of a glyph's strokes is that short. Grain beyond the paper's
	// edge is a chain of specks, each near the next: they neither count as
	// text nor vouch for a thin group beside them.
	speck := func(g group) bool { return 6*g.most < h }
	textNear := func(i int) bool { // ink other than specks within h
		for j := i - 1; j >= 0 && gs[i].left-gs[j].right <= h; j-- {
			if !speck(gs[j]) {
				return true
			}
		}
		for j := i + 1; j < len(gs) && gs[j].left-gs[i].right <= h; j++ {
			if !speck(gs[j]) {
				return true
			}
		}
		return false
	}
	lo, hi := -1, -1
	for i, g := range gs {
		if g.tall || speck(g) {
			continue
		}
		if g.right-g.left < h/4 && !textNear(i) {
			continue
		}
		if lo < 0 {
			lo = g.left
		}
		hi = g.right
	}
	if lo < 0 {
		return r // no text-like ink: leave the strip as it was
	}
	t := image.Rect(max(r.Min.X, lo-h/2), r.Min.Y, min(r.Max.X, hi+1+h/2), r.Max.Y)
	if t.Dx() < 2*h {
		return r
	}
	return t
}

// readAround reads, in single-line mode, the strip of page around box b:
// padX wider on each side and a third of its height taller. The words'
// boxes are in page pixels; none when the strip is too small to read or
// Tesseract fails.
func readAround(c *gosseract.Client, page *image.Gray, b image.Rectangle, padX int) []Word {
	h := b.Dy()
	r := image.Rect(b.Min.X-padX, b.Min.Y-h/3, b.Max.X+padX, b.Max.Y+h/3).Intersect(page.Rect)
	if r.Dx() < h || r.Dy() < 4 {
		return nil
	}
	return readLine(c, crop(page, r), r.Min)
}

// readLine reads g, a strip of the page whose corner is at, in single-line
// mode; the words' boxes are in page pixels, none when Tesseract fails.
func readLine(c *gosseract.Client, g *image.Gray, at image.Point) []Word {
	words, err := recognize(c, g, gosseract.PSM_SINGLE_LINE)
	if err != nil {
		return nil
	}
	for i := range words {
		words[i].Box = words[i].Box.Add(at)
	}
	return words
}

// basisOf is how k was found (its pairing's weight on its confidence), 1
// when not recorded.
func (r *Result) basisOf(k string) float64 {
	if b, ok := r.basis[k]; ok {
		return b
	}
	return 1
}

// confirmDigits takes the surest of words, readings of the value's own
// box or line, that holds the field's digits: when the page read the right
// digits but doubted them because of what was glued to them (dotted
// leaders Tesseract took into the word), the digits read again lend their
// confidence — weighed by how the value was found, so a CIP taken without
// its label stays a guess.
func confirmDigits(res *Result, k string, words []Word) {
	for _, w := range words {
		if hasDigitRun(w.Text, res.fieldText(k)) {
			res.Confidence[k] = max(res.Confidence[k], w.Conf*res.basisOf(k))
		}
	}
}

// orphanSure: a field read with less (a CIP guessed from the one
// unclaimed number, at 0.4 of its word's confidence; a value paired across
// passes' words) is read again beside its orphaned label, and the surer
// reading kept.
const orphanSure = 0.5

// bwSure is the confidence a field read from a black-and-white strip needs.
// Measured on 90 photos of other designs: the black-and-white strips read
// two CIPs right, at 0.96 and 0.875, and three numbers wrong, at 0.56–0.86
// (the 0.875 is left out with them).
const bwSure = 0.9

// maxUnread caps the rows of ink no pass read that are read as single
// lines, widest first.
const maxUnread = 12

// unreadSure is the confidence a word read from such a row needs.
const unreadSure = 0.5

// recoverOrphans reads, as single lines, the strip beside and the strip
// below each label whose field no pass read, adds the words found there
// that the page read lacks, extracts again and takes those fields.
//
// A payment date read without its time, beside a time label ("Hora:")
// left alone, is completed the same way: the strips at that label are read
// with every pass's words (more, in the first page's frame), since the
// date may come from a pass other than the first, and the time is taken
// when the extraction then gives the same day with a time, more surely.
func recoverOrphans(c *gosseract.Client, page *image.Gray, res *Result, more [][]Word) {
	var extra []Word
	var keys []string
	for _, k := range keyFields { // in a fixed order: the same upload reads the same
		l, ok := res.orphans[k]
		if !ok || res.Confidence[k] >= orphanSure {
			continue // no label left alone, or a pass read the field
		}
		keys = append(keys, k)
		extra = append(extra, readOrphan(c, page, l, append(append([]Word(nil), res.Words...), extra...), func(all []Word, bw bool) bool {
			conf, found := extract(all, page.Rect).Confidence[k]
			return found && (!bw || conf >= bwSure)
		})...)
	}
	if len(extra) > 0 {
		o := extract(append(append([]Word(nil), res.Words...), extra...), page.Rect)
		res.mergeOnly(o, keys)
	}
	l, ok := res.orphans[orphanTime]
	if !ok || res.Fields.PaidAt.IsZero() || res.Fields.TimeShown != "" {
		return
	}
	day := res.Fields.PaidAt
	base := unionWords(res.Words, more)
	var got *Result
	readOrphan(c, page, l, base, func(all []Word, bw bool) bool {
		x := extract(all, page.Rect)
		conf := x.Confidence["paid_at"]
		if x.Fields.TimeShown == "" || !sameDay(x.Fields.PaidAt, day) || conf <= res.Confidence["paid_at"] || (bw && conf < bwSure) {
			return false
		}
		got = x
		return true
	})
	if got != nil {
		res.Fields.PaidAt, res.Fields.TimeShown = got.Fields.PaidAt, got.Fields.TimeShown
		res.Confidence["paid_at"] = got.Confidence["paid_at"]
		if b, ok := got.basis["paid_at"]; ok {
			res.basis["paid_at"] = b
		}
	}
}

func sameDay(a, b time.Time) bool {
	a, b = a.In(Lima), b.In(Lima)
	return a.Year() == b.Year() && a.YearDay() == b.YearDay()
}

// readOrphan reads the strip beside and the strip below label l, each in
// up to four ways, until found accepts the page's words (seen) with the
// words a reading added: cut to its text; moved onto the line of ink it
// overlaps most (fitRows); that in black and white (Tesseract's recogniser
// reads the grey pixels, and on bold digits blurred together it can return
// nothing where their silhouettes read surely); the strip as it is.
// Single-line mode is fickle on all of them: each reads values the others
// miss. It returns the accepted reading's words, or none.
func readOrphan(c *gosseract.Client, page *image.Gray, l image.Rectangle, seen []Word, found func(all []Word, bw bool) bool) []Word {
	h := l.Dy()
	for _, r := range []image.Rectangle{
		// one line's height each: single-line mode reads whichever
		// line a taller strip holds most of
		image.Rect(l.Max.X+h/2, l.Min.Y-h/4, page.Rect.Max.X, l.Max.Y+h/4), // beside
		image.Rect(l.Min.X-h, l.Max.Y, page.Rect.Max.X, l.Max.Y+9*h/5),     // below
	} {
		r = r.Intersect(page.Rect)
		if r.Dx() < 2*h || r.Dy() < h || h < 4 {
			continue
		}
		cut := trimEdges(page, r)
		fit := fitRows(page, cut)
		for i, s := range []struct {
			r  image.Rectangle
			bw bool
		}{{cut, false}, {fit, false}, {fit, true}, {r, false}} {
			if (i == 1 && fit == cut) || (i == 3 && cut == r) {
				continue
			}
			g := crop(page, s.r)
			if s.bw {
				g = binarize(g)
			}
			var add []Word
			for _, w := range readLine(c, g, s.r.Min) {
				if !overlapsAny(w.Box, seen) {
					add = append(add, w)
				}
			}
			// Black and white also turns blurred digits into other
			// digits' silhouettes (5 into 3, 8 into 9): found is told,
			// so that only a sure reading of them is taken.
			if len(add) > 0 && found(append(append([]Word(nil), seen...), add...), s.bw) {
				return add
			}
		}
	}
	return nil
}

// confirmSum re-reads the amount, the Comisión and the TOTAL from their
// own boxes when they do not add up: the contradiction is evidence of an
// edit (fraud.CrossCheck), so it must survive a second read. A value the
// crop reads otherwise, or not at all, is left unsure; one it reads the
// same keeps its confidence (the crop is of the same pixels: agreeing is
// no independent proof, so it never raises it).
func confirmSum(c *gosseract.Client, page *image.Gray, res *Result) {
	tot, okT := res.Asides["total"]
	fee, okF := res.Asides["fee"]
	b, okA := res.Boxes["amount"]
	if !okT || !okF || !okA || !res.Fields.HasAmount || res.Fields.AmountCents+fee.Cents == tot.Cents || res.Fields.AmountCents == tot.Cents {
		return // it adds up, with the commission or without it
	}
	settle := func(was int64, conf float64, box image.Rectangle) float64 {
		got, c2, ok := readMoney(c, page, box)
		switch {
		case ok && got == was:
			return conf
		case ok:
			return min(conf, c2) / 2
		}
		return min(conf, 0.5)
	}
	for _, k := range []string{"total", "fee"} {
		a := res.Asides[k]
		a.Conf = settle(a.Cents, a.Conf, a.Box)
		res.setAside(k, a, true)
	}
	res.Confidence["amount"] = settle(res.Fields.AmountCents, res.Confidence["amount"], b)
}

// readMoney reads the amount in box b of page in single-line mode: its
// cents and the confidence of the word holding its digits.
func readMoney(c *gosseract.Client, page *image.Gray, b image.Rectangle) (int64, float64, bool) {
	words := readAround(c, page, b, b.Dy()/2)
	for _, w := range words {
		if m := reMoney.FindStringSubmatch(fold(repairNumeric(w.Text))); m != nil {
			if cents, ok := parseCents(m[2]); ok {
				return cents, w.Conf, true
			}
		}
	}
	return 0, 0, false
}

// overlapsAny reports whether b shares more than a third of its area with
// one of the words' boxes: a word the page read already has.
func overlapsAny(b image.Rectangle, ws []Word) bool {
	a := b.Dx() * b.Dy()
	for _, w := range ws {
		in := b.Intersect(w.Box)
		if !in.Empty() && 3*in.Dx()*in.Dy() > a {
			return true
		}
	}
	return false
}

// hasDigitRun reports whether run is one of s's maximal runs of digits
// ("OPERACION....3091356" holds 3091356).
func hasDigitRun(s, run string) bool {
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r < '0' || r > '9' }) {
		if f == run {
			return true
		}
	}
	return false
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// encodeBMP encodes g as an 8-bit grey BMP. Leptonica reads BMP rows with
// one copy each; its PGM reader fetches every pixel with its own read call,
// which cost about a tenth of the OCR time (measured: docs/measurements.md).
func encodeBMP(g *image.Gray) []byte {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	stride := (w + 3) &^ 3
	const head = 14 + 40 + 256*4
	size := head + stride*h
	b := make([]byte, size)
	le16 := func(o int, v int) { b[o], b[o+1] = byte(v), byte(v>>8) }
	le32 := func(o int, v int) { le16(o, v); le16(o+2, v>>16) }
	b[0], b[1] = 'B', 'M'
	le32(2, size)
	le32(10, head)
	le32(14, 40) // BITMAPINFOHEADER
	le32(18, w)
	le32(22, h) // positive: rows bottom-up
	le16(26, 1)
	le16(28, 8)
	le32(34, stride*h)
	// resolution 0, as PGM had: Tesseract assumes its default
	le32(46, 256)
	for i := 0; i < 256; i++ { // grey palette
		o := 54 + 4*i
		b[o], b[o+1], b[o+2] = byte(i), byte(i), byte(i)
	}
	for y := 0; y < h; y++ {
		copy(b[head+(h-1-y)*stride:], g.Pix[y*g.Stride:y*g.Stride+w])
	}
	return b
}
