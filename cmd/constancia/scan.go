package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/constancia/constancia"
	"github.com/constancia/constancia/fraud"
	"github.com/constancia/constancia/ocr"
)

// scanLine is one line of `scan --jsonl`. Its shape is a contract with
// other tools (score.py, the fraud and service layers).
type scanLine struct {
	File        string             `json:"file"`
	Fields      map[string]string  `json:"fields"`
	Confidence  map[string]float64 `json:"confidence"`
	Quality     []string           `json:"quality"`
	Flags       []string           `json:"flags"`
	DuplicateOf *string            `json:"duplicate_of"`
	MS          int64              `json:"ms"`
	Error       *apiError          `json:"error,omitempty"`
}

type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// fieldMap renders fields as the strings of the JSON contract; fields not
// read are left out.
func fieldMap(f ocr.Fields) map[string]string {
	out := map[string]string{}
	if f.CIP != "" {
		out["cip"] = f.CIP
	}
	if f.Operation != "" {
		out["operation"] = f.Operation
	}
	if f.HasAmount {
		out["amount"] = f.Amount()
		out["currency"] = f.Currency
	}
	if !f.PaidAt.IsZero() {
		out["paid_at"] = f.PaidAt.In(ocr.Lima).Format(time.RFC3339)
	}
	return out
}

func roundConf(c map[string]float64) map[string]float64 {
	out := make(map[string]float64, len(c))
	for k, v := range c {
		out[k] = float64(int(v*1000+0.5)) / 1000
	}
	return out
}

// listImages expands paths into image files, directories sorted by name.
func listImages(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		ents, err := os.ReadDir(p)
		if err != nil {
			return nil, err
		}
		var names []string
		for _, e := range ents {
			switch strings.ToLower(filepath.Ext(e.Name())) {
			case ".jpg", ".jpeg", ".png", ".webp":
				if !e.IsDir() {
					names = append(names, e.Name())
				}
			}
		}
		sort.Strings(names)
		for _, n := range names {
			out = append(out, filepath.Join(p, n))
		}
	}
	return out, nil
}

type scanned struct {
	path string
	data []byte
	res  *ocr.Result
	pix  []fraud.Reason // single-image forensics, when asked for
	err  error
	ms   int64
}

