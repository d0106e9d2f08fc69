package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/constancia/constancia"
	"github.com/constancia/constancia/assets"
	"github.com/constancia/constancia/matcher"
	"github.com/constancia/constancia/ocr"
)

// server is the HTTP service: every component it uses is built by
// runServe and injected here.
type server struct {
	cfg      serveConfig
	log      *slog.Logger
	engine   *ocr.Engine
	screener *screener
	keyLocks keyLocks // requests sharing an Idempotency-Key, one at a time
	book     *matcher.Book
	svc      *serviceDB
	linkKey  []byte
	slots    chan struct{} // OCR admissions: workers + queue
	limiter  *limiter
	metrics  *metrics
	hooks    *dispatcher
	spool    *spool         // accepted asynchronous uploads not yet decided
	jobs     sync.Map       // async receipt id → *job while it is read
	wg       sync.WaitGroup // accepted verifications in flight
	wgBG     sync.WaitGroup // background loops (order expiry)
}

type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.HistogramVec
	ocr       prometheus.Histogram
	queue     prometheus.Gauge
	decisions *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "constancia_http_request_seconds", Help: "HTTP request latency.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12)}, []string{"route", "method", "status"}),
		ocr: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "constancia_ocr_seconds", Help: "Time to read one voucher.",
			Buckets: prometheus.ExponentialBuckets(0.05, 1.6, 12)}),
		queue: prometheus.NewGauge(prometheus.GaugeOpts{Name: "constancia_ocr_queue_depth", Help: "Verifications admitted and not finished."}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "constancia_decisions_total", Help: "Decisions by outcome and reason."},
			[]string{"decision", "reason"}),
	}
	m.reg.MustRegister(m.requests, m.ocr, m.queue, m.decisions, prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

// statusOf maps error codes to HTTP statuses: the one table.
var statusOf = map[string]int{
	constancia.EINVALID:     http.StatusBadRequest,
	constancia.EUNSUPPORTED: http.StatusUnsupportedMediaType,
	constancia.ETOOLARGE:    http.StatusRequestEntityTooLarge,
	constancia.ECORRUPT:     http.StatusUnprocessableEntity,
	constancia.ENOTFOUND:    http.StatusNotFound,
	constancia.ECONFLICT:    http.StatusConflict,
	constancia.EUNAVAILABLE: http.StatusServiceUnavailable,
	constancia.EINTERNAL:    http.StatusInternalServerError,
	"unauthorized":          http.StatusUnauthorized,
	"rate_limited":          http.StatusTooManyRequests,
	"forbidden":             http.StatusForbidden,
}

// writeError is the one HTTP exit for errors: {"error":{"code","message"}}.
// Unknown errors are logged with detail and shown as "internal error".
func (s *server) writeError(c *gin.Context, err error) {
	code := constancia.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if status >= 500 {
		s.log.Error("request failed", "err", err, "path", c.FullPath(), "request_id", c.GetString("request_id"))
	}
	c.AbortWithStatusJSON(status, gin.H{"error": gin.H{"code": code, "message": constancia.ErrorMessage(err)}})
}

func (s *server) routes() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(s.recoverer, s.requestID, s.observe)
	r.NoRoute(func(c *gin.Context) { s.writeError(c, constancia.Errorf(constancia.ENOTFOUND, "no such route")) })
	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", s.ready)
	r.GET("/metrics", gin.WrapH(promHandler(s.metrics.reg)))
	api := r.Group("/api/v1")
	api.POST("/pagoefectivo/notifications", s.peNotification)
	api.GET("/openapi.json", func(c *gin.Context) { c.Data(http.StatusOK, "application/json", assets.OpenAPI) })
	auth := api.Group("", s.authenticate, s.idempotency)
	auth.POST("/orders", s.createOrder)
	auth.GET("/orders", s.listOrders)
	auth.GET("/orders/:id", s.getOrder)
	auth.POST("/orders/:id/cancel", s.cancelOrder)
	auth.POST("/verify", s.verify)
	auth.GET("/receipts", s.listReceipts)
	auth.GET("/receipts/:id", s.getReceipt)
	auth.GET("/receipts/:id/image", s.getReceiptImage)
	auth.GET("/receipts/:id/webhooks", s.getReceiptWebhooks)
	auth.POST("/settlements", s.uploadSettlement)
	auth.GET("/reports/reconciliation", s.reconciliationReport)
	auth.GET("/policy", s.getPolicy)
	auth.PUT("/policy", s.putPolicy)
	s.consoleRoutes(r)
	r.GET("/u/:token", s.uploadPage)
	r.POST("/u/:token", s.uploadPost)
	return r
}

func (s *server) recoverer(c *gin.Context) {
	defer func() {
		if p := recover(); p != nil {
			s.writeError(c, constancia.Errorf(constancia.EINTERNAL, "internal error"))
			s.log.Error("panic in handler", "panic", p, "path", c.FullPath())
		}
	}()
	c.Next()
}

func (s *server) requestID(c *gin.Context) {
	id := c.GetHeader("X-Request-Id")
	if id == "" || len(id) > 64 {
		id = randomToken(8)
	}
	c.Set("request_id", id)
	c.Header("X-Request-Id", id)
	c.Next()
}

func (s *server) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	s.metrics.requests.WithLabelValues(route, c.Request.Method, strconv.Itoa(c.Writer.Status())).Observe(time.Since(start).Seconds())
	s.log.Debug("request", "method", c.Request.Method, "route", route, "status", c.Writer.Status(), "ms", time.Since(start).Milliseconds(), "request_id", c.GetString("request_id"))
}

