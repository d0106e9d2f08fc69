package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/constancia/constancia"
)

// Outbound webhooks: every decision and order state change is queued in
// bbolt (bucket "webhook_due", keyed by next attempt time) and delivered
// with an HMAC signature; failures retry with exponential backoff, and a
// restart loses nothing.

var (
	bDue      = []byte("webhook_due")      // 8-byte BE next attempt (unix ms) + id → nil
	bDelivery = []byte("webhook_delivery") // id → delivery
	bByRecpt  = []byte("webhook_by_receipt")
)

type delivery struct {
	ID         string          `json:"id"`
	Merchant   string          `json:"merchant"`
	Event      string          `json:"event"` // receipt.decided, order.status_changed, order.paid_after_cancellation
	ReceiptID  string          `json:"receipt_id,omitempty"`
	Payload    json.RawMessage `json:"payload"`
	Attempts   int             `json:"attempts"`
	NextAt     time.Time       `json:"next_at"`
	CreatedAt  time.Time       `json:"created_at"`
	LastError  string          `json:"last_error,omitempty"`
	LastStatus int             `json:"last_status,omitempty"`
	Delivered  *time.Time      `json:"delivered_at,omitempty"`
	Failed     bool            `json:"failed,omitempty"` // gave up after maxAttempts
}

const maxAttempts = 12

func dueKey(t time.Time, id string) []byte {
	k := make([]byte, 8, 8+len(id))
	binary.BigEndian.PutUint64(k, uint64(t.UnixMilli()))
	return append(k, id...)
}

func (s *serviceDB) initWebhooks() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bDue, bDelivery, bByRecpt} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
}

// setWebhook sets a merchant's webhook URL and returns its signing secret.
func (s *serviceDB) setWebhook(id, url string) (string, error) {
	m, err := s.merchant(id)
	if err != nil {
		return "", err
	}
	if url != "" && !(len(url) > 8 && (url[:7] == "http://" || url[:8] == "https://")) {
		return "", constancia.Errorf(constancia.EINVALID, "the webhook URL must start with http:// or https://")
	}
	m.WebhookURL = url
	if m.WebhookSecret == "" {
		m.WebhookSecret = "whsec_" + randomToken(24)
	}
	data, _ := json.Marshal(m)
	return m.WebhookSecret, s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bMerchants).Put([]byte(id), data) })
}

// enqueue stores a webhook for merchant, due now; nothing if the merchant
// has no webhook URL.
func (s *serviceDB) enqueue(merchantID, event, receiptID string, payload any, now time.Time) error {
	m, err := s.merchant(merchantID)
	if err != nil || m.WebhookURL == "" {
		return err
	}
	body, err := json.Marshal(map[string]any{"event": event, "created_at": now.UTC(), "data": payload})
	if err != nil {
		return err
	}
	d := delivery{ID: randomToken(12), Merchant: merchantID, Event: event, ReceiptID: receiptID, Payload: body, NextAt: now, CreatedAt: now.UTC()}
	return s.db.Update(func(tx *bolt.Tx) error { return putDelivery(tx, &d, time.Time{}) })
}

// putDelivery stores d, moving its due entry from prevDue (if set).
func putDelivery(tx *bolt.Tx, d *delivery, prevDue time.Time) error {
	if !prevDue.IsZero() {
		if err := tx.Bucket(bDue).Delete(dueKey(prevDue, d.ID)); err != nil {
			return err
		}
	}
	data, err := json.Marshal(d)
	if err != nil {
		return err
	}
	if err := tx.Bucket(bDelivery).Put([]byte(d.ID), data); err != nil {
		return err
	}
	if d.ReceiptID != "" {
		if err := tx.Bucket(bByRecpt).Put([]byte(d.ReceiptID+"\x00"+d.ID), nil); err != nil {
			return err
		}
	}
	if d.Delivered == nil && !d.Failed {
		return tx.Bucket(bDue).Put(dueKey(d.NextAt, d.ID), nil)
	}
	return nil
}

