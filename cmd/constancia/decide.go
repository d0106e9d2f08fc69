package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/constancia/constancia/matcher"
)

// decisionReport counts, for each kind of labelled voucher (original,
// duplicate, edited), the decisions the service reached.
type decisionReport struct {
	Counts  map[string]map[string]int // kind → decision → vouchers
	Reasons map[string]map[string]int // kind → reason → vouchers not decided as wanted
	Wrong   []string                  // fraud verified, or originals rejected
}

// evaluateDecisions runs every labelled voucher, in file order, through
// what an API upload goes through — read, pixel forensics, fraud screen
// against the earlier ones, match, order update — against a book holding
// one open order per payment the labels show (created two hours before
// the payment, open 72 h). Uploads carry no order id, so the CIP, amount
// and time decide which order a voucher proves, and a re-used voucher
// meets the order its first upload already verified.
func (m *Main) evaluateDecisions(ctx context.Context, labels map[string]label, dir string, workers int, policy matcher.Policy) (decisionReport, error) {
	rep := decisionReport{Counts: map[string]map[string]int{}, Reasons: map[string]map[string]int{}}
	tmp, err := os.MkdirTemp("", "constancia-decide-")
	if err != nil {
		return rep, err
	}
	defer os.RemoveAll(tmp)
	book, err := matcher.OpenBook(filepath.Join(tmp, "orders.db"))
	if err != nil {
		return rep, err
	}
	defer book.Close()
	sc, err := m.openScreener(ctx, storeConfig{Data: filepath.Join(tmp, "store"), Retention: 180 * 24 * time.Hour})
	if err != nil {
		return rep, err
	}
	defer sc.Close()
	files := labelledFiles(labels, dir)
	const merchant = "eval"
	if err := book.SetPolicy(merchant, policy); err != nil {
		return rep, err
	}
	seen := map[string]bool{}
	for _, f := range files {
		l := labels[filepath.Base(f)]
		cents, ok := matcher.ParseAmount(l.Amount)
		paid, err := time.Parse(time.RFC3339, l.PaidAt)
		if l.Kind == "duplicate" || seen[l.CIP] || !ok || err != nil {
			continue
		}
		seen[l.CIP] = true
		created := paid.Add(-2 * time.Hour)
		o := &matcher.Order{Merchant: merchant, OrderID: l.File, CIP: l.CIP, AmountCents: cents, Currency: l.Currency, CreatedAt: created, ExpiresAt: created.Add(72 * time.Hour)}
		if _, err := book.Create(o, "eval"); err != nil {
			return rep, fmt.Errorf("order for %s: %w", l.File, err)
		}
	}
	eng, err := m.newEngine(workers)
	if err != nil {
		return rep, err
	}
	defer eng.Close()
	count := func(t map[string]map[string]int, kind, key string) {
		if t[kind] == nil {
			t[kind] = map[string]int{}
		}
		t[kind][key]++
	}
	err = readAll(ctx, eng, files, true, func(s scanned) error {
		l := labels[filepath.Base(s.path)]
		if s.err != nil {
			count(rep.Counts, l.Kind, "error")
			return nil
		}
		rec, f, err := sc.screen(ctx, "", merchant, "", s.data, s.res, s.pix)
		if err != nil {
			return err
		}
		decision, reasons := rec.Decision, rec.Reasons
		if !f.Retry {
			d, err := sc.decide(book, rec, s.res, f, merchant, "")
			if err != nil {
				return err
			}
			decision, reasons = d.Decision, d.Reasons
		}
		count(rep.Counts, l.Kind, decision)
		want := matcher.Verified
		if l.Kind != "original" {
			want = matcher.Rejected
		}
		if decision != want {
			for _, r := range reasons {
				count(rep.Reasons, l.Kind, r)
			}
		}
		if (l.Kind != "original" && decision == matcher.Verified) || (l.Kind == "original" && decision == matcher.Rejected) {
			rep.Wrong = append(rep.Wrong, fmt.Sprintf("%s %s %s %s", l.File, l.Kind, decision, strings.Join(reasons, ",")))
		}
		return nil
	})
	return rep, err
}

func (m *Main) printDecisions(rep decisionReport) {
	kinds := make([]string, 0, len(rep.Counts))
	for k := range rep.Counts {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, w := range rep.Wrong {
		fmt.Fprintln(m.Stdout, "wrong", w)
	}
	for _, k := range kinds {
		n := 0
		for _, c := range rep.Counts[k] {
			n += c
		}
		fmt.Fprintf(m.Stdout, "%s n=%d", k, n)
		for _, d := range []string{matcher.Verified, matcher.NeedsReview, matcher.Rejected, "error"} {
			if c := rep.Counts[k][d]; c > 0 {
				fmt.Fprintf(m.Stdout, " %s=%d (%.1f%%)", d, c, 100*float64(c)/float64(n))
			}
		}
		var rs []string
		for r, c := range rep.Reasons[k] {
			rs = append(rs, fmt.Sprintf("%s:%d", r, c))
		}
		sort.Strings(rs)
		if len(rs) > 0 {
			fmt.Fprintf(m.Stdout, " otherwise-because %s", strings.Join(rs, " "))
		}
		fmt.Fprintln(m.Stdout)
	}
}
