package fraud

import (
	"bytes"
	"sort"
	"strings"
	"time"

	"github.com/constancia/constancia/matcher"
	"github.com/constancia/constancia/storage"
)

// Stable reason codes. Flags in scan output and the API use the first two.
const (
	FlagDuplicate          = "duplicate"           // the same voucher was already used
	FlagEdited             = "edited"              // a voucher like an earlier one with a field changed
	FlagSuspiciousMetadata = "suspicious_metadata" // an image editor's name in the file
)

// Config holds the thresholds; DefaultConfig documents the measured choice.
type Config struct {
	// MaxPHashDistance nominates earlier receipts as candidates (bits of 64).
	MaxPHashDistance int
	// MaxCandidates bounds how many near hashes are examined.
	MaxCandidates int
	// TimeTolerance: payment times this close count as the same.
	TimeTolerance time.Duration
	// MinFieldConfidence: a field read with less confidence, on either
	// side, is neither agreement nor difference (a misreading is no edit).
	MinFieldConfidence float64
	// PoorFieldConfidence: on an image the reader gave quality reasons
	// (blurry, too small…), a field that differs counts as a difference
	// only when read at this or more (agreement still counts from
	// MinFieldConfidence): a blurry photo misreads surely enough, and a
	// buyer asked for a sharper one sends one that reads the field right.
	PoorFieldConfidence float64
	// ConfusedFieldConfidence: a field that differs by one digit that OCR
	// takes for another (8 and 0, 5 and 6…) counts as a difference only
	// when read at this or more on both sides: a re-photo misreads so
	// (281580 read 281500 at 0.64), where an editor's digit is read as
	// surely as the rest.
	ConfusedFieldConfidence float64
}

// DefaultConfig: a pHash within 14 bits nominates candidates (re-captures
// measured up to ~12 on the dev corpus; same-template vouchers also fall
// inside, which is why the fields decide).
var DefaultConfig = Config{MaxPHashDistance: 14, MaxCandidates: 32, TimeTolerance: time.Minute, MinFieldConfidence: 0.5, PoorFieldConfidence: 0.9, ConfusedFieldConfidence: 0.8}

// Lookup is what the checker needs of the index (storage.Index has it).
type Lookup interface {
	Get(id string) (*storage.Record, error)
	BySHA256(sum string) ([]*storage.Record, error)
	ByCIP(cip string) ([]*storage.Record, error)
	ByOperation(op string) ([]*storage.Record, error)
}

// Evidence is what is known of a new upload.
type Evidence struct {
	Merchant, OrderID string
	SHA256            string
	Hashes            Hashes
	Fields            map[string]string  // as in scan: cip, operation, amount, currency, paid_at
	Confidence        map[string]float64 // per field, 0–1 (nil: all sure)
	Quality           []string           // the reader's quality reasons for the image (blurry, too_small…)
	Data              []byte             // the file, for metadata checks (may be nil)
	Inspected         []Reason           // single-image forensics (Inspect, CrossCheck), run before the check
}

// Reason is one piece of evidence behind a finding, for the support agent.
type Reason struct {
	Code     string `json:"code"`
	Detail   string `json:"detail"`
	RefID    string `json:"ref_id,omitempty"`   // the earlier receipt
	Field    string `json:"field,omitempty"`    // for edits: which field differs
	Distance int    `json:"distance,omitempty"` // pHash distance to RefID
	Layer    string `json:"layer"`              // sha256, payment, perceptual, metadata
}

// Finding is the verdict on one upload.
type Finding struct {
	Flags       []string // FlagDuplicate, FlagEdited, FlagSuspiciousMetadata…
	DuplicateOf string   // the earlier receipt re-used or edited, if any
	Retry       bool     // the same voucher re-sent for the same order
	RetryOf     string   // the earlier receipt of that order, when Retry
	RetakeOf    string   // a new capture of a voucher not verified for the same order: that earlier receipt
	Reasons     []Reason
}

func (f *Finding) flag(code string) {
	for _, x := range f.Flags {
		if x == code {
			return
		}
	}
	f.Flags = append(f.Flags, code)
}

// Checker runs the layers against the stored receipts.
type Checker struct {
	cfg    Config
	ix     Lookup
	hashes *HashIndex
}

