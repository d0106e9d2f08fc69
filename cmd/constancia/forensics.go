package main

import (
	"encoding/json"
	"image"
	"os"
	"unicode"

	"github.com/constancia/constancia/fraud"
	"github.com/constancia/constancia/ocr"
)

// valueRegions lists, in upload pixels, the words of the voucher, the
// ones that carry a field read tagged with its name: forensics compares
// each field's words with the rest.
func valueRegions(res *ocr.Result) []fraud.Region {
	if res == nil || res.Prep == nil || res.Upload == nil {
		return nil
	}
	var out []fraud.Region
	for _, w := range res.Words {
		digits, alnum := 0, 0
		for _, r := range w.Text {
			if unicode.IsDigit(r) {
				digits++
			}
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				alnum++
			}
		}
		if alnum < 2 {
			continue
		}
		field := ""
		if digits >= 2 {
			for _, k := range []string{"cip", "operation", "amount", "paid_at"} {
				if b, ok := res.Boxes[k]; ok && overlapFrac(w.Box, b) > 0.5 {
					field = k
					break
				}
			}
		}
		// Peers must be well read; a field's own words are kept however
		// they read (edited digits often read worse).
		if field == "" && w.Conf < 0.5 {
			continue
		}
		out = append(out, region(res, field, w.Text, w.Box))
	}
	// A value read from its own strip (a label's orphan, a re-read crop)
	// has no word of the page over it: its box alone is examined.
	for _, k := range []string{"cip", "operation", "amount", "paid_at"} {
		b, ok := res.Boxes[k]
		if !ok || covered(out, k) {
			continue
		}
		out = append(out, region(res, k, fieldValue(res, k), b))
	}
	return out
}

// covered reports whether a region of field k is in rs.
func covered(rs []fraud.Region, k string) bool {
	for _, r := range rs {
		if r.Field == k {
			return true
		}
	}
	return false
}

// fieldValue is field k of res as text.
func fieldValue(res *ocr.Result, k string) string {
	return fieldMap(res.Fields)[k]
}

// overlapFrac is the fraction of a's area inside b.
func overlapFrac(a, b image.Rectangle) float64 {
	i := a.Intersect(b)
	if a.Empty() || i.Empty() {
		return 0
	}
	return float64(i.Dx()*i.Dy()) / float64(a.Dx()*a.Dy())
}

// inspect runs single-image forensics on a read upload: its fields'
// pixels against the rest of the voucher, and its fields against what it
// prints besides them.
func inspect(res *ocr.Result) []fraud.Reason {
	if res == nil || res.Upload == nil || len(res.Boxes) == 0 {
		return nil // no field read: nothing to compare
	}
	out := fraud.Inspect(valueRegions(res), res.Prep.Flat(), fraud.DefaultForensics)
	return append(out, fraud.CrossCheck(claims(res), fraud.DefaultCrossCheck)...)
}

// claims are the fields of res and the values printed besides them, for
// fraud.CrossCheck.
func claims(res *ocr.Result) fraud.Claims {
	f := res.Fields
	var c fraud.Claims
	if f.HasAmount {
		c.Amount = fraud.Money{Cents: f.AmountCents, Currency: f.Currency, Conf: res.Confidence["amount"]}
	}
	if !f.PaidAt.IsZero() {
		c.PaidAt = fraud.Stamp{At: f.PaidAt, HasTime: f.TimeShown != "", Conf: res.Confidence["paid_at"]}
	}
	money := func(a ocr.Aside) fraud.Money { return fraud.Money{Cents: a.Cents, Currency: a.Currency, Conf: a.Conf} }
	c.Fee, c.Total = money(res.Asides["fee"]), money(res.Asides["total"])
	if a, ok := res.Asides["printed_at"]; ok {
		c.PrintedAt = fraud.Stamp{At: a.At, HasTime: a.HasTime, Conf: a.Conf}
	}
	if a, ok := res.Asides["weekday"]; ok {
		c.Weekday = fraud.Weekday{Day: a.Weekday, Date: a.At, Conf: a.Conf}
	}
	return c
}

// region is the value at box b of the prepared page, with a margin of
// background around it.
func region(res *ocr.Result, field, text string, b image.Rectangle) fraud.Region {
	m := max(2, b.Dy()/4)
	pb := b.Inset(-m).Intersect(res.Prep.Image.Rect)
	return fraud.Region{Field: field, Text: text, Box: res.Prep.ToUpload(b), Crop: res.Prep.Sample(res.Upload, pb)}
}

// studyForensics appends the traits of one upload to the file named by
// CONSTANCIA_FORENSICS_DUMP (a development aid for calibrating thresholds).
func studyForensics(file string, res *ocr.Result) {
	path := os.Getenv("CONSTANCIA_FORENSICS_DUMP")
	if path == "" || res == nil || res.Upload == nil {
		return
	}
	type row struct {
		File   string          `json:"file"`
		Angle  float64         `json:"angle"`
		Turn   int             `json:"turn"`
		Doc    image.Rectangle `json:"doc"`
		Size   image.Point     `json:"size"`
		Traits []fraud.Traits  `json:"traits"`
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	json.NewEncoder(f).Encode(row{File: file, Angle: res.Prep.Angle, Turn: res.Prep.Turn, Doc: res.Prep.Doc, Size: res.Size, Traits: fraud.Measure(valueRegions(res))})
}
