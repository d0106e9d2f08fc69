// Package fraud decides whether an uploaded voucher re-uses or alters one
// seen before. Each upload's evidence (content hash, perceptual hashes of
// the normalised document, the fields read) is checked, layer by layer,
// against the receipts already stored:
//
//   - exact copy: the same SHA-256;
//   - same payment reused: an earlier receipt with the same CIP and
//     operation number (or operation, amount and time);
//   - perceptual: a near pHash/dHash match, which only nominates candidates:
//     the fields decide between a re-capture (duplicate), an edit (one field
//     differs while the identifiers agree) and a different voucher of the
//     same template (no flag);
//   - metadata: editor traces in the file (a weak signal alone).
//
// The same voucher sent again for the same order is a retry, not fraud.
package fraud
