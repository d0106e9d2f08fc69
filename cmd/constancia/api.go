package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/constancia/constancia"
	"github.com/constancia/constancia/matcher"
	"github.com/constancia/constancia/ocr"
	"github.com/constancia/constancia/storage"
)

func (s *server) ready(c *gin.Context) {
	problems := []string{}
	if s.engine == nil || s.engine.Workers() == 0 {
		problems = append(problems, "tesseract")
	}
	if err := s.screener.keeper.Index.Check(); err != nil {
		problems = append(problems, "index")
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), 3*time.Second)
	defer cancel()
	if _, err := s.screener.keeper.Store.Stat(ctx, "readyz/probe"); constancia.ErrorCode(err) != constancia.ENOTFOUND {
		problems = append(problems, "object_store")
	}
	if len(problems) > 0 {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "failing": problems})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}

// orderView is an order as the API shows it.
type orderView struct {
	OrderID   string               `json:"order_id"`
	CIP       string               `json:"cip"`
	Amount    string               `json:"amount"`
	Currency  string               `json:"currency"`
	Status    string               `json:"status"`
	CreatedAt time.Time            `json:"created_at"`
	ExpiresAt time.Time            `json:"expires_at"`
	ReceiptID string               `json:"receipt_id,omitempty"`
	Buyer     string               `json:"buyer,omitempty"`
	Metadata  map[string]string    `json:"metadata,omitempty"`
	History   []matcher.Transition `json:"history"`
	UploadURL string               `json:"upload_url,omitempty"`
	// What PagoEfectivo reported: its notification and settlement file.
	PEPaidAt  *time.Time `json:"pe_paid_at,omitempty"`
	PEAmount  string     `json:"pe_amount,omitempty"`
	SettledAt *time.Time `json:"settled_at,omitempty"`
	Fee       string     `json:"fee,omitempty"`
	Net       string     `json:"net,omitempty"`
}

func (s *server) view(o *matcher.Order, withLink bool) orderView {
	v := orderView{OrderID: o.OrderID, CIP: o.CIP, Amount: ocr.FormatCents(o.AmountCents), Currency: o.Currency, Status: o.Status,
		CreatedAt: o.CreatedAt.In(ocr.Lima), ExpiresAt: o.ExpiresAt.In(ocr.Lima), ReceiptID: o.ReceiptID, Buyer: o.Buyer, Metadata: o.Metadata, History: o.History}
	lima := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		l := t.In(ocr.Lima)
		return &l
	}
	v.PEPaidAt, v.SettledAt = lima(o.PaidAt), lima(o.SettledAt)
	if o.PaidCents != 0 {
		v.PEAmount = ocr.FormatCents(o.PaidCents)
	}
	if o.SettledAt != nil {
		v.Fee, v.Net = ocr.FormatCents(o.FeeCents), ocr.FormatCents(o.NetCents)
	}
	if withLink && o.TakesVoucher() {
		v.UploadURL = strings.TrimRight(s.cfg.PublicURL, "/") + "/u/" + s.linkToken(o.Merchant, o.OrderID, o.ExpiresAt.Add(linkGrace))
	}
	return v
}

// linkGrace: an upload link outlives its CIP by this much, for the buyer
// who paid at an agent just before the CIP expired and sends the photo
// later; the decision still turns down a payment made after the expiry.
const linkGrace = 72 * time.Hour

type createOrderReq struct {
	OrderID   string            `json:"order_id"`
	CIP       string            `json:"cip"`
	Amount    string            `json:"amount"`
	Currency  string            `json:"currency"`
	ExpiresAt string            `json:"expires_at"`
	Buyer     string            `json:"buyer"`
	Metadata  map[string]string `json:"metadata"`
}

