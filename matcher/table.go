package matcher

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/constancia/constancia"
)

// tableRow is one row of an imported file, by our column names.
type tableRow struct {
	line int
	get  func(col string) string
}

// readTable reads a CSV (';' or ',' separated, UTF-8 with or without BOM,
// or ISO-8859-1) or a JSON array of objects, naming each cell by the first
// of names whose spellings (folded) match its header. Rows that cannot be
// read are reported by line number; a missing required column fails.
func readTable(r io.Reader, what string, names map[string][]string, required ...string) ([]tableRow, []RowError, error) {
	data, err := io.ReadAll(io.LimitReader(r, 64<<20))
	if err != nil {
		return nil, nil, constancia.Wrap(err, constancia.EINVALID, "cannot read the "+what)
	}
	if bytes.IndexByte(data[:min(len(data), 4096)], 0) >= 0 {
		return nil, nil, constancia.Errorf(constancia.EINVALID, "the %s is not text: send it as CSV or JSON", what)
	}
	text := decodeText(data)
	lookup := func(folded map[string]string) func(string) string {
		return func(col string) string {
			for _, n := range names[col] {
				if v, ok := folded[n]; ok {
					return v
				}
			}
			return ""
		}
	}
	if t := strings.TrimSpace(text); strings.HasPrefix(t, "[") {
		var objs []map[string]any
		dec := json.NewDecoder(strings.NewReader(t))
		dec.UseNumber() // 1500000 stays "1500000", not "1.5e+06"
		if err := dec.Decode(&objs); err != nil {
			return nil, nil, constancia.Wrap(err, constancia.EINVALID, "the "+what+" is not a JSON array of objects")
		}
		rows := make([]tableRow, len(objs))
		for i, o := range objs {
			folded := map[string]string{}
			for k, v := range o {
				folded[foldHeader(k)] = strings.TrimSpace(fmt.Sprint(v))
			}
			rows[i] = tableRow{line: i + 1, get: lookup(folded)}
		}
		return rows, nil, nil
	}
	first, _, _ := strings.Cut(text, "\n")
	cr := csv.NewReader(strings.NewReader(text))
	if strings.Count(first, ";") > strings.Count(first, ",") {
		cr.Comma = ';'
	}
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, nil, constancia.Wrap(err, constancia.EINVALID, "the "+what+" has no header row")
	}
	folded := make([]string, len(header))
	have := map[string]bool{}
	for i, h := range header {
		folded[i] = foldHeader(h)
		for col, ns := range names {
			for _, n := range ns {
				have[col] = have[col] || folded[i] == n
			}
		}
	}
	for _, need := range required {
		if !have[need] {
			return nil, nil, constancia.Errorf(constancia.EINVALID, "the %s has no %s column (header: %s)", what, need, strings.Join(header, string(cr.Comma)))
		}
	}
	var rows []tableRow
	var bad []RowError
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			// A malformed record has no field positions: the parse error
			// says where it started.
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			bad = append(bad, RowError{Line: line, Err: err.Error()})
			continue
		}
		line, _ := cr.FieldPos(0)
		cells := map[string]string{}
		for i, v := range rec {
			if i < len(folded) {
				if _, dup := cells[folded[i]]; !dup {
					cells[folded[i]] = strings.TrimSpace(v)
				}
			}
		}
		rows = append(rows, tableRow{line: line, get: lookup(cells)})
	}
	return rows, bad, nil
}
