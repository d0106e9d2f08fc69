package matcher

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"

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
	data, err := io.ReadAll(io.LimitReader(r, 64<<20))
	if err != nil {
		return nil, nil, constancia.Wrap(err, constancia.EINVALID, "cannot read the orders file")
	}
	text := decodeText(data)
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
	build := func(line int, get func(string) string) (*Order, error) {
		o := &Order{Merchant: merchant, OrderID: get("order_id"), CIP: get("cip"), Currency: strings.ToUpper(get("currency")), Buyer: get("buyer")}
		if o.Currency == "" {
			o.Currency = "PEN"
		}
		c, ok := ParseAmount(get("amount"))
		if !ok {
			return nil, fmt.Errorf("amount %q is not a number", get("amount"))
		}
		o.AmountCents = c
		if s := get("created_at"); s != "" {
			t, ok := parseDate(s)
			if !ok {
				return nil, fmt.Errorf("created_at %q is not a date", s)
			}
			o.CreatedAt = t.UTC()
		}
		if s := get("expires_at"); s != "" {
			t, ok := parseDate(s)
			if !ok {
				return nil, fmt.Errorf("expires_at %q is not a date", s)
			}
			o.ExpiresAt = t.UTC()
		}
		return o, nil
	}
	var out []*Order
	var bad []RowError
	if t := strings.TrimSpace(text); strings.HasPrefix(t, "[") {
		var objs []map[string]any
		if err := json.Unmarshal([]byte(t), &objs); err != nil {
			return nil, nil, constancia.Wrap(err, constancia.EINVALID, "the orders file is not a JSON array of objects")
		}
		for i, obj := range objs {
			fold := map[string]string{}
			for k, v := range obj {
				fold[foldHeader(k)] = strings.TrimSpace(fmt.Sprint(v))
			}
			o, err := build(i+1, func(c string) string {
				for _, n := range names[c] {
					if v, ok := fold[n]; ok {
						return v
					}
				}
				return ""
			})
			if err == nil {
				err = o.Validate()
			}
			if err != nil {
				bad = append(bad, RowError{Line: i + 1, Err: constancia.ErrorMessage(err)})
				continue
			}
			out = append(out, o)
		}
		return out, bad, nil
	}
	first, _, _ := strings.Cut(text, "\n")
	cr := csv.NewReader(strings.NewReader(text))
	if strings.Count(first, ";") > strings.Count(first, ",") {
		cr.Comma = ';'
	}
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, nil, constancia.Wrap(err, constancia.EINVALID, "the orders file has no header row")
	}
	idx := map[string]int{}
	for i, h := range header {
		f := foldHeader(h)
		for col, ns := range names {
			for _, n := range ns {
				if f == n {
					if _, dup := idx[col]; !dup {
						idx[col] = i
					}
				}
			}
		}
	}
	for _, need := range []string{"order_id", "cip", "amount"} {
		if _, ok := idx[need]; !ok {
			return nil, nil, constancia.Errorf(constancia.EINVALID, "the orders file has no %s column; map one with --map %s=COLUMN", need, need)
		}
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			bad = append(bad, RowError{Line: line, Err: err.Error()})
			continue
		}
		o, err := build(line, func(c string) string {
			if i, ok := idx[c]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		})
		if err == nil {
			err = o.Validate()
		}
		if err != nil {
			bad = append(bad, RowError{Line: line, Err: constancia.ErrorMessage(err)})
			continue
		}
		out = append(out, o)
	}
	return out, bad, nil
}
