package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"image"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/constancia/constancia"
	"github.com/constancia/constancia/assets"
	"github.com/constancia/constancia/matcher"
	"github.com/constancia/constancia/ocr"
	"github.com/constancia/constancia/storage"
)

// The support console: server-rendered pages (html/template, embedded
// from assets/web) in Spanish, English and Simplified Chinese; strings live
// in assets/web/i18n/<lang>.json, so another language is a catalogue.

var catalogs = loadCatalogs("es", "en", "zh")

func loadCatalogs(langs ...string) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, l := range langs {
		b, err := assets.Web.ReadFile("web/i18n/" + l + ".json")
		if err != nil {
			panic(err) // embedded at build time
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			panic(err)
		}
		out[l] = m
	}
	return out
}

func consoleTemplates(lang string) *template.Template {
	cat := catalogs[lang]
	return template.Must(template.New("console").Funcs(template.FuncMap{"t": func(k string) string {
		if v, ok := cat[k]; ok {
			return v
		}
		return k
	}}).ParseFS(assets.Web, "web/console.html"))
}

var consoleTmpl = map[string]*template.Template{"es": consoleTemplates("es"), "en": consoleTemplates("en"), "zh": consoleTemplates("zh")}

// pageLang picks ?lang=, then the lang cookie, then Accept-Language, then es.
func pageLang(c *gin.Context) string {
	if l := c.Query("lang"); consoleTmpl[l] != nil {
		c.SetCookie("lang", l, 365*24*3600, "/console", "", false, true)
		return l
	}
	if l, err := c.Cookie("lang"); err == nil && consoleTmpl[l] != nil {
		return l
	}
	al := strings.ToLower(c.GetHeader("Accept-Language"))
	for _, l := range []string{"zh", "en", "es"} {
		if strings.HasPrefix(al, l) {
			return l
		}
	}
	return "es"
}

type consolePage struct {
	Lang, User, CSRF, Error string
}

