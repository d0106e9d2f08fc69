package matcher

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/constancia/constancia"
)

// Order states. An order moves open → receipt_submitted → verified (by a
// voucher) or paid (by PagoEfectivo's notification) → settled (by the
// settlement file); or to expired, cancelled or refunded.
const (
	StatusOpen             = "open"
	StatusReceiptSubmitted = "receipt_submitted"
	StatusVerified         = "verified"
	StatusPaid             = "paid"
	StatusSettled          = "settled"
	StatusExpired          = "expired"
	StatusCancelled        = "cancelled"
	StatusRefunded         = "refunded"
)

var transitions = map[string][]string{
	StatusOpen:             {StatusReceiptSubmitted, StatusVerified, StatusPaid, StatusExpired, StatusCancelled},
	StatusReceiptSubmitted: {StatusReceiptSubmitted, StatusVerified, StatusPaid, StatusExpired, StatusCancelled, StatusOpen},
	StatusVerified:         {StatusPaid, StatusSettled, StatusRefunded, StatusCancelled},
	StatusPaid:             {StatusVerified, StatusSettled, StatusRefunded},
	StatusSettled:          {StatusRefunded},
	StatusExpired:          {StatusPaid, StatusVerified},
	StatusCancelled:        {},
	StatusRefunded:         {},
}

// ValidStatus reports whether s is one of the order states.
func ValidStatus(s string) bool {
	_, ok := transitions[s]
	return ok
}

// validOrderID reports whether id can name an order: 1–100 characters of
// printable text without '/' or '\', so that it fits in a URL path
// (/api/v1/orders/{id}), a CSV cell and a log line as it is.
func validOrderID(id string) bool {
	if id == "" || !utf8.ValidString(id) || utf8.RuneCountInString(id) > 100 || strings.TrimSpace(id) != id {
		return false
	}
	for _, r := range id {
		if r == '/' || r == '\\' || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// Transition is one recorded change of an order's state.
type Transition struct {
	At     time.Time `json:"at"`
	From   string    `json:"from"`
	To     string    `json:"to"`
	By     string    `json:"by"` // "voucher:<receipt>", "pagoefectivo:<event>", "settlement:<file>", "api", an agent…
	Reason string    `json:"reason,omitempty"`
}

// Order is a merchant's order awaiting a PagoEfectivo payment.
type Order struct {
	Merchant    string            `json:"merchant"`
	OrderID     string            `json:"order_id"`
	CIP         string            `json:"cip"`
	AmountCents int64             `json:"amount_cents"`
	Currency    string            `json:"currency"`
	CreatedAt   time.Time         `json:"created_at"`
	ExpiresAt   time.Time         `json:"expires_at"`
	Status      string            `json:"status"`
	Buyer       string            `json:"buyer,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	History     []Transition      `json:"history"`
	// Filled as the order moves on.
	ReceiptID string     `json:"receipt_id,omitempty"`
	PaidAt    *time.Time `json:"paid_at,omitempty"`
	SettledAt *time.Time `json:"settled_at,omitempty"`
	FeeCents  int64      `json:"fee_cents,omitempty"`
	NetCents  int64      `json:"net_cents,omitempty"`
	PaidCents int64      `json:"paid_cents,omitempty"` // as PagoEfectivo reported it
}

// Validate names the first bad field.
func (o *Order) Validate() error {
	switch {
	case o.Merchant == "":
		return constancia.Errorf(constancia.EINVALID, "order: merchant is required")
	case !validOrderID(o.OrderID):
		return constancia.Errorf(constancia.EINVALID, "order: order_id must be 1 to 100 printable characters, without '/' or '\\' and without spaces at either end")
	case !validCIP(o.CIP):
		return constancia.Errorf(constancia.EINVALID, "order %s: cip must be 7 to 9 digits, got %q", o.OrderID, o.CIP)
	case o.AmountCents <= 0:
		return constancia.Errorf(constancia.EINVALID, "order %s: amount must be positive", o.OrderID)
	case o.Currency != "PEN" && o.Currency != "USD":
		return constancia.Errorf(constancia.EINVALID, "order %s: currency must be PEN or USD, got %q", o.OrderID, o.Currency)
	case !o.ExpiresAt.IsZero() && !o.ExpiresAt.After(o.CreatedAt):
		return constancia.Errorf(constancia.EINVALID, "order %s: expires_at must be after created_at", o.OrderID)
	}
	return nil
}

func validCIP(s string) bool {
	if len(s) < 7 || len(s) > 9 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// move changes the order's state, recording who or what caused it. It
// fails with ECONFLICT for a transition the lifecycle does not allow.
func (o *Order) move(to, by, reason string, at time.Time) error {
	if !o.CanMove(to) {
		return constancia.Errorf(constancia.ECONFLICT, "order %s is %s and cannot become %s", o.OrderID, o.Status, to)
	}
	o.History = append(o.History, Transition{At: at.UTC(), From: o.Status, To: to, By: by, Reason: reason})
	o.Status = to
	return nil
}

// CanMove reports whether the order's lifecycle allows a move to state to.
func (o *Order) CanMove(to string) bool {
	for _, s := range transitions[o.Status] {
		if s == to {
			return true
		}
	}
	return false
}

// Open reports whether the order still awaits payment.
func (o *Order) Open() bool {
	return o.Status == StatusOpen || o.Status == StatusReceiptSubmitted
}

// TakesVoucher: an open order takes a voucher, and so does one whose CIP
// expired, since the buyer may have paid before the expiry and sent the
// photo after it (Match checks the payment time against the expiry).
func (o *Order) TakesVoucher() bool {
	return o.Open() || o.Status == StatusExpired
}
