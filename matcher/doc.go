// Package matcher ties read vouchers to merchants' orders and decides:
// verified, needs_review or rejected, with reason codes. It keeps the order
// book (bbolt, with every state transition recorded and in-memory indexes
// for matching), and cross-checks with PagoEfectivo's own records: signed
// payment notifications and settlement files.
//
// All times are handled in Peru time (UTC−5) and stored in UTC.
package matcher
