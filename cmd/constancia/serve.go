package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/constancia/constancia/ocr"
)

// serveConfig is everything `constancia serve` is told.
type serveConfig struct {
	Addr      string
	PublicURL string
	Workers   int
	Queue     int
	Backoff   time.Duration // first webhook retry delay
	MaxUpload int64
	Store     storeConfig
}

func envInt(key string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(key)); err == nil {
		return n
	}
	return def
}

// Validate names the first bad setting.
func (c serveConfig) Validate() error {
	switch {
	case c.Addr == "":
		return usageError{"--addr must not be empty"}
	case c.Workers < 1 || c.Workers > 64:
		return usageError{"--workers must be 1..64"}
	case c.Queue < 0 || c.Queue > 10000:
		return usageError{"--queue must be 0..10000"}
	case c.MaxUpload < 1<<20 || c.MaxUpload > 50<<20:
		return usageError{"--max-upload-mb must be 1..50"}
	}
	return c.Store.Validate()
}

func promHandler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

func (m *Main) runServe(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	var c serveConfig
	fs.StringVar(&c.Addr, "addr", env("CONSTANCIA_ADDR", "127.0.0.1:8080"), "listen address [CONSTANCIA_ADDR]")
	fs.StringVar(&c.PublicURL, "public-url", env("CONSTANCIA_PUBLIC_URL", ""), "base URL buyers reach this service at, for upload links [CONSTANCIA_PUBLIC_URL] (default http://ADDR)")
	fs.IntVar(&c.Workers, "workers", envInt("CONSTANCIA_WORKERS", defaultWorkers()), "OCR workers [CONSTANCIA_WORKERS]")
	fs.IntVar(&c.Queue, "queue", envInt("CONSTANCIA_QUEUE", 16), "verifications waiting for a worker before 429 [CONSTANCIA_QUEUE]")
	fs.DurationVar(&c.Backoff, "webhook-backoff", 10*time.Second, "first webhook retry delay; doubles per attempt")
	mb := fs.Int("max-upload-mb", envInt("CONSTANCIA_MAX_UPLOAD_MB", 15), "largest accepted image, MB [CONSTANCIA_MAX_UPLOAD_MB]")
	registerStoreFlags(fs, &c.Store)
	if err := fs.Parse(args); err != nil {
		return err
	}
	c.MaxUpload = int64(*mb) << 20
	if err := c.Validate(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return err
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + ln.Addr().String()
	}
	s, err := m.newServer(ctx, c)
	if err != nil {
		ln.Close()
		return err
	}
	defer s.close()
	bgCtx, stopBG := context.WithCancel(context.Background())
	s.screener.keeper.Run(bgCtx)
	s.hooks = newDispatcher(s.svc, c.Backoff, m.Logger)
	s.hooks.run(bgCtx)
	s.runExpiry(bgCtx)
	if err := s.resumeSpool(bgCtx); err != nil {
		stopBG()
		return err
	}
	defer func() { stopBG(); s.wgBG.Wait(); s.screener.keeper.Close(); s.hooks.close() }()

	hs := &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 2 * time.Minute,
		WriteTimeout: 3 * time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	fmt.Fprintf(m.Stdout, "constancia listening on %s (data %s)\n", c.PublicURL, c.Store.Data)
	if m.listening != nil {
		m.listening(ln.Addr().String())
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Stop accepting, let accepted requests (and their OCR) finish.
	shCtx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err = hs.Shutdown(shCtx)
	s.wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// newServer opens every component of the service under c.Store.Data.
func (m *Main) newServer(ctx context.Context, c serveConfig) (*server, error) {
	s := &server{cfg: c, log: m.Logger.With("component", "http"), metrics: newMetrics(), slots: make(chan struct{}, c.Workers+c.Queue),
		limiter: newLimiter(20, time.Minute)}
	var err error
	fail := func(err error) (*server, error) { s.close(); return nil, err }
	if s.engine, err = ocr.NewEngine(ocr.Config{Workers: c.Workers, Logger: m.Logger, Limits: ocr.Limits{MaxBytes: c.MaxUpload}}); err != nil {
		return fail(err)
	}
	if s.screener, err = m.openScreener(ctx, c.Store); err != nil {
		return fail(err)
	}
	if s.book, err = m.openBook(c.Store.Data); err != nil {
		return fail(err)
	}
	if s.svc, err = openServiceDB(filepath.Join(c.Store.Data, "service.db")); err != nil {
		return fail(err)
	}
	if s.linkKey, err = s.svc.secret("upload_link_key"); err != nil {
		return fail(err)
	}
	if err := m.firstStart(s.svc); err != nil {
		return fail(err)
	}
	if s.spool, err = openSpool(filepath.Join(c.Store.Data, "pending")); err != nil {
		return fail(err)
	}
	return s, nil
}

func (s *server) close() {
	if s.engine != nil {
		s.engine.Close()
	}
	if s.screener != nil {
		s.screener.Close()
	}
	if s.book != nil {
		s.book.Close()
	}
	if s.svc != nil {
		s.svc.Close()
	}
}

// firstStart creates the first merchant and prints its API key once (or
// takes CONSTANCIA_API_KEY), when no merchant exists yet.
func (m *Main) firstStart(svc *serviceDB) error {
	ms, err := svc.merchants()
	if err != nil || len(ms) > 0 {
		return err
	}
	key := os.Getenv("CONSTANCIA_API_KEY")
	mer, key, err := svc.addMerchant("default", env("CONSTANCIA_MERCHANT_NAME", "Mi tienda"), key)
	if err != nil {
		return err
	}
	if u := os.Getenv("CONSTANCIA_WEBHOOK_URL"); u != "" {
		sec, err := svc.setWebhook(mer.ID, u)
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "webhooks for %q go to %s, signed with %s\n", mer.ID, u, sec)
	}
	if os.Getenv("CONSTANCIA_API_KEY") == "" {
		fmt.Fprintf(m.Stdout, "first start: created merchant %q; its API key (shown once, stored hashed):\n  %s\n", mer.ID, key)
	} else {
		fmt.Fprintf(m.Stdout, "first start: created merchant %q with the API key from CONSTANCIA_API_KEY\n", mer.ID)
	}
	fmt.Fprintf(m.Stdout, "PagoEfectivo notification secret for %q: %s\n", mer.ID, mer.PESecret)
	return nil
}

// runMerchants: constancia merchants add --id ID --name NAME | list
func (m *Main) runMerchants(ctx context.Context, args []string) error {
	var id, name, hook *string
	_, svc, err := m.serviceCommand("merchants", args, []string{"add", "list", "set-webhook"},
		"constancia merchants add --id ID --name NAME [--webhook-url URL] | merchants set-webhook --id ID --webhook-url URL | merchants list   (with the service stopped)",
		func(fs *flag.FlagSet) {
			id = fs.String("id", "", "merchant id (letters, digits, - and _)")
			name = fs.String("name", "", "merchant name shown to buyers")
			hook = fs.String("webhook-url", "", "URL that receives signed webhooks")
		})
	if err != nil {
		return err
	}
	defer svc.Close()
	if args[0] == "list" {
		ms, err := svc.merchants()
		for _, x := range ms {
			fmt.Fprintf(m.Stdout, "%s\t%s\t%s\n", x.ID, x.Name, x.CreatedAt.Format(time.RFC3339))
		}
		return err
	}
	if args[0] == "set-webhook" {
		sec, err := svc.setWebhook(*id, *hook)
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "webhook of %s: %s\nsigning secret: %s\n", *id, *hook, sec)
		return nil
	}
	if !validID(*id) || *name == "" {
		return usageError{"merchants add: --id (letters, digits, - and _) and --name are required"}
	}
	mer, key, err := svc.addMerchant(*id, *name, "")
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "merchant %s created\nAPI key (shown once): %s\nPagoEfectivo notification secret: %s\n", mer.ID, key, mer.PESecret)
	if *hook != "" {
		sec, err := svc.setWebhook(mer.ID, *hook)
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "webhook signing secret: %s\n", sec)
	}
	return nil
}

