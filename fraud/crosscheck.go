package fraud

import (
	"fmt"
	"time"

	"github.com/constancia/constancia/matcher"
)

// Claims are what one voucher says of itself: the fields read and values
// printed besides them that must agree with the fields. A zero Conf means
// the value was not read.
type Claims struct {
	Amount, Fee, Total Money   // the Importe, its Comisión and the TOTAL printed under them
	PaidAt, PrintedAt  Stamp   // the payment and the ticket's print stamp
	Weekday            Weekday // the day named before the payment date ("lunes, 13 de julio de 2026")
}

// Weekday is a day of the week named before a date, as read. Conf is the
// lesser of the two readings: the phrase contradicts itself whichever
// date it is, so how the date was paired does not count.
type Weekday struct {
	Day  time.Weekday
	Date time.Time
	Conf float64
}

// Money is an amount as read.
type Money struct {
	Cents    int64
	Currency string // "" when the line shows none
	Conf     float64
}

// Stamp is a date, maybe with a time, as read (in Lima time).
type Stamp struct {
	At      time.Time
	HasTime bool
	Conf    float64
}

// CrossConfig holds the cross-check thresholds; DefaultCrossCheck
// documents the measured choice.
type CrossConfig struct {
	// MinConfidence: every reading a contradiction rests on must reach it,
	// or there is no verdict (a misreading is no edit).
	MinConfidence float64
	// PrintSlack: a print stamp this much before the payment still agrees
	// (times shown to the minute).
	PrintSlack time.Duration
}

// DefaultCrossCheck: on the dev corpus's 160 originals, the contradictions
// found by misreading rested on a reading of 0.83 or less; the edited
// tickets' rested on readings of 0.93 or more (docs/measurements.md).
// Print stamps follow payments by 0–3 minutes there. A stamp long after
// the payment is no evidence: a bank's constancia can be printed or
// downloaded days later.
var DefaultCrossCheck = CrossConfig{MinConfidence: 0.9, PrintSlack: 2 * time.Minute}

// CrossCheck returns an `edited` reason for each contradiction between a
// voucher's fields and what it prints besides them: an Importe that is not
// the TOTAL, with or without its Comisión (an amount changed without the
// rest), a print stamp before the payment (a date changed), a weekday that
// is not the payment date's (a day changed). It needs no earlier upload.
func CrossCheck(c Claims, cfg CrossConfig) []Reason {
	if cfg.MinConfidence == 0 {
		cfg = DefaultCrossCheck
	}
	var out []Reason
	sure := func(cs ...float64) bool {
		for _, x := range cs {
			if x < cfg.MinConfidence {
				return false
			}
		}
		return true
	}
	// A TOTAL that is the amount alone also agrees: some tickets show a
	// commission the merchant pays, outside the buyer's total.
	a, fee, tot := c.Amount, c.Fee, c.Total
	if sure(a.Conf, fee.Conf, tot.Conf) && sameCurrency(a.Currency, fee.Currency, tot.Currency) && a.Cents+fee.Cents != tot.Cents && a.Cents != tot.Cents {
		out = append(out, Reason{Code: FlagEdited, Layer: "consistency", Field: "amount",
			Detail: fmt.Sprintf("amount %s + commission %s = %s, but the TOTAL printed is %s",
				matcher.FormatCents(a.Cents), matcher.FormatCents(fee.Cents), matcher.FormatCents(a.Cents+fee.Cents), matcher.FormatCents(tot.Cents))})
	}
	p, pr := c.PaidAt, c.PrintedAt
	if sure(p.Conf, pr.Conf) {
		early := dayNumber(pr.At) < dayNumber(p.At) // a stamp's time may be unreadable
		if p.HasTime && pr.HasTime {
			early = pr.At.Sub(p.At) < -cfg.PrintSlack
		}
		if early {
			const layout = "2006-01-02 15:04"
			out = append(out, Reason{Code: FlagEdited, Layer: "consistency", Field: "paid_at",
				Detail: fmt.Sprintf("the ticket was printed %s, before the payment it shows (%s)", pr.At.Format(layout), p.At.Format(layout))})
		}
	}
	if wd := c.Weekday; sure(wd.Conf) && wd.Date.Weekday() != wd.Day {
		out = append(out, Reason{Code: FlagEdited, Layer: "consistency", Field: "paid_at",
			Detail: fmt.Sprintf("the payment date %s is a %s, but the voucher names %s", wd.Date.Format("2006-01-02"), wd.Date.Weekday(), wd.Day)})
	}
	return out
}

// sameCurrency: the currencies shown agree (a line may show none).
func sameCurrency(cs ...string) bool {
	seen := ""
	for _, c := range cs {
		if c == "" {
			continue
		}
		if seen != "" && c != seen {
			return false
		}
		seen = c
	}
	return true
}

// dayNumber counts calendar days, for comparing dates without times.
func dayNumber(t time.Time) int {
	y, m, d := t.Date()
	return int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}