func (s *server) createOrder(c *gin.Context) {
	var req createOrderReq
	if err := c.ShouldBindJSON(&req); err != nil {
		s.writeError(c, constancia.Errorf(constancia.EINVALID, "the body must be a JSON object: %v", err))
		return
	}
	cents, ok := matcher.ParseDecimal(req.Amount)
	if !ok {
		s.writeError(c, constancia.Errorf(constancia.EINVALID, "amount must be a decimal string such as \"149.90\""))
		return
	}
	o := &matcher.Order{Merchant: c.GetString("merchant"), OrderID: req.OrderID, CIP: req.CIP, AmountCents: cents, Currency: req.Currency, Buyer: req.Buyer, Metadata: req.Metadata}
	if req.ExpiresAt != "" {
		t, err := time.Parse(time.RFC3339, req.ExpiresAt)
		if err != nil {
			s.writeError(c, constancia.Errorf(constancia.EINVALID, "expires_at must be RFC 3339, e.g. 2026-11-24T18:00:00-05:00"))
			return
		}
		o.ExpiresAt = t.UTC()
	}
	created, err := s.book.Create(o, "api")
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, s.view(created, true))
}

func (s *server) getOrder(c *gin.Context) {
	o, err := s.book.Get(c.GetString("merchant"), c.Param("id"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, s.view(o, true))
}

func (s *server) listOrders(c *gin.Context) {
	status := c.Query("status")
	if status != "" && !matcher.ValidStatus(status) {
		s.writeError(c, constancia.Errorf(constancia.EINVALID, "status %q is not an order state", status))
		return
	}
	limit, before, err := pageParams(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	orders := s.book.List(c.GetString("merchant"), func(o *matcher.Order) bool {
		return (status == "" || o.Status == status) && (before.IsZero() || o.CreatedAt.Before(before))
	})
	sort.Slice(orders, func(i, j int) bool { return orders[i].CreatedAt.After(orders[j].CreatedAt) })
	resp := gin.H{}
	if len(orders) > limit {
		orders = orders[:limit]
		resp["next_before"] = orders[limit-1].CreatedAt.UTC().Format(time.RFC3339Nano)
	}
	out := make([]orderView, len(orders))
	for i, o := range orders {
		out[i] = s.view(o, false)
	}
	resp["orders"] = out
	c.JSON(http.StatusOK, resp)
}

// pageParams reads a listing's page: limit (1..1000, default 100) and
// before, the next_before of the previous page (newest first), if any.
func pageParams(c *gin.Context) (int, time.Time, error) {
	limit, err := strconv.Atoi(c.DefaultQuery("limit", "100"))
	if err != nil || limit < 1 || limit > 1000 {
		return 0, time.Time{}, constancia.Errorf(constancia.EINVALID, "limit must be 1..1000")
	}
	var before time.Time
	if b := c.Query("before"); b != "" {
		if before, err = time.Parse(time.RFC3339Nano, b); err != nil {
			return 0, time.Time{}, constancia.Errorf(constancia.EINVALID, "before must be an RFC 3339 time, as next_before gives it")
		}
	}
	return limit, before, nil
}

func (s *server) cancelOrder(c *gin.Context) {
	o, err := s.book.Move(c.GetString("merchant"), c.Param("id"), matcher.StatusCancelled, "api", "cancelled by the merchant", nil)
	if err != nil {
		s.writeError(c, err)
		return
	}
	s.notify(o.Merchant, "order.status_changed", "", s.view(o, false))
	c.JSON(http.StatusOK, s.view(o, false))
}

// verifyResult is the answer to a verification, as in the API contract.
type verifyResult struct {
	ReceiptID   string             `json:"receipt_id"`
	Decision    string             `json:"decision"`
	Reasons     []string           `json:"reasons"`
	Fields      map[string]string  `json:"fields"`
	DateOnly    bool               `json:"date_only,omitempty"` // paid_at is a day's midnight: the voucher prints no time
	Confidence  map[string]float64 `json:"confidence"`
	Quality     []string           `json:"quality"`
	Flags       []string           `json:"flags"`
	DuplicateOf *string            `json:"duplicate_of"`
	OrderID     string             `json:"order_id,omitempty"`
}

func resultOf(r *storage.Record) verifyResult {
	v := verifyResult{ReceiptID: r.ID, Decision: r.Decision, Reasons: orEmpty(r.Reasons), Fields: r.Fields, DateOnly: r.DateOnly, Confidence: roundConf(r.Confidence),
		Quality: orEmpty(r.Quality), Flags: orEmpty(r.Flags), OrderID: r.OrderID}
	if r.DuplicateOf != "" {
		d := r.DuplicateOf
		v.DuplicateOf = &d
	}
	return v
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// readUpload reads the multipart file field within the size cap: the
// first non-empty one (the buyer's page has two, the camera's and the
// gallery's, and a form without JavaScript posts both).
func (s *server) readUpload(c *gin.Context) ([]byte, error) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, s.cfg.MaxUpload+64<<10)
	form, err := c.MultipartForm()
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, constancia.Errorf(constancia.ETOOLARGE, "the photo is larger than %d MB", s.cfg.MaxUpload>>20)
		}
		return nil, constancia.Errorf(constancia.EINVALID, "send the voucher image as the multipart field 'file'")
	}
	var fh *multipart.FileHeader
	for _, f := range form.File["file"] {
		if f.Size > 0 {
			fh = f
			break
		}
	}
	if fh == nil && len(form.File["file"]) > 0 {
		return nil, constancia.Errorf(constancia.EINVALID, "the file sent is empty (0 bytes): send the voucher image again")
	}
	if fh == nil {
		return nil, constancia.Errorf(constancia.EINVALID, "send the voucher image as the multipart field 'file'")
	}
	if fh.Size > s.cfg.MaxUpload {
		return nil, constancia.Errorf(constancia.ETOOLARGE, "the photo is larger than %d MB", s.cfg.MaxUpload>>20)
	}
	f, err := fh.Open()
	if err != nil {
		return nil, constancia.Wrap(err, constancia.EINVALID, "could not read the upload")
	}
	defer f.Close()
	return ocr.ReadLimited(f, s.cfg.MaxUpload)
}

