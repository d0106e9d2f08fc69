package matcher

import (
	"sort"
	"time"

	"github.com/constancia/constancia"
)

// Decisions.
const (
	Verified    = "verified"
	NeedsReview = "needs_review"
	Rejected    = "rejected"
	// Superseded marks a receipt held for review whose buyer sent another
	// photo of the same voucher for the same order; the newer one decides.
	Superseded = "superseded"
)

// Reason codes. Stable: merchants' systems switch on them.
const (
	ReasonAmountUnderpaid = "amount_mismatch_underpaid"
	ReasonAmountOverpaid  = "amount_mismatch_overpaid"
	ReasonCurrency        = "currency_mismatch"
	ReasonPaidAfterExpiry = "paid_after_expiry"
	ReasonPaidBeforeOrder = "paid_before_order"
	ReasonAlreadyPaid     = "order_already_paid"
	ReasonOrderClosed     = "order_closed"
	ReasonNotFound        = "order_not_found"
	// The voucher came for an order (its link, or the API's order_id)
	// but pays another CIP, which no order of the merchant has.
	ReasonCIPMismatch     = "cip_mismatch"
	ReasonAmbiguous       = "ambiguous_match"
	ReasonLowConfidence   = "low_confidence"
	ReasonCIPFuzzy        = "cip_near_match"
	ReasonNoCIP           = "cip_not_read"
	ReasonHighAmount      = "amount_above_review_threshold"
	ReasonMissingFields   = "fields_not_read"
	ReasonOrderMismatch   = "order_id_mismatch"
	ReasonDuplicate       = "duplicate"
	ReasonEdited          = "edited"
	ReasonSuspiciousImage = "suspicious_metadata"
	ReasonSuspiciousPixel = "suspicious_pixels"
	ReasonPoorImage       = "poor_image"
)

// Policy is a merchant's matching policy and order defaults.
type Policy struct {
	AmountToleranceCents int64         `json:"amount_tolerance_cents"` // accepted |paid − due| (default 0: exact)
	AutoVerifyConfidence float64       `json:"auto_verify_confidence"` // below this on a key field: review (default 0.8)
	ReviewAboveCents     int64         `json:"review_above_cents"`     // amounts above this always get a person (0 = never)
	CIPExpiry            time.Duration `json:"cip_expiry"`             // default life of a new order's CIP (default 72 h)
	// VerifyPoorImages: a blurry, dark or small photo whose key fields
	// were all read at the auto-verify confidence may verify (default
	// false: every poor image gets a person, as pixel checks see less).
	VerifyPoorImages bool `json:"verify_poor_images"`
}

// DefaultPolicy is exact amounts, auto-verify at 0.8 confidence and CIPs
// that expire after 72 hours.
var DefaultPolicy = Policy{AutoVerifyConfidence: 0.8, CIPExpiry: 72 * time.Hour}

// Validate names the first bad field.
func (p Policy) Validate() error {
	switch {
	case p.AmountToleranceCents < 0:
		return constancia.Errorf(constancia.EINVALID, "policy: amount_tolerance_cents must not be negative")
	case p.AutoVerifyConfidence < 0 || p.AutoVerifyConfidence > 1:
		return constancia.Errorf(constancia.EINVALID, "policy: auto_verify_confidence must be between 0 and 1")
	case p.ReviewAboveCents < 0:
		return constancia.Errorf(constancia.EINVALID, "policy: review_above_cents must not be negative")
	case p.CIPExpiry != 0 && (p.CIPExpiry < time.Hour || p.CIPExpiry > 30*24*time.Hour):
		return constancia.Errorf(constancia.EINVALID, "policy: cip_expiry must be between 1h and 30 days")
	}
	return nil
}

// Voucher is what was read from an upload, as the matcher needs it.
type Voucher struct {
	Merchant    string
	OrderID     string // the order the buyer's link was for, if any
	CIP         string
	AmountCents int64
	HasAmount   bool
	Currency    string
	PaidAt      time.Time
	// DateOnly: the voucher prints the payment's day, not its time (PaidAt
	// is that day's midnight in Lima): the payment fell somewhen that day.
	DateOnly   bool
	Confidence map[string]float64
	Flags      []string // fraud flags
	// DuplicateOf is the earlier receipt a duplicate or edit was found
	// against. An edit seen in the image alone has none: a person looks
	// rather than the voucher being rejected on pixel evidence.
	DuplicateOf string
	Quality     []string
}

// Candidate is an order the voucher may pay, with why.
type Candidate struct {
	OrderID string   `json:"order_id"`
	Score   float64  `json:"score"`
	Reasons []string `json:"reasons"`
	order   *Order
}