func (s *server) render(c *gin.Context, status int, name string, data map[string]any) {
	lang := pageLang(c)
	p := consolePage{Lang: lang}
	if se, ok := c.Get("session"); ok {
		p.User, p.CSRF = se.(*session).User, se.(*session).CSRF
	}
	if data == nil {
		data = map[string]any{}
	}
	data["Lang"], data["User"] = p.Lang, p.User
	if _, ok := data["CSRF"]; !ok {
		data["CSRF"] = p.CSRF
	}
	if _, ok := data["Error"]; !ok {
		data["Error"] = ""
	}
	var buf bytes.Buffer
	if err := consoleTmpl[lang].ExecuteTemplate(&buf, name, data); err != nil {
		s.log.Error("render console", "page", name, "err", err)
		s.writeError(c, constancia.Errorf(constancia.EINTERNAL, "internal error"))
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Header("X-Frame-Options", "DENY")
	c.Header("Content-Security-Policy", "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

func (s *server) consoleRoutes(r *gin.Engine) {
	r.GET("/console/login", s.loginPage)
	r.POST("/console/login", s.loginPost)
	g := r.Group("/console", s.requireAgent)
	g.POST("/logout", s.logout)
	g.GET("/", s.queuePage)
	g.GET("/dashboard", s.dashboard)
	g.GET("/receipts/:id", s.receiptPage)
	g.GET("/receipts/:id/image", s.consoleImage)
	g.GET("/receipts/:id/audit.csv", s.auditCSV)
	g.POST("/receipts/:id/action", s.consoleAction)
	g.GET("/admin/backup", s.hotBackup)
}

// A pre-session CSRF token for the login form lives in its own cookie.
func (s *server) loginPage(c *gin.Context) {
	tok := randomToken(16)
	c.SetSameSite(http.SameSiteStrictMode)
	c.SetCookie("login_csrf", tok, 3600, "/console", "", s.secureCookies(), true)
	s.render(c, http.StatusOK, "login", map[string]any{"CSRF": tok, "Error": c.Query("e")})
}

func (s *server) secureCookies() bool { return strings.HasPrefix(s.cfg.PublicURL, "https://") }

func (s *server) loginPost(c *gin.Context) {
	want, err := c.Cookie("login_csrf")
	if err != nil || !csrfOK(&session{CSRF: want}, c.PostForm("csrf")) {
		s.writeError(c, &constancia.Error{Code: "forbidden", Message: "the form expired; reload the sign-in page"})
		return
	}
	if !s.limiter.allow("login:"+c.ClientIP(), time.Now()) {
		s.render(c, http.StatusTooManyRequests, "login", map[string]any{"CSRF": want, "Error": "too many attempts; wait a minute"})
		return
	}
	tok, _, err := s.svc.login(c.PostForm("user"), c.PostForm("password"), time.Now())
	if err != nil {
		status := http.StatusUnauthorized
		if constancia.ErrorCode(err) == "rate_limited" {
			status = http.StatusTooManyRequests
		}
		s.render(c, status, "login", map[string]any{"CSRF": want, "Error": constancia.ErrorMessage(err)})
		return
	}
	c.SetSameSite(http.SameSiteStrictMode)
	c.SetCookie(sessionCookie, tok, int(sessionFor.Seconds()), "/console", "", s.secureCookies(), true)
	c.Redirect(http.StatusSeeOther, "/console/")
}

func (s *server) requireAgent(c *gin.Context) {
	tok, err := c.Cookie(sessionCookie)
	se, ok := s.svc.session(tok, time.Now())
	if err != nil || !ok {
		if c.Request.Method == http.MethodGet {
			c.Redirect(http.StatusSeeOther, "/console/login")
			c.Abort()
			return
		}
		s.writeError(c, &constancia.Error{Code: "unauthorized", Message: "sign in first"})
		return
	}
	if c.Request.Method == http.MethodPost && !csrfOK(se, c.PostForm("csrf")) {
		s.writeError(c, &constancia.Error{Code: "forbidden", Message: "invalid CSRF token; reload the page"})
		return
	}
	c.Set("session", se)
	c.Set("token", tok)
	c.Next()
}

func (s *server) logout(c *gin.Context) {
	s.svc.logout(c.GetString("token"))
	c.SetCookie(sessionCookie, "", -1, "/console", "", s.secureCookies(), true)
	c.Redirect(http.StatusSeeOther, "/console/login")
}

func agentOf(c *gin.Context) *session { v, _ := c.Get("session"); return v.(*session) }

// reviewQueue returns the vouchers awaiting a person, oldest first: a range
// of the index's decision bucket, not a scan of every record.
func (s *server) reviewQueue() ([]*storage.Record, error) {
	var out []*storage.Record
	err := s.screener.keeper.Index.ByDecision(matcher.NeedsReview, func(r *storage.Record) error {
		out = append(out, r)
		return nil
	})
	return out, err
}

func ageOf(t time.Time) string {
	d := time.Since(t).Round(time.Minute)
	if d >= 24*time.Hour {
		return fmt.Sprintf("%dd %dh", int(d.Hours())/24, int(d.Hours())%24)
	}
	return fmt.Sprintf("%dh %02dm", int(d.Hours()), int(d.Minutes())%60)
}

func (s *server) queuePage(c *gin.Context) {
	recs, err := s.reviewQueue()
	if err != nil {
		s.writeError(c, err)
		return
	}
	reason, merchantF := c.Query("reason"), c.Query("merchant")
	minC, _ := matcher.ParseAmount(c.Query("min"))
	minAge, _ := strconv.Atoi(c.Query("age_h")) // only vouchers waiting at least this many hours
	type row struct {
		ID, Uploaded, Age, Merchant, Order, Amount, Claim string
		Reasons                                           []string
	}
	var items []row
	all := map[string]bool{}
	now := time.Now()
	for _, r := range recs {
		for _, x := range r.Reasons {
			all[x] = true
		}
		cents, _ := matcher.ParseAmount(r.Fields["amount"])
		if (reason != "" && !has(r.Reasons, reason)) || (merchantF != "" && r.Merchant != merchantF) || cents < minC ||
			time.Since(r.UploadedAt) < time.Duration(minAge)*time.Hour {
			continue
		}
		items = append(items, row{ID: r.ID, Uploaded: r.UploadedAt.In(ocr.Lima).Format("2006-01-02 15:04"), Age: ageOf(r.UploadedAt), Merchant: r.Merchant,
			Order: r.OrderID, Amount: r.Fields["amount"] + " " + r.Fields["currency"], Reasons: r.Reasons, Claim: s.svc.claimOf(r.ID, now)})
	}
	var reasons []string
	for k := range all {
		reasons = append(reasons, k)
	}
	sort.Strings(reasons)
	s.render(c, http.StatusOK, "queue", map[string]any{"Items": items, "AllReasons": reasons,
		"Filter": map[string]string{"Reason": reason, "Merchant": merchantF, "Min": c.Query("min"), "Age": c.Query("age_h")}})
}

func has(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

func (s *server) consoleRecord(c *gin.Context) (*storage.Record, bool) {
	r, err := s.screener.keeper.Index.Get(c.Param("id"))
	if err != nil {
		s.writeError(c, err)
		return nil, false
	}
	return r, true
}

// imageSize is the stored image's size as the browser shows it: the
// record's, or for a record written before it was kept, the file's header
// (EXIF orientation not applied).
func (s *server) imageSize(c *gin.Context, r *storage.Record) (int, int) {
	if r.Width > 0 && r.Height > 0 {
		return r.Width, r.Height
	}
	rc, _, err := s.screener.keeper.Image(c.Request.Context(), r.ID)
	if err != nil {
		return 0, 0
	}
	defer rc.Close()
	cfg, _, err := image.DecodeConfig(io.LimitReader(rc, 1<<20))
	if err != nil {
		return 0, 0
	}
	return cfg.Width, cfg.Height
}

func (s *server) receiptPage(c *gin.Context) {
	if r, ok := s.consoleRecord(c); ok {
		s.showReceipt(c, r, http.StatusOK, "")
	}
}

// showReceipt renders a voucher's page; problem, when not empty, is what
// went wrong with the agent's last action, shown on the page with status.
func (s *server) showReceipt(c *gin.Context, r *storage.Record, status int, problem string) {
	me := agentOf(c).User
	holder, err := s.svc.claimReceipt(r.ID, me, time.Now())
	if err != nil {
		s.writeError(c, err)
		return
	}
	claimedBy := ""
	if holder != me {
		claimedBy = holder
	}
	type box struct {
		L, T, W, H float64
		Label      string
	}
	var boxes []box
	if w, h := s.imageSize(c, r); w > 0 && h > 0 {
		for k, b := range r.Boxes {
			pct := func(v, d int) float64 { return float64(int(1000*float64(v)/float64(d))) / 10 }
			label := k // a value the fields were checked against (total, fee, printed_at, weekday)
			if c, ok := r.Confidence[k]; ok {
				label = fmt.Sprintf("%s %.0f%%", k, 100*c)
			}
			boxes = append(boxes, box{pct(b[0], w), pct(b[1], h), pct(b[2]-b[0], w), pct(b[3]-b[1], h), label})
		}
	}
	type fld struct{ K, V, C string }
	var fields []fld
	for _, k := range []string{"cip", "operation", "amount", "currency", "paid_at"} {
		if v, ok := r.Fields[k]; ok {
			c := ""
			if cv, ok := r.Confidence[k]; ok {
				c = fmt.Sprintf("%.0f%%", 100*cv)
			}
			fields = append(fields, fld{k, v, c})
		}
	}
	v := voucherOf(r)
	d := s.book.Match(v, s.book.Policy(r.Merchant))
	var order *matcher.Order
	if r.OrderID != "" {
		order, _ = s.book.Get(r.Merchant, r.OrderID)
	}
	var earlier *storage.Record
	if r.DuplicateOf != "" {
		earlier, _ = s.screener.keeper.Index.Get(r.DuplicateOf)
	}
	audit, _, _ := s.svc.auditLog(r.ID)
	hold := map[bool]map[string]string{false: {"A": "hold", "L": "hold"}, true: {"A": "release", "L": "release"}}[r.Held]
	s.render(c, status, "receipt", map[string]any{"R": r, "Boxes": boxes, "Fields": fields, "Candidates": d.Candidates, "Order": order,
		"Earlier": earlier, "Audit": audit, "ClaimedBy": claimedBy, "Error": problem,
		"Rotate": (4 - r.Turn%4) % 4 * 90, // shown upright, as the reader turned it (the rotate button's clockwise degrees)
		"Simple": []map[string]string{{"A": "new_photo", "L": "new_photo"}, {"A": "escalate", "L": "escalate"}, hold}})
}

func voucherOf(r *storage.Record) matcher.Voucher {
	v := matcher.Voucher{Merchant: r.Merchant, OrderID: r.OrderID, CIP: r.Fields["cip"], Currency: r.Fields["currency"], DateOnly: r.DateOnly, Confidence: r.Confidence, Quality: r.Quality}
	if c, ok := matcher.ParseAmount(r.Fields["amount"]); ok && r.Fields["amount"] != "" {
		v.AmountCents, v.HasAmount = c, true
	}
	if t, err := time.Parse(time.RFC3339, r.Fields["paid_at"]); err == nil {
		v.PaidAt = t
	}
	return v
}

func (s *server) consoleImage(c *gin.Context) {
	if r, ok := s.consoleRecord(c); ok {
		s.streamImage(c, r)
	}
}

// consoleAction applies an agent's action and appends it to the audit log.
func (s *server) consoleAction(c *gin.Context) {
	r, ok := s.consoleRecord(c)
	if !ok {
		return
	}
	me := agentOf(c).User
	if holder, err := s.svc.claimReceipt(r.ID, me, time.Now()); err != nil {
		s.writeError(c, err)
		return
	} else if holder != me {
		s.showReceipt(c, r, http.StatusConflict, fmt.Sprintf("another agent (%s) is working on this voucher", holder))
		return
	}
	action, note := c.PostForm("action"), strings.TrimSpace(c.PostForm("note"))
	before := r.Decision
	after := before
	ctx := c.Request.Context()
	decide := func(decision, orderID, reason string) error {
		err := s.screener.keeper.Index.Update(r.ID, func(x *storage.Record) error {
			x.Decision, x.Reasons = decision, []string{reason}
			if orderID != "" {
				x.OrderID = orderID
			}
			return nil
		})
		if err != nil {
			return err
		}
		rec, _ := s.screener.keeper.Index.Get(r.ID)
		s.notify(r.Merchant, "receipt.decided", r.ID, resultOf(rec))
		return nil
	}
	var err error
	switch action {
	case "approve":
		oid := c.PostForm("order_id")
		var cur *matcher.Order
		if cur, err = s.book.Get(r.Merchant, oid); err != nil {
			break
		}
		if cur.Status == matcher.StatusCancelled || cur.Status == matcher.StatusRefunded {
			// A voucher approved for it would verify nothing: the
			// merchant no longer ships it.
			err = constancia.Errorf(constancia.ECONFLICT, "order %s is %s: it takes no voucher", oid, cur.Status)
			break
		}
		o, merr := s.book.Move(r.Merchant, oid, matcher.StatusVerified, "agent:"+me, "approved in the console", func(o *matcher.Order) { o.ReceiptID = r.ID })
		if merr != nil && constancia.ErrorCode(merr) != constancia.ECONFLICT {
			err = merr
			break
		}
		if o != nil {
			s.notify(r.Merchant, "order.status_changed", "", s.view(o, false))
		}
		after = matcher.Verified + " (" + oid + ")"
		err = decide(matcher.Verified, oid, "approved_by_agent")
	case "reject":
		if note == "" {
			err = constancia.Errorf(constancia.EINVALID, "say why the voucher is rejected")
			break
		}
		after = matcher.Rejected
		err = decide(matcher.Rejected, "", "rejected_by_agent")
	case "new_photo":
		after = "new photo requested"
		if r.OrderID != "" {
			if o, merr := s.book.Move(r.Merchant, r.OrderID, matcher.StatusOpen, "agent:"+me, "new photo requested", nil); merr == nil {
				s.notify(r.Merchant, "order.status_changed", "", s.view(o, false))
			}
		}
		err = decide(matcher.Rejected, "", "new_photo_requested")
	case "escalate":
		after = "escalated"
		err = s.screener.keeper.Index.Update(r.ID, func(x *storage.Record) error { x.Reasons = append(x.Reasons, "escalated"); return nil })
	case "note":
		if note == "" {
			err = constancia.Errorf(constancia.EINVALID, "the note is empty")
		}
	case "hold", "release":
		after = action
		err = s.screener.keeper.Hold(ctx, r.ID, action == "hold", "agent:"+me, note)
	default:
		err = constancia.Errorf(constancia.EINVALID, "unknown action %q", action)
	}
	if status := statusOf[constancia.ErrorCode(err)]; err != nil && status >= 400 && status < 500 {
		// The agent's mistake or a conflict: the page again, saying what.
		if cur, gerr := s.screener.keeper.Index.Get(r.ID); gerr == nil {
			r = cur
		}
		s.showReceipt(c, r, status, constancia.ErrorMessage(err))
		return
	}
	if err != nil {
		s.writeError(c, err)
		return
	}
	if err := s.svc.audit(r.ID, auditEntry{At: time.Now().UTC(), Who: me, Action: action, Before: before, After: after, Note: note}); err != nil {
		s.writeError(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/receipts/"+r.ID)
}

func (s *server) auditCSV(c *gin.Context) {
	entries, ids, err := s.svc.auditLog(c.Param("id"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"receipt_id", "at", "who", "action", "before", "after", "note"})
	for i, e := range entries {
		w.Write([]string{ids[i], e.At.Format(time.RFC3339), e.Who, e.Action, e.Before, e.After, e.Note})
	}
	w.Flush()
	c.Header("Content-Disposition", "attachment; filename=audit-"+c.Param("id")+".csv")
	c.Data(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

func (s *server) dashboard(c *gin.Context) {
	today := time.Now().In(ocr.Lima)
	start := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, ocr.Lima)
	counts := map[string]int{}
	reasons := map[string]int{}
	var oldest time.Time
	err := s.screener.keeper.Index.UploadedSince(start, func(r *storage.Record) error {
		counts[r.Decision]++
		for _, x := range r.Reasons {
			reasons[x]++
		}
		return nil
	})
	if err == nil {
		err = s.screener.keeper.Index.ByDecision(matcher.NeedsReview, func(r *storage.Record) error {
			oldest = r.UploadedAt
			return storage.ErrStop
		})
	}
	if err != nil {
		s.writeError(c, err)
		return
	}
	type bar struct {
		K string
		N int
		P int
	}
	bars := func(m map[string]int, keys []string) []bar {
		maxN := 1
		for _, n := range m {
			maxN = max(maxN, n)
		}
		var out []bar
		for _, k := range keys {
			out = append(out, bar{k, m[k], 100 * m[k] / maxN})
		}
		return out
	}
	var rk []string
	for k := range reasons {
		rk = append(rk, k)
	}
	sort.Slice(rk, func(i, j int) bool { return reasons[rk[i]] > reasons[rk[j]] })
	if len(rk) > 8 {
		rk = rk[:8]
	}
	old := "—"
	if !oldest.IsZero() {
		old = ageOf(oldest)
	}
	s.render(c, http.StatusOK, "dashboard", map[string]any{"Counts": bars(counts, []string{matcher.Verified, matcher.NeedsReview, matcher.Rejected}),
		"Reasons": bars(reasons, rk), "Oldest": old})
}

// hotBackup streams a consistent copy of the receipt index while the
// service keeps running (bbolt Tx.WriteTo); admins only.
func (s *server) hotBackup(c *gin.Context) {
	if agentOf(c).Role != roleAdmin {
		s.writeError(c, &constancia.Error{Code: "forbidden", Message: "only admins can download backups"})
		return
	}
	c.Header("Content-Type", "application/octet-stream")
	c.Header("Content-Disposition", "attachment; filename=index-"+time.Now().UTC().Format("20060102T150405Z")+".db")
	c.Status(http.StatusOK)
	if _, err := s.screener.keeper.Index.WriteTo(c.Writer); err != nil {
		s.log.Error("hot backup failed", "err", err)
	}
	s.log.Info("hot backup", "by", agentOf(c).User)
}
