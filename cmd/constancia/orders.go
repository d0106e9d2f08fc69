package main

import (
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/constancia/constancia"
	"github.com/constancia/constancia/matcher"
	"github.com/constancia/constancia/ocr"
	"github.com/constancia/constancia/storage"
)

func (m *Main) openBook(data string) (*matcher.Book, error) {
	if err := os.MkdirAll(data, 0o750); err != nil {
		return nil, err
	}
	return matcher.OpenBook(filepath.Join(data, "orders.db"))
}

func parseMapping(s string) (map[string]string, error) {
	out := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" || strings.TrimSpace(v) == "" {
			return nil, usageError{fmt.Sprintf("--map wants field=Column pairs, got %q", kv)}
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, nil
}

// importFile is the prologue of the "orders import" and "settlements
// import" commands: their flags (--data, --merchant and, through more,
// their own), one input file, and the order book, handed to run.
func (m *Main) importFile(args []string, name, usage, merchantHelp string, more func(*flag.FlagSet),
	run func(f *os.File, merchant string, b *matcher.Book) error) error {
	if len(args) == 0 || args[0] != "import" {
		return usageError{usage}
	}
	fs := flag.NewFlagSet(name+" import", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	data := fs.String("data", env("CONSTANCIA_DATA", "./data"), "data directory")
	merchant := fs.String("merchant", "default", merchantHelp)
	if more != nil {
		more(fs)
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{name + " import: give one CSV or JSON file"}
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	b, err := m.openBook(*data)
	if err != nil {
		return err
	}
	defer b.Close()
	return run(f, *merchant, b)
}

// printBadRows lists the rows an import refused, by line.
func (m *Main) printBadRows(bad []matcher.RowError) {
	for _, e := range bad {
		fmt.Fprintf(m.Stdout, "line %d: %s\n", e.Line, e.Err)
	}
}

// runOrders: constancia orders import [--merchant M] [--map f=Col,…] FILE
func (m *Main) runOrders(ctx context.Context, args []string) error {
	var mapFlag *string
	return m.importFile(args, "orders", "usage: constancia orders import [--data DIR] [--merchant M] [--map field=Column,...] FILE",
		"merchant the orders belong to",
		func(fs *flag.FlagSet) {
			mapFlag = fs.String("map", "", "column mapping for shop exports, e.g. order_id=Order Number,amount=Order Total,cip=CIP")
		},
		func(f *os.File, merchant string, b *matcher.Book) error {
			mapping, err := parseMapping(*mapFlag)
			if err != nil {
				return err
			}
			orders, bad, err := matcher.ParseOrders(f, merchant, mapping)
			if err != nil {
				return err
			}
			created, existing := 0, 0
			for _, o := range orders {
				before, _ := b.Get(o.Merchant, o.OrderID)
				if _, err := b.Create(o, "import:"+filepath.Base(f.Name())); err != nil {
					bad = append(bad, matcher.RowError{Err: fmt.Sprintf("order %s: %s", o.OrderID, constancia.ErrorMessage(err))})
					continue
				}
				if before != nil {
					existing++
				} else {
					created++
				}
			}
			fmt.Fprintf(m.Stdout, "orders: %d created, %d already present, %d rejected\n", created, existing, len(bad))
			m.printBadRows(bad)
			return nil
		})
}

// runSettlements: constancia settlements import [--merchant M] FILE
func (m *Main) runSettlements(ctx context.Context, args []string) error {
	return m.importFile(args, "settlements", "usage: constancia settlements import [--data DIR] [--merchant M] FILE",
		"merchant the settlement is for", nil,
		func(f *os.File, merchant string, b *matcher.Book) error {
			rows, bad, err := matcher.ParseSettlement(f)
			if err != nil {
				return err
			}
			res, err := b.ImportSettlement(merchant, filepath.Base(f.Name()), rows)
			if err != nil {
				return err
			}
			fmt.Fprintf(m.Stdout, "settlement: %d rows, %d orders settled, %d already settled, %d bad rows, %d discrepancies\n",
				len(rows), res.Settled, res.AlreadyDone, len(bad), len(res.Discrepancies))
			m.printBadRows(bad)
			for _, d := range b.WithOutstanding(merchant, res, 48*time.Hour) {
				fmt.Fprintf(m.Stdout, "%s order=%s cip=%s line=%d %s\n", d.Code, d.OrderID, d.CIP, d.Line, d.Detail)
			}
			return nil
		})
}

// runReport writes the reconciliation report as CSV: one row per order
// created in [from, to) (Lima dates).
func (m *Main) runReport(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	data := fs.String("data", env("CONSTANCIA_DATA", "./data"), "data directory")
	merchant := fs.String("merchant", "default", "merchant")
	from := fs.String("from", "", "first day, YYYY-MM-DD (Lima)")
	to := fs.String("to", "", "last day, YYYY-MM-DD (Lima), inclusive")
	out := fs.String("out", "", "write to this file instead of standard output")
	if err := fs.Parse(args); err != nil {
		return err
	}
	start, err1 := time.ParseInLocation(time.DateOnly, *from, ocr.Lima)
	end, err2 := time.ParseInLocation(time.DateOnly, *to, ocr.Lima)
	if err1 != nil || err2 != nil || end.Before(start) {
		return usageError{"report: --from and --to are required, as YYYY-MM-DD, from ≤ to"}
	}
	end = end.AddDate(0, 0, 1)
	b, err := m.openBook(*data)
	if err != nil {
		return err
	}
	defer b.Close()
	var ix *storage.Index
	if _, err := os.Stat(filepath.Join(*data, "index.db")); err == nil {
		if ix, err = storage.OpenIndex(filepath.Join(*data, "index.db")); err != nil {
			return err
		}
		defer ix.Close()
	}
	w := m.Stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	return writeReport(w, b, ix, *merchant, start, end)
}

// writeReport writes the reconciliation CSV of merchant's orders created in
// [start, end): order, voucher, decision, PagoEfectivo payment, settlement
// and discrepancies. ix may be nil (no receipts yet).
func writeReport(w io.Writer, b *matcher.Book, ix *storage.Index, merchant string, start, end time.Time) error {
	orders := b.List(merchant, func(o *matcher.Order) bool { return !o.CreatedAt.Before(start) && o.CreatedAt.Before(end) })
	sort.Slice(orders, func(i, j int) bool { return orders[i].CreatedAt.Before(orders[j].CreatedAt) })
	disc := map[string][]string{}
	for _, d := range b.Outstanding(merchant, 48*time.Hour) {
		disc[d.OrderID] = append(disc[d.OrderID], d.Code)
	}
	cw := csv.NewWriter(w)
	cw.Write([]string{"order_id", "cip", "order_amount", "currency", "status", "created_at", "expires_at",
		"receipt_id", "voucher_cip", "voucher_amount", "voucher_paid_at", "voucher_decision", "voucher_flags",
		"pe_paid_at", "pe_amount", "settled_at", "fee", "net", "discrepancy"})
	lima := func(t *time.Time) string {
		if t == nil || t.IsZero() {
			return ""
		}
		return t.In(ocr.Lima).Format(time.RFC3339)
	}
	money := func(c int64) string {
		if c == 0 {
			return ""
		}
		return ocr.FormatCents(c)
	}
	for _, o := range orders {
		row := []string{o.OrderID, o.CIP, ocr.FormatCents(o.AmountCents), o.Currency, o.Status, lima(&o.CreatedAt), lima(&o.ExpiresAt), o.ReceiptID, "", "", "", "", ""}
		if ix != nil && o.ReceiptID != "" {
			if r, err := ix.Get(o.ReceiptID); err == nil {
				row[8], row[9], row[10], row[11], row[12] = r.Fields["cip"], r.Fields["amount"], r.Fields["paid_at"], r.Decision, strings.Join(r.Flags, " ")
			}
		}
		row = append(row, lima(o.PaidAt), money(o.PaidCents), lima(o.SettledAt), money(o.FeeCents), money(o.NetCents), strings.Join(disc[o.OrderID], " "))
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