// due returns up to n deliveries whose next attempt is at or before now.
func (s *serviceDB) due(now time.Time, n int) ([]delivery, error) {
	var out []delivery
	end := dueKey(now, "")
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bDue).Cursor()
		for k, _ := c.First(); k != nil && bytes.Compare(k[:8], end[:8]) <= 0 && len(out) < n; k, _ = c.Next() {
			var d delivery
			if err := json.Unmarshal(tx.Bucket(bDelivery).Get(k[8:]), &d); err != nil {
				return err
			}
			out = append(out, d)
		}
		return nil
	})
	return out, err
}

// deliveries lists the webhook log of a receipt.
func (s *serviceDB) deliveries(receiptID string) ([]delivery, error) {
	var out []delivery
	prefix := []byte(receiptID + "\x00")
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bByRecpt).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			var d delivery
			if err := json.Unmarshal(tx.Bucket(bDelivery).Get(k[len(prefix):]), &d); err != nil {
				return err
			}
			out = append(out, d)
		}
		return nil
	})
	return out, err
}

// signWebhook returns the Constancia-Signature header for body at t.
func signWebhook(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

// dispatcher delivers due webhooks until its context ends.
type dispatcher struct {
	svc     *serviceDB
	client  *http.Client
	backoff time.Duration // first retry delay; doubles each attempt, capped at 6 h
	tick    time.Duration
	log     *slog.Logger
	wake    chan struct{}
	wg      sync.WaitGroup
}

func newDispatcher(svc *serviceDB, backoff time.Duration, log *slog.Logger) *dispatcher {
	// Its own transport: webhook connections are not shared with anything
	// else in the process, and idle ones are closed when the dispatcher ends.
	tr := &http.Transport{Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: 4, IdleConnTimeout: 30 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second, ResponseHeaderTimeout: 10 * time.Second}
	return &dispatcher{svc: svc, client: &http.Client{Timeout: 15 * time.Second, Transport: tr}, backoff: backoff, tick: time.Second,
		log: log.With("component", "webhooks"), wake: make(chan struct{}, 1)}
}

// poke asks for a delivery round now.
func (d *dispatcher) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *dispatcher) run(ctx context.Context) {
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		t := time.NewTicker(d.tick)
		defer t.Stop()
		for {
			d.round(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			case <-d.wake:
			}
		}
	}()
}

func (d *dispatcher) close() {
	d.wg.Wait()
	d.client.CloseIdleConnections()
}

func (d *dispatcher) round(ctx context.Context) {
	due, err := d.svc.due(time.Now(), 50)
	if err != nil {
		d.log.Error("cannot read the webhook queue", "err", err)
		return
	}
	for _, w := range due {
		if ctx.Err() != nil {
			return
		}
		d.attempt(ctx, w)
	}
}

func (d *dispatcher) attempt(ctx context.Context, w delivery) {
	m, err := d.svc.merchant(w.Merchant)
	prev := w.NextAt
	w.Attempts++
	status := 0
	if err == nil && m.WebhookURL != "" {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, m.WebhookURL, bytes.NewReader(w.Payload))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Constancia-Event", w.Event)
		req.Header.Set("Constancia-Delivery", w.ID)
		req.Header.Set("Constancia-Signature", signWebhook(m.WebhookSecret, time.Now(), w.Payload))
		resp, herr := d.client.Do(req)
		if herr == nil {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			status = resp.StatusCode
		}
		err = herr
	} else if err == nil {
		err = fmt.Errorf("merchant has no webhook URL any more")
	}
	now := time.Now()
	switch {
	case err == nil && status >= 200 && status < 300:
		t := now.UTC()
		w.Delivered, w.LastStatus, w.LastError = &t, status, ""
	default:
		if ctx.Err() != nil {
			return // shutting down: the attempt did not count
		}
		w.LastStatus = status
		if err != nil {
			w.LastError = err.Error()
		} else {
			w.LastError = "status " + strconv.Itoa(status)
		}
		if w.Attempts >= maxAttempts {
			w.Failed = true
		}
		delay := d.backoff << min(w.Attempts-1, 20)
		w.NextAt = now.Add(min(delay, 6*time.Hour))
	}
	if err := d.svc.db.Update(func(tx *bolt.Tx) error { return putDelivery(tx, &w, prev) }); err != nil {
		d.log.Error("cannot record a webhook attempt", "err", err, "delivery", w.ID)
	}
}
