package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/constancia/constancia/ocr/synth"
)

// genOptions narrow what generate draws.
type genOptions struct {
	Template string // one template instead of the random mix
	Edit     string // "amount", "date" or "cip": every voucher edited the way an image editor would
}

// generate writes n labelled vouchers into dir (images and labels.jsonl);
// every second one is a photo.
func generate(dir string, n int, seed uint64) ([]synth.Voucher, error) {
	return generateWith(dir, n, seed, genOptions{})
}

// generateWith is generate narrowed by o.
func generateWith(dir string, n int, seed uint64, o genOptions) ([]synth.Voucher, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	lf, err := os.Create(filepath.Join(dir, "labels.jsonl"))
	if err != nil {
		return nil, err
	}
	defer lf.Close()
	enc := json.NewEncoder(lf)
	var out []synth.Voucher
	for i := 0; i < n; i++ {
		v := synth.Random(seed, i)
		if o.Template != "" {
			v.Template = o.Template
		}
		switch o.Edit {
		case "amount": // a thousands digit added or raised: the amount goes up
			v.EditAmount(v.AmountCents() + 100000*int64(1+i%9))
		case "date": // paid days later than printed
			v.EditPaidAt(v.PaidAtTime().AddDate(0, 0, 1+i%6))
		case "cip": // another payment's code pasted 5–9 % larger or smaller (app template only)
			size := 1.05 + 0.01*float64(i%5)
			if i%3 == 0 {
				size = 1 / size
			}
			v.EditCIP(fmt.Sprintf("%d%s", (int(v.CIP[0]-'0')+1+i%8)%9+1, v.CIP[1:]), size)
		}
		opt := synth.Options{Seed: seed*1000003 + uint64(i), Photo: i%2 == 1}
		if !opt.Photo && i%4 == 0 {
			opt.Format = "png"
		}
		data, err := synth.Render(&v, opt)
		if err != nil {
			return nil, err
		}
		ext := ".jpg"
		if opt.Format == "png" {
			ext = ".png"
		}
		v.File = fmt.Sprintf("s%04d%s", i+1, ext)
		if err := os.WriteFile(filepath.Join(dir, v.File), data, 0o644); err != nil {
			return nil, err
		}
		if err := enc.Encode(v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, lf.Close()
}

func (m *Main) runSynth(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("synth", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	out := fs.String("out", "", "directory to write vouchers and labels.jsonl into (required)")
	n := fs.Int("n", 20, "number of vouchers")
	seed := fs.Uint64("seed", 1, "generator seed")
	var o genOptions
	fs.StringVar(&o.Template, "template", "", "draw only this template: thermal, app, stacked, header, table, wallet or receipt (a shop receipt, no CIP) (default: a random mix of the first three)")
	fs.StringVar(&o.Edit, "edit", "", "edit every voucher as an image editor would: amount (its TOTAL left as printed), date (its print stamp and weekday left) or cip (pasted 5–9 % larger or smaller; app template)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || *n < 1 || *n > 100000 {
		return usageError{"synth: --out DIR is required and -n must be 1..100000"}
	}
	switch o.Template {
	case "", "thermal", "app", "stacked", "header", "table", "wallet", "receipt":
	default:
		return usageError{"synth: --template must be thermal, app, stacked, header, table, wallet or receipt"}
	}
	switch {
	case o.Edit != "" && o.Edit != "amount" && o.Edit != "date" && o.Edit != "cip":
		return usageError{"synth: --edit must be amount, date or cip"}
	case o.Edit == "cip" && o.Template != "app":
		return usageError{"synth: --edit cip is drawn by --template app only"}
	case o.Edit != "" && o.Template == "receipt":
		return usageError{"synth: --edit is not drawn on receipts"}
	}
	if _, err := generateWith(*out, *n, *seed, o); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "wrote %d vouchers and labels.jsonl to %s\n", *n, *out)
	return nil
}
