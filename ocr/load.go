package ocr

import (
	"bytes"
	"errors"
	"image"
	_ "image/jpeg" // registers JPEG with image.DecodeConfig
	_ "image/png"  // registers PNG
	"io"

	"github.com/disintegration/imaging"
	_ "golang.org/x/image/webp" // registers WebP

	"github.com/constancia/constancia"
)

// Limits bound what an untrusted upload may cost before it is decoded.
type Limits struct {
	MaxBytes  int64 // largest accepted file; default 15 MB
	MaxPixels int64 // largest accepted width*height; default 40 MP
}

// DefaultLimits are the limits used when a Config leaves them zero.
var DefaultLimits = Limits{MaxBytes: 15 << 20, MaxPixels: 40_000_000}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultLimits.MaxBytes
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultLimits.MaxPixels
	}
	return l
}

// ReadLimited reads all of r, failing with ETOOLARGE once more than max bytes
// arrive and with EINVALID for an empty input.
func ReadLimited(r io.Reader, max int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, constancia.Wrap(err, constancia.EINVALID, "could not read the image")
	}
	if int64(len(data)) > max {
		return nil, constancia.Errorf(constancia.ETOOLARGE, "image is larger than %d bytes", max)
	}
	if len(data) == 0 {
		return nil, constancia.Errorf(constancia.EINVALID, "image is empty")
	}
	return data, nil
}

// Decode checks data against lim and decodes it, applying EXIF orientation.
// It returns the image and its format name ("jpeg", "png", "webp"), or an
// *constancia.Error: EUNSUPPORTED for an unknown format, ETOOLARGE for too
// many bytes or pixels, ECORRUPT for an image that does not decode.
func Decode(data []byte, lim Limits) (image.Image, string, error) {
	lim = lim.withDefaults()
	if int64(len(data)) > lim.MaxBytes {
		return nil, "", constancia.Errorf(constancia.ETOOLARGE, "image is larger than %d bytes", lim.MaxBytes)
	}
	if len(data) == 0 {
		return nil, "", constancia.Errorf(constancia.EINVALID, "image is empty")
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		if errors.Is(err, image.ErrFormat) {
			return nil, "", constancia.Errorf(constancia.EUNSUPPORTED, "unsupported image format: send a JPEG, PNG or WebP photo")
		}
		return nil, "", constancia.Wrap(err, constancia.ECORRUPT, "the image file is damaged or incomplete")
	}
	switch format {
	case "jpeg", "png", "webp":
	default:
		return nil, "", constancia.Errorf(constancia.EUNSUPPORTED, "unsupported image format %q: send a JPEG, PNG or WebP photo", format)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, "", constancia.Errorf(constancia.ECORRUPT, "the image has no pixels")
	}
	if int64(cfg.Width)*int64(cfg.Height) > lim.MaxPixels {
		return nil, "", constancia.Errorf(constancia.ETOOLARGE, "image of %dx%d pixels is larger than %d pixels", cfg.Width, cfg.Height, lim.MaxPixels)
	}
	img, err := imaging.Decode(bytes.NewReader(data), imaging.AutoOrientation(true))
	if err != nil {
		return nil, "", constancia.Wrap(err, constancia.ECORRUPT, "the image file is damaged or incomplete")
	}
	return img, format, nil
}