// verifyVoucher reads, screens, matches and records one voucher for a
// merchant (and the order of the link it came through, if any).
func (s *server) verifyVoucher(ctx context.Context, id, merchantID, orderID string, data []byte) (*verifyResult, error) {
	start := time.Now()
	res, err := s.engine.Read(ctx, data)
	if err != nil {
		return nil, err
	}
	s.metrics.ocr.Observe(time.Since(start).Seconds())
	pix := inspect(res)
	res.Upload = nil // the decoded upload is large; the rest of the request does not need it
	rec, finding, err := s.screener.screen(ctx, id, merchantID, orderID, data, res, pix)
	if err != nil {
		return nil, err
	}
	if finding.Retry {
		r := resultOf(rec)
		return &r, nil
	}
	d, err := s.screener.decide(s.book, rec, res, finding, merchantID, orderID)
	if err != nil {
		return nil, err
	}
	for _, r := range append([]string{"none"}, d.Reasons...)[min(1, len(d.Reasons)):] {
		s.metrics.decisions.WithLabelValues(d.Decision, r).Inc()
	}
	out := resultOf(rec)
	s.notify(merchantID, "receipt.decided", rec.ID, out)
	return &out, nil
}

func (s *server) verify(c *gin.Context) {
	data, err := s.readUpload(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	orderID := c.PostForm("order_id")
	if orderID != "" {
		if _, err := s.book.Get(c.GetString("merchant"), orderID); err != nil {
			s.writeError(c, err)
			return
		}
	}
	async, err := formBool(c, "async")
	if err != nil {
		s.writeError(c, err)
		return
	}
	if !s.admit() {
		s.busy(c)
		return
	}
	if async {
		// Answer now; read in the background. The upload is spooled first,
		// so a crash loses none; shutdown waits for it (s.wg).
		j := spooled{ID: storage.NewID(), Merchant: c.GetString("merchant"), OrderID: orderID, Data: data}
		if err := s.spool.put(j); err != nil {
			s.release()
			s.writeError(c, constancia.Wrap(err, constancia.EUNAVAILABLE, "cannot accept the upload right now"))
			return
		}
		id := j.ID
		s.jobs.Store(id, &job{merchant: j.Merchant})
		go func() { defer s.release(); s.runAsync(j) }()
		c.JSON(http.StatusAccepted, gin.H{"receipt_id": id, "status": "processing"})
		return
	}
	defer s.release()
	res, err := s.verifyVoucher(c.Request.Context(), "", c.GetString("merchant"), orderID, data)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, res)
}