func (s *server) authenticate(c *gin.Context) {
	h := c.GetHeader("Authorization")
	key, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || key == "" {
		s.writeError(c, &constancia.Error{Code: "unauthorized", Message: "send your API key as 'Authorization: Bearer <key>'"})
		return
	}
	id, err := s.svc.authenticate(strings.TrimSpace(key))
	if err != nil {
		s.writeError(c, &constancia.Error{Code: "unauthorized", Message: "unknown API key"})
		return
	}
	c.Set("merchant", id)
	c.Next()
}

// bodyRecorder keeps a copy of what a handler writes, for idempotent replay.
type bodyRecorder struct {
	gin.ResponseWriter
	buf bytes.Buffer
}

func (w *bodyRecorder) Write(b []byte) (int, error) { w.buf.Write(b); return w.ResponseWriter.Write(b) }

// idempotency replays the stored answer to a POST whose Idempotency-Key was
// seen before (per merchant), and stores new 2xx answers.
func (s *server) idempotency(c *gin.Context) {
	key := c.GetHeader("Idempotency-Key")
	if c.Request.Method != http.MethodPost || key == "" {
		c.Next()
		return
	}
	if len(key) > 200 {
		s.writeError(c, constancia.Errorf(constancia.EINVALID, "Idempotency-Key is longer than 200 characters"))
		return
	}
	m := c.GetString("merchant")
	// The request's fingerprint: a key sent again with another request is
	// the client's mistake, answered as such rather than with the first
	// request's answer. A body over the upload cap is left to the handler
	// to refuse.
	body, err := io.ReadAll(io.LimitReader(c.Request.Body, s.cfg.MaxUpload+64<<10+1))
	if err != nil {
		s.writeError(c, constancia.Errorf(constancia.EINVALID, "cannot read the request"))
		return
	}
	c.Request.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), c.Request.Body))
	h := sha256.New()
	fmt.Fprintf(h, "%s %s\n", c.Request.Method, c.Request.URL.RequestURI())
	// A form's parts are parted by a boundary each send draws anew (curl
	// does): the same upload retried is the same request.
	if mt, params, err := mime.ParseMediaType(c.GetHeader("Content-Type")); err == nil && strings.HasPrefix(mt, "multipart/") && params["boundary"] != "" {
		h.Write(bytes.ReplaceAll(body, []byte(params["boundary"]), nil))
	} else {
		h.Write(body)
	}
	request := hex.EncodeToString(h.Sum(nil))
	// One request per key at a time: a client's retry while the first is
	// still being answered waits for it, then gets its answer.
	unlock := s.keyLocks.lock(m + "\x00" + key)
	defer unlock()
	if e, ok := s.svc.idempotent(m, key); ok {
		if e.Request != "" && e.Request != request {
			s.writeError(c, constancia.Errorf(constancia.ECONFLICT, "Idempotency-Key %q was used for another request; use a new key for a new request", key))
			return
		}
		c.Header("Idempotent-Replay", "true")
		c.Data(e.Status, "application/json; charset=utf-8", e.Body)
		c.Abort()
		return
	}
	rec := &bodyRecorder{ResponseWriter: c.Writer}
	c.Writer = rec
	c.Next()
	if st := rec.Status(); st >= 200 && st < 300 {
		if err := s.svc.remember(m, key, request, st, rec.buf.Bytes()); err != nil {
			s.log.Error("cannot store idempotent response", "err", err)
		}
	}
}

// keyLocks serialises requests that share a key.
type keyLocks struct {
	mu   sync.Mutex
	held map[string]*keyLock
}

type keyLock struct {
	mu    sync.Mutex
	users int
}

// lock waits for key and returns its release.
func (k *keyLocks) lock(key string) func() {
	k.mu.Lock()
	if k.held == nil {
		k.held = map[string]*keyLock{}
	}
	l := k.held[key]
	if l == nil {
		l = &keyLock{}
		k.held[key] = l
	}
	l.users++
	k.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		k.mu.Lock()
		if l.users--; l.users == 0 {
			delete(k.held, key)
		}
		k.mu.Unlock()
	}
}

// admit takes an OCR slot without waiting; full means 429.
func (s *server) admit() bool {
	select {
	case s.slots <- struct{}{}:
		s.metrics.queue.Inc()
		s.wg.Add(1)
		return true
	default:
		return false
	}
}

func (s *server) release() {
	<-s.slots
	s.metrics.queue.Dec()
	s.wg.Done()
}

func (s *server) busy(c *gin.Context) {
	c.Header("Retry-After", "5")
	s.writeError(c, &constancia.Error{Code: "rate_limited", Message: "too many vouchers are being read right now; retry in a few seconds"})
}

// limiter is a fixed-window request limiter per key (link, address).
type limiter struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	seen   map[string]*window
}

type window struct {
	start time.Time
	n     int
}

func newLimiter(max int, per time.Duration) *limiter {
	return &limiter{max: max, window: per, seen: map[string]*window{}}
}

// allow counts one request for key and reports whether it is within limits.
func (l *limiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.seen[key]
	if w == nil || now.Sub(w.start) > l.window {
		if len(l.seen) > 100000 { // bound memory: drop stale windows
			for k, v := range l.seen {
				if now.Sub(v.start) > l.window {
					delete(l.seen, k)
				}
			}
		}
		w = &window{start: now}
		l.seen[key] = w
	}
	w.n++
	return w.n <= l.max
}

var errLink = errors.New("bad link")

// job is an async verification not finished yet (or failed).
type job struct {
	merchant string
	err      error
	done     bool
}