// Decision is the matcher's verdict on one voucher.
type Decision struct {
	Decision   string      `json:"decision"`
	Reasons    []string    `json:"reasons"`
	OrderID    string      `json:"order_id,omitempty"`
	Candidates []Candidate `json:"candidates"`
}

var confusable = map[byte]string{'0': "869", '1': "74", '2': "7", '3': "85", '4': "19", '5': "63", '6': "508", '7': "12", '8': "0365", '9': "04"}

// nearCIPs lists the CIPs one OCR digit confusion away from cip.
func nearCIPs(cip string) []string {
	var out []string
	b := []byte(cip)
	for i, c := range b {
		for _, r := range []byte(confusable[c]) {
			b[i] = r
			out = append(out, string(b))
		}
		b[i] = c
	}
	return out
}

// clockSkew: a voucher's payment time, printed by an agent's terminal or
// a bank, may stand this much before the merchant's own record of the
// order's creation.
const clockSkew = 5 * time.Minute

// candidates finds orders for v: exact CIP first, then a CIP one OCR
// confusion away, then the same amount and currency paid inside the
// order's window, among the merchant's orders.
func (b *Book) candidates(v Voucher) []Candidate {
	b.mu.RLock()
	defer b.mu.RUnlock()
	seen := map[string]bool{}
	var out []Candidate
	add := func(k string, score float64, reason string) {
		o := b.orders[k]
		if o == nil || o.Merchant != v.Merchant || seen[k] {
			return
		}
		seen[k] = true
		c := *o
		out = append(out, Candidate{OrderID: o.OrderID, Score: score, Reasons: []string{reason}, order: &c})
	}
	if v.CIP != "" {
		for _, k := range b.byCIP[v.CIP] {
			add(k, 1.0, "cip_exact")
		}
		if len(out) == 0 {
			for _, n := range nearCIPs(v.CIP) {
				for _, k := range b.byCIP[n] {
					add(k, 0.7, ReasonCIPFuzzy)
				}
			}
		}
	}
	if len(out) == 0 && v.HasAmount {
		for _, k := range b.byAmount[amountKey{v.Merchant, v.Currency, v.AmountCents}] {
			o := b.orders[k]
			if o == nil || !o.Open() {
				continue
			}
			if !v.PaidAt.IsZero() && (v.paidBefore(o.CreatedAt.Add(-clockSkew)) || v.PaidAt.After(o.ExpiresAt)) {
				continue
			}
			add(k, 0.5, "amount_and_time")
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Score > out[j].Score })
	return out
}

// paidBefore reports whether the payment certainly happened before t: for
// a voucher that prints only the day, the whole day is before t.
func (v Voucher) paidBefore(t time.Time) bool {
	if v.DateOnly {
		return !v.PaidAt.AddDate(0, 0, 1).After(t)
	}
	return v.PaidAt.Before(t)
}

