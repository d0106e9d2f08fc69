package synth

import (
	"bytes"
	"encoding/binary"
	"errors"
)

// WithOrientation returns the JPEG data with an EXIF block whose
// Orientation tag is o (1–8), as a phone stores a photo taken in another
// position than the sensor's: the pixels as the sensor saw them, and the
// turn a viewer must give them. Any EXIF block data had is replaced.
func WithOrientation(data []byte, o int) ([]byte, error) {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return nil, errors.New("synth: not a JPEG")
	}
	if o < 1 || o > 8 {
		return nil, errors.New("synth: EXIF orientation must be 1–8")
	}
	// "Exif\0\0", a big-endian TIFF header, one IFD of one SHORT entry.
	var tiff bytes.Buffer
	tiff.WriteString("MM\x00\x2a")
	binary.Write(&tiff, binary.BigEndian, uint32(8)) // first IFD offset
	binary.Write(&tiff, binary.BigEndian, uint16(1)) // entries
	binary.Write(&tiff, binary.BigEndian, [4]uint16{0x0112, 3, 0, 1})
	binary.Write(&tiff, binary.BigEndian, [2]uint16{uint16(o), 0})
	binary.Write(&tiff, binary.BigEndian, uint32(0)) // no next IFD
	payload := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	var out bytes.Buffer
	out.Write(data[:2])
	out.Write([]byte{0xFF, 0xE1})
	binary.Write(&out, binary.BigEndian, uint16(len(payload)+2))
	out.Write(payload)
	// Keep every segment after SOI but an existing APP1.
	rest := data[2:]
	for len(rest) >= 4 && rest[0] == 0xFF && rest[1] == 0xE1 {
		n := int(binary.BigEndian.Uint16(rest[2:4]))
		if 2+n > len(rest) {
			return nil, errors.New("synth: truncated JPEG segment")
		}
		rest = rest[2+n:]
	}
	out.Write(rest)
	return out.Bytes(), nil
}
