package matcher_test

import (
	"bytes"
	"testing"

	"github.com/constancia/constancia"
	"github.com/constancia/constancia/matcher"
)

// FuzzParseSettlement: any file gives rows, bad rows by line, or a typed
// invalid-file error; never a panic, and every accepted row is usable.
func FuzzParseSettlement(f *testing.F) {
	f.Add([]byte("CIP;Monto;Moneda;Fecha de pago;Comision;Neto\n73488329;149.90;PEN;21/11/2026 18:42:07;2.50;147.40\n"))
	f.Add([]byte("\xef\xbb\xbfcip,amount,currency,paid_at\n73488329,\"1,249.00\",USD,2026-11-21T18:42:07-05:00\n"))
	f.Add([]byte(`[{"cip":"73488329","amount":"149.90","currency":"PEN","paid_at":"2026-11-21T18:42:07-05:00"}]`))
	f.Add([]byte("cip;monto\n;\n\"unterminated"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, _, err := matcher.ParseSettlement(bytes.NewReader(data))
		if err != nil {
			if constancia.ErrorCode(err) == constancia.EINTERNAL {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		for _, r := range rows {
			if r.CIP == "" || r.AmountCents < 0 {
				t.Fatalf("accepted row %+v", r)
			}
		}
	})
}

// FuzzParseOrders: an orders file never panics the import.
func FuzzParseOrders(f *testing.F) {
	f.Add([]byte("order_id,cip,amount,currency,expires_at\nA-1,73488329,149.90,PEN,2026-11-24T18:42:07-05:00\n"))
	f.Add([]byte("order_id;cip;amount\n;;\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		orders, _, err := matcher.ParseOrders(bytes.NewReader(data), "m1", nil)
		if err != nil {
			if constancia.ErrorCode(err) == constancia.EINTERNAL {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		for _, o := range orders {
			if err := o.Validate(); err != nil {
				t.Fatalf("accepted an invalid order %+v: %v", o, err)
			}
		}
	})
}

// TestSettlementMalformedQuote: an unterminated quote is a bad row with its
// line, not a crash (it panicked in csv.Reader.FieldPos).
func TestSettlementMalformedQuote(t *testing.T) {
	file := "cip;monto;moneda\n73488329;149,90;PEN\n\"55667788;10,00;PEN\n"
	rows, bad, err := matcher.ParseSettlement(bytes.NewReader([]byte(file)))
	if err != nil || len(rows) != 1 || len(bad) != 1 || bad[0].Line != 3 {
		t.Fatalf("rows %+v bad %+v err %v", rows, bad, err)
	}
}

// FuzzHandleNotification: a correctly signed body of any content is
// handled or refused with a typed error; never a panic.
func FuzzHandleNotification(f *testing.F) {
	f.Add(`{"id":"ev1","event":"cip.paid","cip":"73488329","amount":"149.90","currency":"PEN","paid_at":"2026-11-21T18:42:07-05:00"}`)
	f.Add(`{"id":"ev2","event":"cip.expired","cip":"73488329"}`)
	f.Add(`{"id":"","event":"cip.paid","cip":"","amount":"-1"}`)
	f.Add(`[1,2,3]`)
	b := MustOpenBook(f)
	mustCreate(f, b, "A", "73488329", 14990, "PEN")
	f.Fuzz(func(t *testing.T, body string) {
		_, err := b.HandleNotification("m1", []byte("s3cret"), []byte(body), sign("s3cret", body))
		if err != nil && constancia.ErrorCode(err) == constancia.EINTERNAL {
			t.Fatalf("untyped error %v", err)
		}
	})
}