func validID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// runKeys: constancia keys add --merchant ID | keys revoke KEY
func (m *Main) runKeys(ctx context.Context, args []string) error {
	var mid *string
	fs, svc, err := m.serviceCommand("keys", args, []string{"add", "revoke"},
		"constancia keys add --merchant ID | constancia keys revoke KEY   (with the service stopped)",
		func(fs *flag.FlagSet) { mid = fs.String("merchant", "default", "merchant id") })
	if err != nil {
		return err
	}
	defer svc.Close()
	if args[0] == "revoke" {
		if fs.NArg() != 1 {
			return usageError{"keys revoke: give the key"}
		}
		if err := svc.revokeKey(fs.Arg(0)); err != nil {
			return err
		}
		fmt.Fprintln(m.Stdout, "key revoked")
		return nil
	}
	key, err := svc.addKey(*mid)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "API key for %s (shown once): %s\n", *mid, key)
	return nil
}

// runExpiry marks orders whose CIP expired, every minute, and tells the
// merchants.
func (s *server) runExpiry(ctx context.Context) {
	s.wgBG.Add(1)
	go func() {
		defer s.wgBG.Done()
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			orders, err := s.book.ExpireDue(time.Now())
			if err != nil {
				s.log.Error("order expiry", "err", err)
			}
			for _, o := range orders {
				s.notify(o.Merchant, "order.status_changed", "", s.view(o, false))
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}
