package fraud_test

import (
	"strings"
	"testing"
	"time"

	"github.com/constancia/constancia/fraud"
)

func TestCrossCheck(t *testing.T) {
	lima := time.FixedZone("PET", -5*3600)
	at := func(d, h, m int) time.Time { return time.Date(2026, 5, d, h, m, 0, 0, lima) }
	pen := func(c int64, conf float64) fraud.Money { return fraud.Money{Cents: c, Currency: "PEN", Conf: conf} }
	stamp := func(t time.Time, conf float64) fraud.Stamp { return fraud.Stamp{At: t, HasTime: true, Conf: conf} }
	day := func(t time.Time, conf float64) fraud.Stamp { return fraud.Stamp{At: t, Conf: conf} }
	paid := stamp(at(31, 10, 32), 0.96)
	for _, tc := range []struct {
		name  string
		c     fraud.Claims
		field string // "" when no contradiction is to be reported
	}{
		{"a ticket that adds up", fraud.Claims{Amount: pen(8904, 0.96), Fee: pen(200, 0.96), Total: pen(9104, 0.96)}, ""},
		{"amount changed, TOTAL left", fraud.Claims{Amount: pen(8904, 0.96), Fee: pen(200, 0.96), Total: pen(8604, 0.97)}, "amount"},
		{"a leading digit added", fraud.Claims{Amount: pen(56750, 0.93), Fee: pen(200, 0.96), Total: pen(6950, 0.97)}, "amount"},
		{"no currency on the fee line", fraud.Claims{Amount: pen(8904, 0.96), Fee: fraud.Money{Cents: 200, Conf: 0.96}, Total: pen(8604, 0.97)}, "amount"},
		{"one reading unsure (a misread 0.00 as 0.90)", fraud.Claims{Amount: pen(900, 0.96), Fee: pen(90, 0.92), Total: pen(900, 0.83)}, ""},
		{"a commission outside the buyer's total", fraud.Claims{Amount: pen(900, 0.96), Fee: pen(90, 0.96), Total: pen(900, 0.96)}, ""},
		{"no TOTAL read", fraud.Claims{Amount: pen(8904, 0.96), Fee: pen(200, 0.96)}, ""},
		{"currencies disagree", fraud.Claims{Amount: pen(8904, 0.96), Fee: pen(200, 0.96), Total: fraud.Money{Cents: 8604, Currency: "USD", Conf: 0.97}}, ""},
		{"printed 90 s after payment", fraud.Claims{PaidAt: paid, PrintedAt: stamp(at(31, 10, 33).Add(30*time.Second), 0.96)}, ""},
		{"printed a minute before a time shown to the minute", fraud.Claims{PaidAt: paid, PrintedAt: stamp(at(31, 10, 31), 0.96)}, ""},
		{"printed days before the payment", fraud.Claims{PaidAt: stamp(at(13, 11, 51), 0.95), PrintedAt: stamp(at(7, 11, 52), 0.96)}, "paid_at"},
		{"printed a week after the payment (a constancia downloaded later)", fraud.Claims{PaidAt: stamp(at(6, 11, 42), 0.97), PrintedAt: stamp(at(15, 11, 43), 0.97)}, ""},
		{"payment date unsure", fraud.Claims{PaidAt: stamp(at(13, 11, 51), 0.48), PrintedAt: stamp(at(7, 11, 52), 0.96)}, ""},
		{"print time unreadable, same day", fraud.Claims{PaidAt: paid, PrintedAt: day(at(31, 0, 0), 0.92)}, ""},
		{"print time unreadable, the day before", fraud.Claims{PaidAt: paid, PrintedAt: day(at(30, 0, 0), 0.92)}, "paid_at"},
		{"the weekday of the date", fraud.Claims{Weekday: fraud.Weekday{Day: time.Monday, Date: time.Date(2026, 7, 13, 18, 15, 0, 0, lima), Conf: 0.97}}, ""},
		{"day changed, weekday left", fraud.Claims{Weekday: fraud.Weekday{Day: time.Monday, Date: time.Date(2026, 7, 18, 18, 15, 0, 0, lima), Conf: 0.97}}, "paid_at"},
		{"weekday or date unsure", fraud.Claims{Weekday: fraud.Weekday{Day: time.Monday, Date: time.Date(2026, 7, 18, 18, 15, 0, 0, lima), Conf: 0.6}}, ""},
		{"nothing printed besides the fields", fraud.Claims{Amount: pen(8904, 0.96), PaidAt: paid}, ""},
	} {
		rs := fraud.CrossCheck(tc.c, fraud.DefaultCrossCheck)
		switch {
		case tc.field == "" && len(rs) > 0:
			t.Errorf("%s: reported %+v", tc.name, rs)
		case tc.field != "" && len(rs) != 1:
			t.Errorf("%s: %d reasons %+v, want one on %s", tc.name, len(rs), rs, tc.field)
		case tc.field != "":
			r := rs[0]
			if r.Code != fraud.FlagEdited || r.Field != tc.field || r.Layer != "consistency" || r.Detail == "" {
				t.Errorf("%s: %+v", tc.name, r)
			}
		}
	}
	rs := fraud.CrossCheck(fraud.Claims{Amount: pen(8904, 0.96), Fee: pen(200, 0.96), Total: pen(8604, 0.97)}, fraud.DefaultCrossCheck)
	if len(rs) != 1 || !strings.Contains(rs[0].Detail, "89.04 + commission 2.00 = 91.04") || !strings.Contains(rs[0].Detail, "86.04") {
		t.Errorf("detail does not show the sum: %+v", rs)
	}
}
