package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/constancia/constancia/matcher"
)

// label is the subset of a labels.jsonl line that eval scores.
type label struct {
	File      string `json:"file"`
	Kind      string `json:"kind"`
	CIP       string `json:"cip"`
	Operation string `json:"operation"`
	Amount    string `json:"amount"`
	Currency  string `json:"currency"`
	PaidAt    string `json:"paid_at"`
}

func readLabels(path string) (map[string]label, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]label{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		var l label
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, n, err)
		}
		if l.File != "" {
			out[l.File] = l
		}
	}
	return out, sc.Err()
}

// evalReport is what eval measures over one labelled directory.
type evalReport struct {
	N         int
	Hits      map[string]int
	Misses    []string
	P50, P95  time.Duration
	PerSecond float64
	Errors    int
}

// Accuracy returns the percentage of vouchers whose field was read right.
func (r evalReport) Accuracy(field string) float64 {
	if r.N == 0 {
		return 0
	}
	return 100 * float64(r.Hits[field]) / float64(r.N)
}

func minuteOf(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04")
}

// labelledFiles returns the paths of the labelled images in dir, by name.
func labelledFiles(labels map[string]label, dir string) []string {
	var files []string
	for name := range labels {
		files = append(files, filepath.Join(dir, name))
	}
	sort.Strings(files)
	return files
}

func (m *Main) evaluate(ctx context.Context, labels map[string]label, dir string, workers int) (evalReport, error) {
	files := labelledFiles(labels, dir)
	eng, err := m.newEngine(workers)
	if err != nil {
		return evalReport{}, err
	}
	defer eng.Close()
	rep := evalReport{Hits: map[string]int{}}
	var lat []time.Duration
	start := time.Now()
	err = readAll(ctx, eng, files, false, func(s scanned) error {
		l := labels[filepath.Base(s.path)]
		rep.N++
		lat = append(lat, time.Duration(s.ms)*time.Millisecond)
		got := map[string]string{}
		if s.err != nil {
			rep.Errors++
		} else {
			got = fieldMap(s.res.Fields)
		}
		check := func(field string, ok bool, want, have string) {
			if ok {
				rep.Hits[field]++
				return
			}
			rep.Misses = append(rep.Misses, fmt.Sprintf("%s %s want=%s got=%s", l.File, field, want, have))
		}
		check("cip", got["cip"] == l.CIP, l.CIP, got["cip"])
		check("operation", got["operation"] == l.Operation, l.Operation, got["operation"])
		check("amount", got["amount"] == l.Amount && got["currency"] == l.Currency, l.Amount+l.Currency, got["amount"]+got["currency"])
		check("paid_at", got["paid_at"] != "" && minuteOf(got["paid_at"]) == minuteOf(l.PaidAt), l.PaidAt, got["paid_at"])
		return nil
	})
	if err != nil {
		return rep, err
	}
	if el := time.Since(start); el > 0 {
		rep.PerSecond = float64(rep.N) / el.Seconds()
	}
	sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
	if len(lat) > 0 {
		rep.P50, rep.P95 = lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*95/100)]
	}
	return rep, nil
}

func (m *Main) runEval(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	labelsPath := fs.String("labels", "", "labels.jsonl (default DIR/labels.jsonl)")
	workers := fs.Int("workers", defaultWorkers(), "OCR workers")
	kind := fs.String("kind", "", "score only labels of this kind (original, duplicate, edited)")
	decide := fs.Bool("decide", false, "instead of field accuracy, count the decisions reached against one open order per labelled payment")
	poor := fs.Bool("verify-poor-images", false, "with --decide: the merchant policy's verify_poor_images")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"eval: give one directory of images"}
	}
	dir := fs.Arg(0)
	if *labelsPath == "" {
		*labelsPath = filepath.Join(dir, "labels.jsonl")
	}
	labels, err := readLabels(*labelsPath)
	if err != nil {
		return err
	}
	if *kind != "" {
		for k, l := range labels {
			if l.Kind != *kind {
				delete(labels, k)
			}
		}
	}
	if *decide {
		p := matcher.DefaultPolicy
		p.VerifyPoorImages = *poor
		rep, err := m.evaluateDecisions(ctx, labels, dir, *workers, p)
		if err != nil {
			return err
		}
		m.printDecisions(rep)
		return nil
	}
	rep, err := m.evaluate(ctx, labels, dir, *workers)
	if err != nil {
		return err
	}
	for _, s := range rep.Misses {
		fmt.Fprintln(m.Stdout, "miss", s)
	}
	fmt.Fprintf(m.Stdout, "vouchers=%d errors=%d cip=%.1f%% operation=%.1f%% amount=%.1f%% paid_at=%.1f%% p50=%dms p95=%dms throughput=%.2f/s workers=%d\n",
		rep.N, rep.Errors, rep.Accuracy("cip"), rep.Accuracy("operation"), rep.Accuracy("amount"), rep.Accuracy("paid_at"),
		rep.P50.Milliseconds(), rep.P95.Milliseconds(), rep.PerSecond, *workers)
	return nil
}