// readAll OCRs files with the engine's workers and calls emit for each in
// input order, as soon as it and all before it are done.
// With forensics, each worker also runs single-image forensics on what it read.
func readAll(ctx context.Context, eng *ocr.Engine, files []string, forensics bool, emit func(scanned) error) error {
	results := make([]chan scanned, len(files))
	for i := range results {
		results[i] = make(chan scanned, 1)
	}
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < eng.Workers(); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				start := time.Now()
				s := scanned{path: files[i]}
				f, err := os.Open(files[i])
				if err == nil {
					var data []byte
					data, err = ocr.ReadLimited(f, eng.Limits().MaxBytes)
					f.Close()
					if err == nil {
						s.data = data
						s.res, err = eng.Read(ctx, data)
						if err == nil && forensics {
							s.pix = inspect(s.res)
							studyForensics(filepath.Base(files[i]), s.res)
						}
						if err == nil {
							s.res.Upload = nil // the decoded upload is large; nothing later needs it
						}
					}
				}
				s.err = err
				s.ms = time.Since(start).Milliseconds()
				results[i] <- s
			}
		}()
	}
	go func() {
		defer close(jobs)
		for i := range files {
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	var firstErr error
	for i := range files {
		select {
		case s := <-results[i]:
			if err := emit(s); err != nil && firstErr == nil {
				firstErr = err
			}
		case <-ctx.Done():
			wg.Wait()
			return ctx.Err()
		}
	}
	wg.Wait()
	return firstErr
}

func defaultWorkers() int { return max(1, runtime.NumCPU()) }

func (m *Main) newEngine(workers int) (*ocr.Engine, error) {
	return ocr.NewEngine(ocr.Config{Workers: workers, Logger: m.Logger})
}

func (m *Main) runScan(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("scan", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	jsonl := fs.Bool("jsonl", false, "print one JSON object per voucher")
	workers := fs.Int("workers", defaultWorkers(), "OCR workers")
	dump := fs.String("dump", "", "debugging: write each prepared image (PNG) and its OCR lines to this directory")
	dataDir := fs.String("data", "", "store the vouchers in this data directory and check them against it (default: a temporary store)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dataDir == "" {
		tmp, err := os.MkdirTemp("", "constancia-scan-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		*dataDir = tmp
	}
	sc, err := m.openScreener(ctx, storeConfig{Data: *dataDir, Retention: 180 * 24 * time.Hour})
	if err != nil {
		return err
	}
	defer sc.Close()
	if fs.NArg() == 0 {
		return usageError{"scan: give at least one file or directory"}
	}
	files, err := listImages(fs.Args())
	if err != nil {
		return err
	}
	eng, err := m.newEngine(*workers)
	if err != nil {
		return err
	}
	defer eng.Close()
	enc := json.NewEncoder(m.Stdout)
	return readAll(ctx, eng, files, true, func(s scanned) error {
		line := scanLine{File: filepath.Base(s.path), Fields: map[string]string{}, Confidence: map[string]float64{},
			Quality: []string{}, Flags: []string{}, MS: s.ms}
		var reasons []fraud.Reason
		if s.err != nil {
			line.Error = &apiError{Code: constancia.ErrorCode(s.err), Message: constancia.ErrorMessage(s.err)}
		} else {
			line.Fields = fieldMap(s.res.Fields)
			line.Confidence = roundConf(s.res.Confidence)
			line.Quality = append(line.Quality, s.res.Quality...)
			rec, f, err := sc.screen(ctx, "", "scan", "", s.data, s.res, s.pix)
			if err != nil {
				return err
			}
			line.Flags = append(line.Flags, f.Flags...)
			reasons = f.Reasons
			if rec.DuplicateOf != "" {
				name := sc.names[rec.DuplicateOf]
				line.DuplicateOf = &name
			}
			sc.names[rec.ID] = line.File
		}
		if *dump != "" && s.res != nil {
			if err := dumpDebug(*dump, s.path, s.res); err != nil {
				return err
			}
		}
		if *jsonl {
			return enc.Encode(line)
		}
		return printHuman(m, line, reasons)
	})
}

// printHuman prints l on one line, then each reason behind its flags
// (what an operator checking a flagged voucher by hand needs to see; the
// JSON lines keep their fixed shape).
func printHuman(m *Main, l scanLine, reasons []fraud.Reason) error {
	if l.Error != nil {
		_, err := fmt.Fprintf(m.Stdout, "%s: error %s: %s\n", l.File, l.Error.Code, l.Error.Message)
		return err
	}
	var parts []string
	for _, k := range []string{"cip", "operation", "amount", "currency", "paid_at"} {
		if v, ok := l.Fields[k]; ok {
			c := ""
			if cv, ok := l.Confidence[k]; ok {
				c = fmt.Sprintf(" (%.2f)", cv)
			}
			if k == "currency" {
				c = ""
			}
			parts = append(parts, fmt.Sprintf("%s=%s%s", k, v, c))
		}
	}
	q := ""
	if len(l.Quality) > 0 {
		q = " quality=" + strings.Join(l.Quality, ",")
	}
	if len(l.Flags) > 0 {
		q += " flags=" + strings.Join(l.Flags, ",")
	}
	if _, err := fmt.Fprintf(m.Stdout, "%s: %s%s [%d ms]\n", l.File, strings.Join(parts, " "), q, l.MS); err != nil {
		return err
	}
	for _, r := range reasons {
		if _, err := fmt.Fprintf(m.Stdout, "  %s (%s): %s\n", r.Code, r.Layer, r.Detail); err != nil {
			return err
		}
	}
	return nil
}

// dumpDebug writes what the reader saw: the prepared image and the words
// of each OCR line with their confidences.
func dumpDebug(dir, path string, r *ocr.Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	base := filepath.Join(dir, strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)))
	f, err := os.Create(base + ".png")
	if err != nil {
		return err
	}
	if err := png.Encode(f, r.Prep.Image); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "turn=%d angle=%.2f scale=%.3f glyph=%.1f bright=%.0f sharp=%.0f doc=%v inverted=%d panels=%d together=%v leaders=%d\n", r.Prep.Turn, r.Prep.Angle, r.Prep.Scale, r.Prep.GlyphPx, r.Prep.Brightness, r.Prep.Sharpness, r.Prep.Doc, r.Prep.Inverted, r.Prep.Panels, r.Prep.RunTogether, r.Prep.Leaders)
	for _, k := range []string{"total", "fee", "printed_at", "weekday"} {
		if a, ok := r.Asides[k]; ok {
			switch k {
			case "total", "fee":
				fmt.Fprintf(&sb, "aside %s: %s %s conf=%.2f\n", k, a.Currency, ocr.FormatCents(a.Cents), a.Conf)
			case "weekday":
				fmt.Fprintf(&sb, "aside %s: %s beside %s conf=%.2f\n", k, a.Weekday, a.At.Format("2006-01-02"), a.Conf)
			default:
				fmt.Fprintf(&sb, "aside %s: %s time=%v conf=%.2f\n", k, a.At.Format(time.RFC3339), a.HasTime, a.Conf)
			}
		}
	}
	last := -1
	for _, w := range r.Words {
		if w.Line != last {
			fmt.Fprintf(&sb, "\n[y=%d] ", w.Box.Min.Y)
			last = w.Line
		}
		fmt.Fprintf(&sb, "%s(%.0f) ", w.Text, w.Conf*100)
	}
	return os.WriteFile(base+".txt", []byte(sb.String()), 0o644)
}