func (s *server) receipt(c *gin.Context) (*storage.Record, bool) {
	if v, ok := s.jobs.Load(c.Param("id")); ok && v.(*job).merchant == c.GetString("merchant") {
		j := v.(*job)
		if j.err != nil {
			s.writeError(c, j.err)
		} else {
			c.AbortWithStatusJSON(http.StatusAccepted, gin.H{"receipt_id": c.Param("id"), "status": "processing"})
		}
		return nil, false
	}
	r, err := s.screener.keeper.Index.Get(c.Param("id"))
	if err == nil && r.Merchant != c.GetString("merchant") {
		err = constancia.Errorf(constancia.ENOTFOUND, "receipt %s not found", c.Param("id"))
	}
	if err != nil {
		s.writeError(c, err)
		return nil, false
	}
	return r, true
}

// listReceipts lists the merchant's receipts, newest first, optionally of
// one order (?order_id=) or with one decision (?decision=).
func (s *server) listReceipts(c *gin.Context) {
	m, order, decision := c.GetString("merchant"), c.Query("order_id"), c.Query("decision")
	switch decision {
	case "", matcher.Verified, matcher.NeedsReview, matcher.Rejected, matcher.Superseded:
	default:
		s.writeError(c, constancia.Errorf(constancia.EINVALID, "decision %q is none of verified, needs_review, rejected, superseded", decision))
		return
	}
	limit, before, err := pageParams(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	var recs []*storage.Record
	if order != "" {
		recs, err = s.screener.keeper.Index.ByOrder(m, order)
	} else {
		err = s.screener.keeper.Index.ForEach(func(r *storage.Record) error {
			if r.Merchant == m {
				recs = append(recs, r)
			}
			return nil
		})
	}
	if err != nil {
		s.writeError(c, err)
		return
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].UploadedAt.After(recs[j].UploadedAt) })
	out := []verifyResult{}
	resp := gin.H{}
	var last time.Time
	for _, r := range recs {
		if (decision != "" && r.Decision != decision) || (!before.IsZero() && !r.UploadedAt.Before(before)) {
			continue
		}
		if len(out) == limit {
			resp["next_before"] = last.UTC().Format(time.RFC3339Nano)
			break
		}
		out = append(out, resultOf(r))
		last = r.UploadedAt
	}
	resp["receipts"] = out
	c.JSON(http.StatusOK, resp)
}

func (s *server) getReceipt(c *gin.Context) {
	if r, ok := s.receipt(c); ok {
		c.JSON(http.StatusOK, resultOf(r))
	}
}

func (s *server) getReceiptImage(c *gin.Context) {
	if r, ok := s.receipt(c); ok {
		s.streamImage(c, r)
	}
}

// streamImage sends a receipt's stored image (ENOTFOUND once purged).
func (s *server) streamImage(c *gin.Context, r *storage.Record) {
	rc, _, err := s.screener.keeper.Image(c.Request.Context(), r.ID)
	if err != nil {
		s.writeError(c, err)
		return
	}
	defer rc.Close()
	c.Header("Content-Type", r.ContentType)
	c.Header("Content-Length", strconv.FormatInt(r.Size, 10))
	c.Header("Cache-Control", "private, max-age=300")
	c.Status(http.StatusOK)
	io.Copy(c.Writer, rc)
}

