package matcher

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// SettlementRow is one payment in PagoEfectivo's settlement file.
type SettlementRow struct {
	Line        int
	CIP         string
	Operation   string
	AmountCents int64
	Currency    string
	PaidAt      time.Time
	SettledAt   time.Time
	FeeCents    int64
}

// RowError is a row that could not be read, by line number.
type RowError struct {
	Line int    `json:"line"`
	Err  string `json:"error"`
}

// column names as settlement exports spell them (folded: lower case, no accents).
var settlementCols = map[string][]string{
	"cip":        {"cip", "codigo cip", "cod cip", "codigo de pago", "nro cip"},
	"operation":  {"operacion", "nro operacion", "numero de operacion", "operation", "nro de operacion"},
	"amount":     {"monto", "importe", "amount", "monto pagado", "importe pagado"},
	"currency":   {"moneda", "currency", "divisa"},
	"paid_at":    {"fecha de pago", "fecha pago", "payment date", "paid_at", "fecha"},
	"settled_at": {"fecha de liquidacion", "fecha liquidacion", "settlement date", "settled_at", "fecha de abono"},
	"fee":        {"comision", "fee", "comision pagoefectivo"},
}

// decodeText returns data as UTF-8: a UTF-8 BOM is dropped, valid UTF-8 is
// kept, anything else is read as ISO-8859-1.
func decodeText(data []byte) string {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if utf8.Valid(data) {
		return string(data)
	}
	rs := make([]rune, len(data))
	for i, c := range data {
		rs[i] = rune(c) // ISO-8859-1 maps bytes to the first 256 code points
	}
	return string(rs)
}

func foldHeader(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	r := strings.NewReplacer("á", "a", "é", "e", "í", "i", "ó", "o", "ú", "u", "ñ", "n", "°", "", "º", "", ".", "", "_", " ")
	return strings.Join(strings.Fields(r.Replace(s)), " ")
}

func parseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339, "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02", "02/01/2006 15:04:05", "02/01/2006 15:04", "02/01/2006", "02-01-2006 15:04:05", "02-01-2006"} {
		if t, err := time.ParseInLocation(layout, s, lima); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

var lima = time.FixedZone("PET", -5*3600)

// ParseSettlement reads a settlement file: CSV (';' or ',' separated, UTF-8
// with or without BOM, or ISO-8859-1) or a JSON array of objects. Good rows
// are returned; each bad row is reported by its line number.
func ParseSettlement(r io.Reader) ([]SettlementRow, []RowError, error) {
	table, bad, err := readTable(r, "settlement file", settlementCols, "cip", "amount")
	if err != nil {
		return nil, nil, err
	}
	var rows []SettlementRow
	for _, t := range table {
		row, err := settlementRow(t.line, t.get)
		if err != nil {
			bad = append(bad, RowError{Line: t.line, Err: err.Error()})
			continue
		}
		rows = append(rows, row)
	}
	sort.Slice(bad, func(i, j int) bool { return bad[i].Line < bad[j].Line })
	return rows, bad, nil
}

func settlementRow(line int, get func(string) string) (SettlementRow, error) {
	row := SettlementRow{Line: line, CIP: get("cip"), Operation: get("operation"), Currency: strings.ToUpper(get("currency"))}
	if !validCIP(row.CIP) {
		return row, fmt.Errorf("cip %q is not 7 to 9 digits", row.CIP)
	}
	c, ok := ParseAmount(get("amount"))
	if !ok {
		return row, amountError("amount", get("amount"))
	}
	row.AmountCents = c
	if row.Currency == "" || row.Currency == "S/" || row.Currency == "SOLES" {
		row.Currency = "PEN"
	}
	if row.Currency == "US$" || row.Currency == "DOLARES" {
		row.Currency = "USD"
	}
	if row.Currency != "PEN" && row.Currency != "USD" {
		return row, fmt.Errorf("currency %q is not PEN or USD", get("currency"))
	}
	if s := get("paid_at"); s != "" {
		t, ok := parseDate(s)
		if !ok {
			return row, fmt.Errorf("payment date %q is not a date", s)
		}
		row.PaidAt = t
	}
	if s := get("settled_at"); s != "" {
		t, ok := parseDate(s)
		if !ok {
			return row, fmt.Errorf("settlement date %q is not a date", s)
		}
		row.SettledAt = t
	}
	if s := get("fee"); s != "" {
		f, ok := ParseAmount(s)
		if !ok {
			return row, amountError("fee", s)
		}
		row.FeeCents = f
	}
	return row, nil
}

// Discrepancy codes of the reconciliation.
const (
	DiscNoOrder           = "settled_without_order"
	DiscAmount            = "amount_differs"
	DiscPaidAfterExpiry   = "paid_after_expiry"
	DiscVerifiedUnsettled = "verified_not_settled"
	DiscPaidNoVoucher     = "paid_without_voucher"
	// PagoEfectivo took the money for an order the merchant cancelled
	// (or refunded before it was settled): a refund is due.
	DiscPaidCancelled = "paid_after_cancellation"
)

// Discrepancy is one thing finance must look at.
type Discrepancy struct {
	Code    string `json:"code"`
	OrderID string `json:"order_id,omitempty"`
	CIP     string `json:"cip"`
	Line    int    `json:"line,omitempty"`
	Detail  string `json:"detail"`
}

// ImportResult says what importing a settlement file did.
type ImportResult struct {
	Settled       int
	SettledIDs    []string // orders this import settled
	AlreadyDone   int
	Bad           []RowError
	Discrepancies []Discrepancy
}

// ImportSettlement marks the merchant's orders settled from rows, keeping
// fee and net, and reports discrepancies. Importing the same rows again
// changes nothing.
func (b *Book) ImportSettlement(merchant, source string, rows []SettlementRow) (ImportResult, error) {
	var res ImportResult
	for _, r := range rows {
		var o *Order
		for _, x := range b.ByCIP(r.CIP) {
			if x.Merchant == merchant {
				o = x
			}
		}
		if o == nil {
			res.Discrepancies = append(res.Discrepancies, Discrepancy{Code: DiscNoOrder, CIP: r.CIP, Line: r.Line, Detail: "PagoEfectivo settled a CIP no order has"})
			continue
		}
		if diff := r.AmountCents - o.AmountCents; diff*100 > o.AmountCents || -diff*100 > o.AmountCents {
			res.Discrepancies = append(res.Discrepancies, Discrepancy{Code: DiscAmount, OrderID: o.OrderID, CIP: r.CIP, Line: r.Line,
				Detail: fmt.Sprintf("settled %s, order %s (more than 1%% apart)", FormatCents(r.AmountCents), FormatCents(o.AmountCents))})
		}
		if !r.PaidAt.IsZero() && r.PaidAt.After(o.ExpiresAt) {
			res.Discrepancies = append(res.Discrepancies, Discrepancy{Code: DiscPaidAfterExpiry, OrderID: o.OrderID, CIP: r.CIP, Line: r.Line, Detail: "paid after the CIP expired"})
		}
		if o.Status == StatusSettled || (o.SettledAt != nil && !o.CanMove(StatusSettled)) {
			res.AlreadyDone++ // settled, or settled and then refunded
			continue
		}
		record := func(o *Order) {
			t := r.SettledAt
			if t.IsZero() {
				t = b.Now()
			}
			t = t.UTC()
			o.SettledAt = &t
			o.FeeCents = r.FeeCents
			o.NetCents = r.AmountCents - r.FeeCents
			o.PaidCents = r.AmountCents
			if o.PaidAt == nil && !r.PaidAt.IsZero() {
				p := r.PaidAt.UTC()
				o.PaidAt = &p
			}
		}
		if o.Status == StatusCancelled || o.Status == StatusRefunded {
			// Its state takes no payment: the row is kept on the order
			// and reported, and the rest of the file is still read.
			if _, err := b.Note(merchant, o.OrderID, "settlement:"+source, fmt.Sprintf("line %d: settled while %s", r.Line, o.Status), record); err != nil {
				return res, err
			}
			res.Discrepancies = append(res.Discrepancies, Discrepancy{Code: DiscPaidCancelled, OrderID: o.OrderID, CIP: r.CIP, Line: r.Line,
				Detail: "PagoEfectivo settled a payment of an order that is " + o.Status})
			continue
		}
		if o.Status == StatusOpen || o.Status == StatusReceiptSubmitted || o.Status == StatusExpired {
			if _, err := b.Move(merchant, o.OrderID, StatusPaid, "settlement:"+source, "paid per settlement file", nil); err != nil {
				return res, err
			}
		}
		_, err := b.Move(merchant, o.OrderID, StatusSettled, "settlement:"+source, fmt.Sprintf("line %d", r.Line), record)
		if err != nil {
			return res, err
		}
		res.Settled++
		res.SettledIDs = append(res.SettledIDs, o.OrderID)
	}
	return res, nil
}

// Outstanding lists the merchant's orders that a voucher verified but
// PagoEfectivo has not reported paid or settled after grace (T+2), and
// orders paid per PagoEfectivo with no voucher.
func (b *Book) Outstanding(merchant string, grace time.Duration) []Discrepancy {
	now := b.Now()
	var out []Discrepancy
	for _, o := range b.List(merchant, nil) {
		switch {
		case o.Status == StatusVerified && lastChange(o).Add(grace).Before(now):
			out = append(out, Discrepancy{Code: DiscVerifiedUnsettled, OrderID: o.OrderID, CIP: o.CIP, Detail: "verified by voucher, not in PagoEfectivo's records after " + grace.String()})
		case (o.Status == StatusPaid || o.Status == StatusSettled) && o.ReceiptID == "":
			out = append(out, Discrepancy{Code: DiscPaidNoVoucher, OrderID: o.OrderID, CIP: o.CIP, Detail: "paid per PagoEfectivo, no voucher received"})
		case o.Status == StatusCancelled && (o.PaidAt != nil || o.SettledAt != nil):
			out = append(out, Discrepancy{Code: DiscPaidCancelled, OrderID: o.OrderID, CIP: o.CIP, Detail: "paid per PagoEfectivo after the order was cancelled: a refund is due"})
		}
	}
	return out
}

// WithOutstanding returns an import's discrepancies followed by the
// merchant's outstanding ones that the import did not already name (same
// code and order), as one list for finance.
func (b *Book) WithOutstanding(merchant string, res ImportResult, grace time.Duration) []Discrepancy {
	out := append([]Discrepancy{}, res.Discrepancies...)
	named := map[[2]string]bool{}
	for _, d := range res.Discrepancies {
		named[[2]string{d.Code, d.OrderID}] = true
	}
	for _, d := range b.Outstanding(merchant, grace) {
		if !named[[2]string{d.Code, d.OrderID}] {
			out = append(out, d)
		}
	}
	return out
}

func lastChange(o *Order) time.Time {
	if len(o.History) == 0 {
		return o.CreatedAt
	}
	return o.History[len(o.History)-1].At
}

// FormatCents renders integer cents as "1249.00" ("-0.50" below zero).
func FormatCents(c int64) string {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	return fmt.Sprintf("%s%d.%02d", sign, c/100, c%100)
}

// amountError says why a file's amount was refused: not a number, or a
// lone separator before three digits, which may group thousands or mark
// decimals.
func amountError(col, v string) error {
	if reAmbiguous.MatchString(strings.TrimSpace(v)) {
		return fmt.Errorf("%s %q is ambiguous: write it as 1500.00 or 1.50", col, v)
	}
	return fmt.Errorf("%s %q is not a number", col, v)
}

var reAmbiguous = regexp.MustCompile(`^\d{1,3}[.,]\d{3}$`)
