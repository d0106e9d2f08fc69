package matcher

import (
	"io"
	"strings"
	"time"

	"github.com/constancia/constancia"
)

// orderCols maps our order fields to the column names of common shop
// exports (WooCommerce, Shopify, generic), folded.
var orderCols = map[string][]string{
	"order_id":   {"order_id", "order id", "order number", "pedido", "nro pedido", "name", "id"},
	"cip":        {"cip", "codigo cip", "codigo de pago", "payment code", "cip code"},
	"amount":     {"amount", "monto", "importe", "order total", "total"},
	"currency":   {"currency", "moneda", "order currency"},
	"created_at": {"created_at", "created at", "order date", "fecha", "fecha de creacion", "date"},
	"expires_at": {"expires_at", "expires at", "vence", "fecha de expiracion", "expiry"},
	"buyer":      {"buyer", "email", "billing email", "customer email", "comprador", "telefono", "phone"},
}

// ParseOrders reads orders for merchant from CSV (';' or ',', UTF-8 or
// ISO-8859-1) or a JSON array. mapping overrides column names
// ("amount=Order Total"). Bad rows are reported by line number.
func ParseOrders(r io.Reader, merchant string, mapping map[string]string) ([]*Order, []RowError, error) {
	names := map[string][]string{}
	for k, v := range orderCols {
		names[k] = v
	}
	for k, v := range mapping {
		if _, ok := orderCols[k]; !ok {
			return nil, nil, constancia.Errorf(constancia.EINVALID, "unknown order field %q in the column mapping", k)
		}
		names[k] = []string{foldHeader(v)}
	}
	table, bad, err := readTable(r, "orders file", names, "order_id", "cip", "amount")
	if err != nil {
		return nil, nil, err
	}
	var out []*Order
	for _, t := range table {
		o, err := orderRow(merchant, t.get)
		if err == nil {
			err = o.Validate()
		}
		if err != nil {
			bad = append(bad, RowError{Line: t.line, Err: constancia.ErrorMessage(err)})
			continue
		}
		out = append(out, o)
	}
	return out, bad, nil
}

func orderRow(merchant string, get func(string) string) (*Order, error) {
	o := &Order{Merchant: merchant, OrderID: get("order_id"), CIP: get("cip"), Currency: strings.ToUpper(get("currency")), Buyer: get("buyer")}
	if o.Currency == "" {
		o.Currency = "PEN"
	}
	c, ok := ParseAmount(get("amount"))
	if !ok {
		return nil, constancia.Errorf(constancia.EINVALID, "%v", amountError("amount", get("amount")))
	}
	o.AmountCents = c
	for _, d := range []struct {
		col string
		dst *time.Time
	}{{"created_at", &o.CreatedAt}, {"expires_at", &o.ExpiresAt}} {
		if s := get(d.col); s != "" {
			t, ok := parseDate(s)
			if !ok {
				return nil, constancia.Errorf(constancia.EINVALID, "%s %q is not a date", d.col, s)
			}
			*d.dst = t.UTC()
		}
	}
	return o, nil
}