// NewChecker returns a checker over ix whose perceptual hashes are in hashes.
func NewChecker(cfg Config, ix Lookup, hashes *HashIndex) *Checker {
	if cfg.MaxCandidates == 0 {
		cfg = DefaultConfig
	}
	return &Checker{cfg: cfg, ix: ix, hashes: hashes}
}

// fieldCmp is the agreement of two receipts' fields.
type fieldCmp struct {
	agree, differ []string
	misread       []string // differ by one character: one OCR confusion apart
	retaken       []string // read otherwise on a poor earlier capture for the same order
}

func (c *Checker) compare(a, b map[string]string, ca, cb map[string]float64, poorA, poorB bool) fieldCmp {
	var r fieldCmp
	below := func(conf map[string]float64, k string, min float64) bool {
		v, ok := conf[k]
		return ok && v < min
	}
	// A difference read from a poor image counts only when read surely.
	unsureDiff := func(conf map[string]float64, k string, poor bool) bool {
		return poor && c.cfg.PoorFieldConfidence > 0 && below(conf, k, c.cfg.PoorFieldConfidence)
	}
	for _, k := range []string{"cip", "operation", "amount", "paid_at"} {
		x, y := a[k], b[k]
		if x == "" || y == "" || below(ca, k, c.cfg.MinFieldConfidence) || below(cb, k, c.cfg.MinFieldConfidence) {
			continue
		}
		same := x == y
		if k == "paid_at" {
			same = sameTime(x, y, c.cfg.TimeTolerance)
		}
		if k == "amount" {
			same = x == y && a["currency"] == b["currency"]
		}
		switch {
		case same:
			r.agree = append(r.agree, k)
		case unsureDiff(ca, k, poorA) || unsureDiff(cb, k, poorB):
			// neither: a blurry photo's misreading is no edit
		case confusedDigit(x, y) && (below(ca, k, c.cfg.ConfusedFieldConfidence) || below(cb, k, c.cfg.ConfusedFieldConfidence)):
			// neither: one digit read for its look-alike, unsurely
		case oneEdit(x, y):
			r.differ = append(r.differ, k)
			r.misread = append(r.misread, k)
		default:
			r.differ = append(r.differ, k)
		}
	}
	return r
}

func sameTime(a, b string, tol time.Duration) bool {
	ta, err1 := time.Parse(time.RFC3339, a)
	tb, err2 := time.Parse(time.RFC3339, b)
	if err1 != nil || err2 != nil {
		return a == b
	}
	d := ta.Sub(tb)
	return d <= tol && d >= -tol
}

