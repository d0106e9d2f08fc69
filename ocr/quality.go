package ocr

// Quality reasons a buyer can act on by taking another photo.
const (
	QualityBlurry     = "blurry"
	QualityTooDark    = "too_dark"
	QualityTooSmall   = "too_small"
	QualityNoDocument = "no_document"
	QualityUnreadable = "unreadable"
)

// assessQuality lists what is wrong with the capture, judged from the
// preprocessing measurements and from what could be read.
func assessQuality(p *Prepared, r *Result) []string {
	var q []string
	read := 0
	for _, k := range []string{"cip", "amount", "paid_at"} {
		if r.Confidence[k] > 0.3 {
			read++
		}
	}
	// Few marks or words, yet a key field read: the voucher is there
	// (a small, soft screenshot), and telling the buyer otherwise is wrong.
	if (p.NoDocument || len(r.Words) < 5) && read == 0 {
		q = append(q, QualityNoDocument)
	}
	if p.GlyphPx > 0 && p.GlyphPx < 7 {
		q = append(q, QualityTooSmall)
	}
	// The paper's median level as captured: photos of the dev corpus,
	// dim corners and dark tables included, are 98 or more; the same
	// photos at a third of the light, 65–89.
	if p.Brightness < 80 {
		q = append(q, QualityTooDark)
	}
	if p.Sharpness > 0 && p.Sharpness < 2500 {
		q = append(q, QualityBlurry)
	}
	if read == 0 {
		q = append(q, QualityUnreadable)
	}
	return q
}