// peNotification takes PagoEfectivo's signed event for ?merchant=ID.
func (s *server) peNotification(c *gin.Context) {
	m, err := s.svc.merchant(c.Query("merchant"))
	if err != nil {
		s.writeError(c, constancia.Errorf(constancia.ENOTFOUND, "unknown merchant"))
		return
	}
	body, err := io.ReadAll(io.LimitReader(c.Request.Body, 1<<20))
	if err != nil {
		s.writeError(c, constancia.Errorf(constancia.EINVALID, "cannot read the body"))
		return
	}
	res, err := s.book.HandleNotification(m.ID, []byte(m.PESecret), body, c.GetHeader("PE-Signature"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	if res.PaidLate {
		if o, err := s.book.Get(m.ID, res.OrderID); err == nil {
			s.notify(m.ID, "order.paid_after_cancellation", "", s.view(o, false))
		}
	}
	if res.Moved {
		if o, err := s.book.Get(m.ID, res.OrderID); err == nil {
			s.notify(m.ID, "order.status_changed", "", s.view(o, false))
		}
		if res.Status == matcher.StatusPaid {
			if err := s.screener.clearQueue(m.ID, res.OrderID, "", "paid_by_pagoefectivo"); err != nil {
				s.log.Error("clearing the review queue of a paid order", "order", res.OrderID, "err", err)
			}
		}
	}
	c.JSON(http.StatusOK, gin.H{"replay": res.Replay, "known_event": res.Known, "order_id": res.OrderID, "status": res.Status, "stale": res.Stale})
}

// linkToken signs (merchant, order, expiry) for the buyer's upload link.
func (s *server) linkToken(merchantID, orderID string, exp time.Time) string {
	payload := merchantID + "\n" + orderID + "\n" + strconv.FormatInt(exp.Unix(), 10)
	m := hmac.New(sha256.New, s.linkKey)
	m.Write([]byte(payload))
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(payload)) + "." + enc.EncodeToString(m.Sum(nil)[:20])
}

// parseLink checks a link token's signature and expiry.
func (s *server) parseLink(tok string, now time.Time) (merchantID, orderID string, err error) {
	enc := base64.RawURLEncoding
	p, sig, ok := strings.Cut(tok, ".")
	payload, err1 := enc.DecodeString(p)
	got, err2 := enc.DecodeString(sig)
	if !ok || err1 != nil || err2 != nil {
		return "", "", errLink
	}
	m := hmac.New(sha256.New, s.linkKey)
	m.Write(payload)
	if !hmac.Equal(got, m.Sum(nil)[:20]) {
		return "", "", errLink
	}
	parts := strings.Split(string(payload), "\n")
	if len(parts) != 3 {
		return "", "", errLink
	}
	exp, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return "", "", errLink
	}
	if now.Unix() > exp {
		return parts[0], parts[1], errExpired
	}
	return parts[0], parts[1], nil
}

var errExpired = fmt.Errorf("link expired")

// notify queues a webhook for the merchant and wakes the dispatcher.
func (s *server) notify(merchantID, event, receiptID string, payload any) {
	if err := s.svc.enqueue(merchantID, event, receiptID, payload, time.Now()); err != nil {
		s.log.Error("cannot queue a webhook", "err", err, "event", event)
		return
	}
	if s.hooks != nil {
		s.hooks.poke()
	}
}

