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

// generate writes n labelled vouchers into dir (images and labels.jsonl);
// every second one is a photo.
func generate(dir string, n int, seed uint64) ([]synth.Voucher, error) {
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
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || *n < 1 || *n > 100000 {
		return usageError{"synth: --out DIR is required and -n must be 1..100000"}
	}
	if _, err := generate(*out, *n, *seed); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "wrote %d vouchers and labels.jsonl to %s\n", *n, *out)
	return nil
}