func has(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

// Check runs every layer for e and returns the finding. Lookup failures are
// returned; a finding is never guessed from a partial check.
func (c *Checker) Check(e Evidence) (Finding, error) {
	var f Finding
	// Layer 0: editor traces in the file.
	if sw := editorTrace(e.Data); sw != "" {
		f.flag(FlagSuspiciousMetadata)
		f.Reasons = append(f.Reasons, Reason{Code: FlagSuspiciousMetadata, Layer: "metadata", Detail: "the file was saved by " + sw})
	}
	// Layer 0b: the field's pixels stand out from the rest of the voucher,
	// or its fields contradict what it prints besides them.
	for _, r := range e.Inspected {
		f.flag(r.Code)
		f.Reasons = append(f.Reasons, r)
	}
	// Layer 1: the very same bytes.
	same, err := c.ix.BySHA256(e.SHA256)
	if err != nil {
		return f, err
	}
	for _, r := range same {
		if misdirected(r) {
			continue
		}
		if c.retry(e, r) {
			if r.Decision == matcher.Superseded {
				continue // a newer capture replaced it: the payment layer finds that one
			}
			f.Retry, f.RetryOf = true, r.ID
			continue
		}
		f.flag(FlagDuplicate)
		f.DuplicateOf = r.ID
		f.Reasons = append(f.Reasons, Reason{Code: FlagDuplicate, Layer: "sha256", RefID: r.ID, Detail: "byte-for-byte the same file as an earlier upload"})
		return f, nil
	}
	if f.Retry {
		return f, nil
	}
	// Layers 2 and 3: candidates sharing an identifier or a near hash; the
	// fields decide.
	cands := map[string]*storage.Record{}
	dist := map[string]int{}
	add := func(rs []*storage.Record, err error) error {
		for _, r := range rs {
			cands[r.ID] = r
		}
		return err
	}
	if cip := e.Fields["cip"]; cip != "" {
		if err := add(c.ix.ByCIP(cip)); err != nil {
			return f, err
		}
	}
	if op := e.Fields["operation"]; op != "" {
		if err := add(c.ix.ByOperation(op)); err != nil {
			return f, err
		}
	}
	if c.hashes != nil && e.Hashes.PHash != 0 {
		for _, m := range c.hashes.Near(e.Hashes.PHash, c.cfg.MaxPHashDistance, c.cfg.MaxCandidates) {
			dist[m.ID] = m.Distance
			if _, ok := cands[m.ID]; !ok {
				r, err := c.ix.Get(m.ID)
				if err != nil {
					continue // purged from the index meanwhile
				}
				cands[m.ID] = r
			}
		}
	}
	type verdict struct {
		r     *storage.Record
		cmp   fieldCmp
		score int
	}
	var vs []verdict
	for _, r := range cands {
		if r.SHA256 == e.SHA256 || misdirected(r) {
			continue // a retry seen above, or an upload that claimed nothing
		}
		cmp := c.compare(e.Fields, r.Fields, e.Confidence, r.Confidence, len(e.Quality) > 0, len(r.Quality) > 0)
		if len(cmp.differ) > 0 && len(r.Quality) > 0 && c.retry(e, r) {
			// A new capture for the same order of a photo the reader
			// found poor (blurry, small…), which reads a field otherwise:
			// a blurry photo misreads with any confidence (a day "23"
			// read "21" at 0.91), and the buyer was asked for this one.
			// It is a retake, judged on its own reading; the earlier
			// reading stays in the reasons for an agent. Not the other
			// way round: a poor capture after a sharp one is compared
			// as any upload is.
			cmp.retaken, cmp.differ, cmp.misread = cmp.differ, nil, nil
		}
		idAgree := has(cmp.agree, "cip") || has(cmp.agree, "operation")
		_, near := dist[r.ID]
		switch {
		case len(cmp.differ) == 0 && (len(cmp.agree) >= 2 || (near && len(cmp.agree) >= 1 && idAgree)):
			vs = append(vs, verdict{r, cmp, 100 + len(cmp.agree)})
		case len(cmp.differ) > 0 && idAgree && len(cmp.agree) >= 2:
			vs = append(vs, verdict{r, cmp, 50 + len(cmp.agree)})
		case near && !idAgree && len(cmp.differ) == len(cmp.misread) && has(cmp.agree, "amount") && len(cmp.agree)+len(cmp.misread) >= 3:
			// A re-capture read with an OCR slip (no identifier read the
			// same, so an edit cannot be told): the same image
			// (near hash), the same amount, the rest one character apart.
			cmp.agree, cmp.differ = append(cmp.agree, cmp.misread...), nil
			vs = append(vs, verdict{r, cmp, 90 + len(cmp.agree)})
		}
	}
	if len(vs) == 0 {
		return f, nil
	}
	sort.Slice(vs, func(i, j int) bool {
		if vs[i].score != vs[j].score {
			return vs[i].score > vs[j].score
		}
		return vs[i].r.UploadedAt.Before(vs[j].r.UploadedAt)
	})
	best := vs[0]
	if len(best.cmp.differ) == 0 && c.retry(e, best.r) {
		// Another capture of the same voucher for the same order: measured
		// against the order's latest receipt of it.
		last := best
		for _, v := range vs[1:] {
			if len(v.cmp.differ) == 0 && c.retry(e, v.r) && v.r.UploadedAt.After(last.r.UploadedAt) {
				last = v
			}
		}
		if last.r.Decision == matcher.Verified {
			f.Retry, f.RetryOf = true, last.r.ID
			return f, nil
		}
		// Not verified (held for review, a new photo asked for, or turned
		// down on a reading): the new photo is read on its own merits,
		// not answered with the earlier result.
		f.RetakeOf = last.r.ID
		detail := "a new capture of a voucher already sent for this order (" + strings.Join(last.cmp.agree, ", ") + " agree)"
		for _, k := range last.cmp.retaken {
			detail += "; " + k + " is " + e.Fields[k] + " here, read " + last.r.Fields[k] + " on the earlier, poor capture"
		}
		f.Reasons = append(f.Reasons, Reason{Code: "retake", Layer: "payment", RefID: last.r.ID, Detail: detail})
		return f, nil
	}
	f.DuplicateOf = best.r.ID
	layer := "payment"
	if _, ok := dist[best.r.ID]; ok && !has(best.cmp.agree, "cip") && !has(best.cmp.agree, "operation") {
		layer = "perceptual"
	}
	if len(best.cmp.differ) == 0 {
		f.flag(FlagDuplicate)
		f.Reasons = append(f.Reasons, Reason{Code: FlagDuplicate, Layer: layer, RefID: best.r.ID, Distance: dist[best.r.ID],
			Detail: "same payment as an earlier upload (" + strings.Join(best.cmp.agree, ", ") + " agree)"})
		return f, nil
	}
	f.flag(FlagEdited)
	for _, fld := range best.cmp.differ {
		f.Reasons = append(f.Reasons, Reason{Code: FlagEdited, Layer: layer, RefID: best.r.ID, Field: fld, Distance: dist[best.r.ID],
			Detail: fld + " is " + e.Fields[fld] + " here but " + best.r.Fields[fld] + " on an earlier voucher whose " + strings.Join(best.cmp.agree, ", ") + " agree"})
	}
	return f, nil
}

// misdirected: an earlier receipt that named no order of its own — sent
// through another order's link (its CIP named another order), for an
// order whose CIP it does not pay, or paying a CIP no order had yet — and
// was not verified by an agent claimed no payment: the buyer who sent a
// voucher to the wrong order and then to its own is not re-using it. Once
// an agent approves it, it counts.
func misdirected(r *storage.Record) bool {
	return r.Decision != matcher.Verified &&
		(has(r.Reasons, matcher.ReasonOrderMismatch) || has(r.Reasons, matcher.ReasonCIPMismatch) || has(r.Reasons, matcher.ReasonNotFound))
}

// retry: the same voucher again for the same order of the same merchant.
func (c *Checker) retry(e Evidence, r *storage.Record) bool {
	return e.OrderID != "" && r.OrderID == e.OrderID && r.Merchant == e.Merchant
}

var editors = []string{"Adobe Photoshop", "Photoshop", "GIMP", "Snapseed", "PicsArt", "Canva", "Pixlr", "Lightroom", "Affinity Photo", "paint.net", "Fotor", "Picsart"}

// editorTrace returns the name of an image editor found in the file's
// metadata segments (JPEG APP1/XMP, PNG text chunks), or "".
func editorTrace(data []byte) string {
	if len(data) == 0 {
		return ""
	}
	head := data
	if len(head) > 64<<10 {
		head = head[:64<<10] // metadata sits before the image data
	}
	for _, ed := range editors {
		if bytes.Contains(head, []byte(ed)) {
			return ed
		}
	}
	return ""
}

// confusedPairs lists the digit pairs Tesseract reads one for the other
// on blurred print, each smaller digit first, as this project's probe
// photos showed them (8 read 0, 6 read 0, 8 read 5…).
const confusedPairs = " 08 06 09 38 56 58 68 89 17 "

func confusedPair(a, b byte) bool {
	if a > b {
		a, b = b, a
	}
	return strings.Contains(confusedPairs, " "+string([]byte{a, b})+" ")
}

// confusedDigit reports whether a and b, of one length, differ in exactly
// one character, a digit read for its look-alike.
func confusedDigit(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	n := 0
	ok := false
	for i := 0; i < len(a); i++ {
		if a[i] != b[i] {
			n++
			ok = confusedPair(a[i], b[i])
		}
	}
	return n == 1 && ok
}

// oneEdit reports whether a and b differ by exactly one substitution,
// insertion or deletion.
func oneEdit(a, b string) bool {
	if a == b {
		return false
	}
	if len(a) > len(b) {
		a, b = b, a
	}
	if len(b)-len(a) > 1 {
		return false
	}
	i := 0
	for i < len(a) && a[i] == b[i] {
		i++
	}
	if len(a) == len(b) {
		return a[i+1:] == b[i+1:]
	}
	return a[i:] == b[i+1:]
}
