package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"

	"github.com/constancia/constancia"
	"github.com/constancia/constancia/fraud"
	"github.com/constancia/constancia/matcher"
	"github.com/constancia/constancia/ocr"
	"github.com/constancia/constancia/storage"
)

// screener checks each read voucher against the stored ones and keeps it.
type screener struct {
	mu      sync.Mutex // check and save as one step: two copies at once cannot both pass
	keeper  *storage.Keeper
	hashes  *fraud.HashIndex
	checker *fraud.Checker
	names   map[string]string // receipt id → file name, for scan output
}

func (m *Main) openScreener(ctx context.Context, c storeConfig) (*screener, error) {
	k, err := m.openKeeper(ctx, c)
	if err != nil {
		return nil, err
	}
	h := &fraud.HashIndex{}
	if err := k.Index.PHashes(h.Add); err != nil {
		k.Index.Close()
		return nil, err
	}
	return &screener{keeper: k, hashes: h, checker: fraud.NewChecker(fraud.DefaultConfig, k.Index, h), names: map[string]string{}}, nil
}

func (s *screener) Close() error { return s.keeper.Index.Close() }

var contentTypes = map[string]string{"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}

// screen runs the fraud checks for one upload and stores it with its
// findings, returning the stored record. A retry (the same voucher again
// for the same order) stores nothing and returns the earlier record.
// pix is the single-image forensics of the upload (inspect), which
// callers run before, outside the lock.
func (s *screener) screen(ctx context.Context, id, merchant, order string, data []byte, res *ocr.Result, pix []fraud.Reason) (*storage.Record, fraud.Finding, error) {
	sum := sha256.Sum256(data)
	hs, err := fraud.HashImage(res.Prep.Image)
	if err != nil {
		return nil, fraud.Finding{}, err
	}
	fields := fieldMap(res.Fields)
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.checker.Check(fraud.Evidence{Merchant: merchant, OrderID: order, SHA256: hex.EncodeToString(sum[:]), Hashes: hs, Fields: fields, Confidence: res.Confidence, Quality: res.Quality, Data: data, Inspected: pix})
	if err != nil {
		return nil, f, err
	}
	if f.Retry {
		rec, err := s.keeper.Index.Get(f.RetryOf)
		return rec, f, err
	}
	boxes := map[string][4]int{}
	for k, b := range res.Boxes {
		u := res.Prep.ToUpload(b)
		boxes[k] = [4]int{u.Min.X, u.Min.Y, u.Max.X, u.Max.Y}
	}
	for k, a := range res.Asides { // what the consistency layer compared the fields with
		if a.Box.Empty() {
			continue
		}
		u := res.Prep.ToUpload(a.Box)
		boxes[k] = [4]int{u.Min.X, u.Min.Y, u.Max.X, u.Max.Y}
	}
	var detail []string
	for _, r := range f.Reasons {
		detail = append(detail, r.Layer+": "+r.Detail)
	}
	rec := &storage.Record{ID: id, Merchant: merchant, Boxes: boxes, Width: res.Size.X, Height: res.Size.Y, Turn: res.Prep.Turn, FraudDetail: detail, OrderID: order, ContentType: contentTypes[res.Format], PHash: hs.PHash, DHash: hs.DHash,
		Fields: fields, Confidence: res.Confidence, DateOnly: !res.Fields.PaidAt.IsZero() && res.Fields.TimeShown == "", Quality: res.Quality, Flags: f.Flags, DuplicateOf: f.DuplicateOf}
	if err := s.keeper.Save(ctx, rec, data); err != nil {
		return nil, f, err
	}
	s.hashes.Add(hs.PHash, rec.ID)
	return rec, f, nil
}

// decide matches a screened voucher against the merchant's orders, moves
// the order it proves and records the decision on the receipt (rec is
// updated too).
func (s *screener) decide(book *matcher.Book, rec *storage.Record, res *ocr.Result, f fraud.Finding, merchant, order string) (matcher.Decision, error) {
	fs := res.Fields
	v := matcher.Voucher{Merchant: merchant, OrderID: order, CIP: fs.CIP, AmountCents: fs.AmountCents, HasAmount: fs.HasAmount,
		Currency: fs.Currency, PaidAt: fs.PaidAt, DateOnly: !fs.PaidAt.IsZero() && fs.TimeShown == "", Confidence: res.Confidence, Flags: f.Flags, DuplicateOf: f.DuplicateOf, Quality: res.Quality}
	d := book.Match(v, book.Policy(merchant))
	if _, err := book.Apply(d, merchant, rec.ID); err != nil && constancia.ErrorCode(err) != constancia.ECONFLICT {
		return d, err
	}
	err := s.keeper.Index.Update(rec.ID, func(r *storage.Record) error {
		r.Decision, r.Reasons = d.Decision, d.Reasons
		if r.OrderID == "" {
			r.OrderID = d.OrderID
		}
		return nil
	})
	if err != nil {
		return d, err
	}
	rec.Decision, rec.Reasons = d.Decision, d.Reasons
	if rec.OrderID == "" {
		rec.OrderID = d.OrderID
	}
	if f.RetakeOf != "" {
		// The buyer's new photo replaces the one held for review: the
		// earlier receipt leaves the queue and stays as evidence.
		err := s.keeper.Index.Update(f.RetakeOf, func(r *storage.Record) error {
			if r.Decision == matcher.NeedsReview {
				r.Decision, r.Reasons = matcher.Superseded, append(r.Reasons, "retaken:"+rec.ID)
			}
			return nil
		})
		if err != nil {
			return d, err
		}
	}
	if d.Decision == matcher.Verified && rec.OrderID != "" {
		if err := s.clearQueue(merchant, rec.OrderID, rec.ID, "verified_by:"+rec.ID); err != nil {
			return d, err
		}
	}
	return d, nil
}

// clearQueue: once an order is proven paid (a voucher verified it, or
// PagoEfectivo notified the payment), its receipts held for review on their
// reading alone (a poor photo, a field unread or unsure, a capture that did
// not link to the one that verified it) leave the queue as superseded with
// reason why, and stay as evidence. One held for a fraud flag stays for an
// agent: the buyer may have tried something before paying.
func (s *screener) clearQueue(merchant, order, except, why string) error {
	others, err := s.keeper.Index.ByOrder(merchant, order)
	if err != nil {
		return err
	}
	for _, o := range others {
		if o.ID == except || o.Decision != matcher.NeedsReview || len(o.Flags) > 0 {
			continue
		}
		err := s.keeper.Index.Update(o.ID, func(r *storage.Record) error {
			if r.Decision == matcher.NeedsReview && len(r.Flags) == 0 {
				r.Decision, r.Reasons = matcher.Superseded, append(r.Reasons, why)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