// Match decides what a voucher proves. It only reads the book; Apply
// records the outcome on the order.
func (b *Book) Match(v Voucher, p Policy) Decision {
	if p.AutoVerifyConfidence == 0 {
		p.AutoVerifyConfidence = DefaultPolicy.AutoVerifyConfidence
	}
	d := Decision{Candidates: b.candidates(v)}
	reject := func(r ...string) Decision { d.Decision, d.Reasons = Rejected, append(d.Reasons, r...); return d }
	for _, f := range v.Flags {
		switch f {
		case ReasonDuplicate, ReasonEdited:
			d.Reasons = append(d.Reasons, f)
		case ReasonSuspiciousImage, ReasonSuspiciousPixel:
			d.Reasons = append(d.Reasons, f)
		}
	}
	if hasAny(d.Reasons, ReasonDuplicate) || (hasAny(d.Reasons, ReasonEdited) && v.DuplicateOf != "") {
		if len(d.Candidates) > 0 {
			d.OrderID = d.Candidates[0].OrderID
		}
		return reject()
	}
	if len(d.Candidates) == 0 {
		notFound := ReasonNotFound
		if v.OrderID != "" && v.CIP != "" {
			if _, err := b.Get(v.Merchant, v.OrderID); err == nil {
				notFound, d.OrderID = ReasonCIPMismatch, v.OrderID
			}
		}
		if v.CIP == "" && !v.HasAmount {
			d.Decision, d.Reasons = NeedsReview, append(d.Reasons, ReasonMissingFields)
			return d
		}
		if c, ok := v.Confidence["cip"]; ok && v.CIP != "" && c < p.AutoVerifyConfidence {
			// An unsure CIP may be a misreading of the buyer's own.
			d.Decision, d.Reasons = NeedsReview, append(d.Reasons, notFound, ReasonLowConfidence)
			return d
		}
		if len(v.Quality) > 0 {
			// So may a poor photo's, however surely read, and a CIP a poor
			// photo lost is no proof of a payment to no order.
			d.Decision, d.Reasons = NeedsReview, append(d.Reasons, notFound, ReasonPoorImage)
			return d
		}
		return reject(notFound)
	}
	if len(d.Candidates) > 1 && d.Candidates[0].Score == d.Candidates[1].Score {
		d.Decision, d.Reasons = NeedsReview, append(d.Reasons, ReasonAmbiguous)
		return d
	}
	c := d.Candidates[0]
	o := c.order
	d.OrderID = o.OrderID
	review := append([]string(nil), d.Reasons...)
	if v.OrderID != "" && v.OrderID != o.OrderID {
		review = append(review, ReasonOrderMismatch)
	}
	if c.Score < 1 {
		review = append(review, c.Reasons...)
	}
	switch o.Status {
	case StatusVerified, StatusPaid, StatusSettled:
		return reject(ReasonAlreadyPaid)
	case StatusCancelled, StatusRefunded:
		return reject(ReasonOrderClosed)
	}
	// A field read with low confidence may be a misreading: what it
	// contradicts goes to an agent instead of rejecting the buyer. So
	// does any field of a poor photo (blurry, small…), which misreads
	// with any confidence: a blurry "23" read "21" at 0.91 put the
	// payment two days before the order.
	var unsure []string
	rejectOn := func(field, reason string) bool {
		if c, ok := v.Confidence[field]; (ok && c < p.AutoVerifyConfidence) || len(v.Quality) > 0 {
			unsure = append(unsure, reason)
			return false
		}
		return true
	}
	if v.HasAmount {
		switch diff := v.AmountCents - o.AmountCents; {
		case v.Currency != o.Currency:
			if rejectOn("amount", ReasonCurrency) {
				return reject(ReasonCurrency)
			}
		case diff < -p.AmountToleranceCents:
			if rejectOn("amount", ReasonAmountUnderpaid) {
				return reject(ReasonAmountUnderpaid)
			}
		case diff > p.AmountToleranceCents:
			review = append(review, ReasonAmountOverpaid)
		}
	} else {
		review = append(review, ReasonMissingFields)
	}
	if !v.PaidAt.IsZero() {
		if v.PaidAt.After(o.ExpiresAt) && rejectOn("paid_at", ReasonPaidAfterExpiry) {
			return reject(ReasonPaidAfterExpiry)
		}
		if v.paidBefore(o.CreatedAt.Add(-clockSkew)) && rejectOn("paid_at", ReasonPaidBeforeOrder) {
			return reject(ReasonPaidBeforeOrder)
		}
	} else {
		review = append(review, ReasonMissingFields)
	}
	review = append(review, unsure...)
	if v.CIP == "" {
		review = append(review, ReasonNoCIP)
	}
	for _, k := range []string{"cip", "amount", "paid_at"} {
		if c, ok := v.Confidence[k]; ok && c < p.AutoVerifyConfidence {
			review = append(review, ReasonLowConfidence)
			break
		}
	}
	if p.ReviewAboveCents > 0 && o.AmountCents > p.ReviewAboveCents {
		review = append(review, ReasonHighAmount)
	}
	if len(v.Quality) > 0 && !(p.VerifyPoorImages && hasAll(v.Confidence, p.AutoVerifyConfidence, "cip", "amount", "paid_at")) {
		review = append(review, ReasonPoorImage)
	}
	d.Reasons = dedupe(review)
	if len(d.Reasons) > 0 {
		d.Decision = NeedsReview
	} else {
		d.Decision = Verified
	}
	return d
}

// hasAll reports whether every field in ks was read with at least min.
func hasAll(conf map[string]float64, min float64, ks ...string) bool {
	for _, k := range ks {
		if c, ok := conf[k]; !ok || c < min {
			return false
		}
	}
	return true
}

func hasAny(s []string, xs ...string) bool {
	for _, a := range s {
		for _, x := range xs {
			if a == x {
				return true
			}
		}
	}
	return false
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// Apply records a decision on its order: verified → verified;
// needs_review → receipt_submitted. Rejections leave the order as it is.
func (b *Book) Apply(d Decision, merchant, receiptID string) (*Order, error) {
	if d.OrderID == "" {
		return nil, nil
	}
	var to string
	switch d.Decision {
	case Verified:
		to = StatusVerified
	case NeedsReview:
		to = StatusReceiptSubmitted
	default:
		return nil, nil
	}
	return b.Move(merchant, d.OrderID, to, "voucher:"+receiptID, joinReasons(d.Reasons), func(o *Order) { o.ReceiptID = receiptID })
}

func joinReasons(r []string) string {
	s := ""
	for i, x := range r {
		if i > 0 {
			s += ","
		}
		s += x
	}
	return s
}
