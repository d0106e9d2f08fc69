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
	OrderID string // the order it moved, if any
	Status  string // the order's new status
}

// HandleNotification verifies body's signature, then applies the event to
// the merchant's order with that CIP. Replays are idempotent; unknown
// events are stored and reported, never dropped.
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
	key := []byte(merchant + "\x00" + n.ID)
	seen := false
	err := b.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bEvents)
		if bk.Get(key) != nil {
			seen = true
			return nil
		}
		return bk.Put(key, body)
	})
	if err != nil {
		return res, constancia.Wrap(err, constancia.EUNAVAILABLE, "cannot store the notification")
	}
	if seen {
		res.Replay = true
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
		return res, nil // kept in pe_events for audit
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
	if target.Status == to {
		res.OrderID, res.Status = target.OrderID, to
		return res, nil
	}
	o, err := b.Move(merchant, target.OrderID, to, "pagoefectivo:"+n.ID, n.Event, func(o *Order) {
		if t, err := time.Parse(time.RFC3339, n.PaidAt); err == nil && to == StatusPaid {
			t = t.UTC()
			o.PaidAt = &t
		}
		if c, ok := ParseAmount(n.Amount); ok {
			o.PaidCents = c
		}
	})
	if err != nil {
		return res, err
	}
	res.OrderID, res.Status = o.OrderID, o.Status
	return res, nil
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
	intPart = strings.NewReplacer(",", "", ".", "", " ", "").Replace(intPart)
	for len(frac) < 2 {
		frac += "0"
	}
	var n int64
	for _, c := range intPart + frac {
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

// ParseDecimal reads the canonical amount an API takes — digits, then
// optionally '.' and one or two digits ("149.90", "7", "0.5") — as cents.
// No currency, no grouping, no sign.
func ParseDecimal(s string) (int64, bool) {
	intPart, frac, _ := strings.Cut(s, ".")
	if intPart == "" || len(intPart) > 12 || len(frac) > 2 || (strings.Contains(s, ".") && frac == "") {
		return 0, false
	}
	for len(frac) < 2 {
		frac += "0"
	}
	var n int64
	for _, c := range intPart + frac {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
