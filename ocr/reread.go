package ocr

import "github.com/otiai10/gosseract/v2"

// reread is a placeholder hook for re-reading weak fields from their crop.
func (e *Engine) reread(c *gosseract.Client, p *Prepared, r *Result) {}