func (s *server) getReceiptWebhooks(c *gin.Context) {
	r, ok := s.receipt(c)
	if !ok {
		return
	}
	ds, err := s.svc.deliveries(r.ID)
	if err != nil {
		s.writeError(c, err)
		return
	}
	type view struct {
		ID         string     `json:"id"`
		Event      string     `json:"event"`
		Attempts   int        `json:"attempts"`
		Delivered  *time.Time `json:"delivered_at"`
		Failed     bool       `json:"failed"`
		LastStatus int        `json:"last_status,omitempty"`
		LastError  string     `json:"last_error,omitempty"`
		NextAt     time.Time  `json:"next_attempt_at"`
	}
	out := []view{}
	for _, d := range ds {
		out = append(out, view{d.ID, d.Event, d.Attempts, d.Delivered, d.Failed, d.LastStatus, d.LastError, d.NextAt})
	}
	c.JSON(http.StatusOK, gin.H{"deliveries": out})
}

// uploadSettlement imports PagoEfectivo's settlement file (multipart field
// "file", or the raw body) for the merchant.
func (s *server) uploadSettlement(c *gin.Context) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, 32<<20)
	var r io.Reader = c.Request.Body
	name := "upload"
	if fh, err := c.FormFile("file"); err == nil {
		f, err := fh.Open()
		if err != nil {
			s.writeError(c, constancia.Errorf(constancia.EINVALID, "cannot read the file"))
			return
		}
		defer f.Close()
		r, name = f, fh.Filename
	}
	rows, bad, err := matcher.ParseSettlement(r)
	if err != nil {
		s.writeError(c, err)
		return
	}
	m := c.GetString("merchant")
	res, err := s.book.ImportSettlement(m, name, rows)
	if err != nil {
		s.writeError(c, err)
		return
	}
	for _, id := range res.SettledIDs {
		if o, err := s.book.Get(m, id); err == nil {
			s.notify(m, "order.status_changed", "", s.view(o, false))
		}
	}
	for _, d := range res.Discrepancies {
		if d.Code != matcher.DiscPaidCancelled {
			continue
		}
		if o, err := s.book.Get(m, d.OrderID); err == nil {
			s.notify(m, "order.paid_after_cancellation", "", s.view(o, false))
		}
	}
	c.JSON(http.StatusOK, gin.H{"rows": len(rows), "settled": res.Settled, "already_settled": res.AlreadyDone,
		"bad_rows": orEmptyRows(bad), "discrepancies": s.book.WithOutstanding(m, res, 48*time.Hour)})
}

func orEmptyRows(r []matcher.RowError) []matcher.RowError {
	if r == nil {
		return []matcher.RowError{}
	}
	return r
}

// reconciliationReport serves the CSV report for ?from=YYYY-MM-DD&to=YYYY-MM-DD.
func (s *server) reconciliationReport(c *gin.Context) {
	start, err1 := time.ParseInLocation(time.DateOnly, c.Query("from"), ocr.Lima)
	end, err2 := time.ParseInLocation(time.DateOnly, c.Query("to"), ocr.Lima)
	if err1 != nil || err2 != nil || end.Before(start) {
		s.writeError(c, constancia.Errorf(constancia.EINVALID, "from and to are required as YYYY-MM-DD, from ≤ to"))
		return
	}
	var buf bytes.Buffer
	if err := writeReport(&buf, s.book, s.screener.keeper.Index, c.GetString("merchant"), start, end.AddDate(0, 0, 1)); err != nil {
		s.writeError(c, err)
		return
	}
	c.Header("Content-Disposition", fmt.Sprintf("attachment; filename=conciliacion-%s-%s.csv", c.Query("from"), c.Query("to")))
	c.Data(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

// formBool reads a yes/no parameter from the form or the query: absent is
// false; anything but true/false/1/0 is refused rather than read as false.
func formBool(c *gin.Context, name string) (bool, error) {
	v, ok := c.GetPostForm(name)
	if !ok {
		v = c.Query(name)
	}
	switch strings.ToLower(v) {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	}
	return false, constancia.Errorf(constancia.EINVALID, "%s must be true or false, got %q", name, v)
}
