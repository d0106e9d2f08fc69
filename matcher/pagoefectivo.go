package matcher

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/constancia/constancia"
)

// VerifySignature checks a PagoEfectivo notification: header is the hex
// HMAC-SHA256 of the raw body with the merchant's secret (an optional
// "sha256=" prefix is accepted). The comparison is constant-time.
func VerifySignature(secret, body []byte, header string) bool {
	got, err := hex.DecodeString(strings.TrimPrefix(strings.TrimSpace(header), "sha256="))
	if err != nil || len(secret) == 0 {
		return false
	}
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return hmac.Equal(got, m.Sum(nil))
}

// Notification is PagoEfectivo's event about a CIP.
type Notification struct {
	ID        string `json:"id"`
	Event     string `json:"event"` // cip.paid, cip.expired, cip.refunded, …
	CIP       string `json:"cip"`
	Amount    string `json:"amount,omitempty"`
	Currency  string `json:"currency,omitempty"`
	PaidAt    string `json:"paid_at,omitempty"`
	Operation string `json:"operation,omitempty"`
}

// NotificationResult says what handling a notification did.
type NotificationResult struct {
	Replay  bool   // the event id was handled before; nothing changed
	Known   bool   // a handled event type
	OrderID string // the order it concerns, if any
	Status  string // the order's status after it
	Moved   bool   // the event changed the order's status
	// Stale: the order is past the state the event would give it (a
	// cip.expired after the payment, a payment of a cancelled order).
	// The event is kept and answered, so PagoEfectivo does not resend
	// it; a payment is recorded on the order for the reconciliation.
	Stale bool
	// PaidLate: a stale payment, kept on an order that no longer expected
	// one (cancelled or refunded): the merchant owes the buyer a refund.
	PaidLate bool
}

// HandleNotification verifies body's signature, then applies the event to
// the merchant's order with that CIP. Replays are idempotent; unknown
// events are stored and reported, never dropped.
//
// An event is marked handled only once it took effect (or could never
// take effect), so a delivery that failed — no order with that CIP yet,
// the database unavailable — is applied when PagoEfectivo sends it again.
func (b *Book) HandleNotification(merchant string, secret, body []byte, signature string) (NotificationResult, error) {
	var res NotificationResult
	if !VerifySignature(secret, body, signature) {
		return res, constancia.Errorf(constancia.EINVALID, "notification signature does not match")
	}
	var n Notification
	if err := json.Unmarshal(body, &n); err != nil {
		return res, constancia.Wrap(err, constancia.EINVALID, "notification body is not valid JSON")
	}
	if n.ID == "" {
		return res, constancia.Errorf(constancia.EINVALID, "notification has no id")
	}
	b.events.Lock()
	defer b.events.Unlock()
	key := []byte(merchant + "\x00" + n.ID)
	seen := false
	if err := b.db.View(func(tx *bolt.Tx) error {
		seen = tx.Bucket(bEvents).Get(key) != nil
		return nil
	}); err != nil {
		return res, constancia.Wrap(err, constancia.EUNAVAILABLE, "cannot read the notifications")
	}
	if seen {
		res.Replay = true
		return res, nil
	}
	handled := func() (NotificationResult, error) {
		if err := b.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bEvents).Put(key, body) }); err != nil {
			return res, constancia.Wrap(err, constancia.EUNAVAILABLE, "cannot store the notification")
		}
		return res, nil
	}
	var to string
	switch n.Event {
	case "cip.paid":
		to = StatusPaid
	case "cip.expired":
		to = StatusExpired
	case "cip.refunded":
		to = StatusRefunded
	default:
		return handled() // kept in pe_events for audit
	}
	res.Known = true
	var target *Order
	for _, o := range b.ByCIP(n.CIP) {
		if o.Merchant == merchant {
			target = o
		}
	}
	if target == nil {
		return res, constancia.Errorf(constancia.ENOTFOUND, "no order with CIP %s", n.CIP)
	}
	res.OrderID, res.Status = target.OrderID, target.Status
	paid := func(o *Order) {
		if to != StatusPaid {
			return
		}
		if t, err := time.Parse(time.RFC3339, n.PaidAt); err == nil {
			t = t.UTC()
			o.PaidAt = &t
		}
		if c, ok := ParseAmount(n.Amount); ok {
			o.PaidCents = c
		}
	}
	if target.Status == to {
		return handled()
	}
	if !target.CanMove(to) {
		res.Stale = true
		if to == StatusPaid {
			// Money arrived for an order that no longer expects it: the
			// reconciliation must show it (a refund is due).
			if _, err := b.Note(merchant, target.OrderID, "pagoefectivo:"+n.ID, n.Event+" while "+target.Status, paid); err != nil {
				return res, err
			}
			res.PaidLate = target.Status == StatusCancelled || target.Status == StatusRefunded
		}
		return handled()
	}
	o, err := b.Move(merchant, target.OrderID, to, "pagoefectivo:"+n.ID, n.Event, paid)
	if err != nil {
		return res, err
	}
	res.Status, res.Moved = o.Status, true
	return handled()
}

// ParseAmount reads an amount as written in files and by people —
// "149.90", "1,249.00", "1.249,50", "149,90" or "S/ 149.90" — as cents.
// The last '.' or ',' followed by one or two digits is the decimal mark;
// others group thousands. A lone separator followed by three digits
// ("1.999", "2,500") could be either, so it is refused rather than
// guessed: read as grouping, "1.999" would be 1999.00.
func ParseAmount(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	for _, p := range []string{"S/.", "S/", "PEN", "US$", "USD", "$"} {
		s = strings.TrimSpace(strings.TrimPrefix(s, p))
	}
	if s == "" {
		return 0, false
	}
	dec := strings.LastIndexAny(s, ".,")
	if dec >= 0 && len(s)-dec-1 == 3 {
		// No decimals: every separator groups, so there must be two
		// of them, both the same mark.
		other := ","
		if s[dec] == ',' {
			other = "."
		}
		if strings.IndexAny(s, ".,") == dec || strings.Contains(s, other) {
			return 0, false
		}
	}
	intPart, frac := s, ""
	if dec >= 0 && len(s)-dec-1 <= 2 {
		intPart, frac = s[:dec], s[dec+1:]
	}
	return cents(strings.NewReplacer(",", "", ".", "", " ", "").Replace(intPart), frac)
}

// ParseDecimal reads the canonical amount an API takes — digits, then
// optionally '.' and one or two digits ("149.90", "7", "0.5") — as cents.
// No currency, no grouping, no sign.
func ParseDecimal(s string) (int64, bool) {
	intPart, frac, _ := strings.Cut(s, ".")
	if intPart == "" || (strings.Contains(s, ".") && frac == "") {
		return 0, false
	}
	return cents(intPart, frac)
}

// cents reads whole units and at most two decimal digits, all ASCII
// digits, as cents; amounts past 10¹¹ units are refused.
func cents(whole, frac string) (int64, bool) {
	if len(frac) > 2 {
		return 0, false
	}
	for len(frac) < 2 {
		frac += "0"
	}
	var n int64
	for _, c := range whole + frac {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
		if n > 1e13 {
			return 0, false
		}
	}
	return n, true
}
