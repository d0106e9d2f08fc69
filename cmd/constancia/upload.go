package main

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/constancia/constancia"
	"github.com/constancia/constancia/assets"
	"github.com/constancia/constancia/matcher"
	"github.com/constancia/constancia/ocr"
)

var uploadTmpl = template.Must(template.ParseFS(assets.Web, "web/upload.html"))

type uploadPage struct {
	Order               *matcher.Order
	Merchant, Amount    string
	TimeLeft            string
	CanUpload           bool
	MaxMB               int64
	Title, Message, Tip string
	Class               string
}

func (s *server) renderUpload(c *gin.Context, status int, p uploadPage) {
	p.MaxMB = s.cfg.MaxUpload >> 20
	c.Status(status)
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src 'self' blob:; form-action 'self'; connect-src 'self'")
	if err := uploadTmpl.Execute(c.Writer, p); err != nil {
		s.log.Error("render upload page", "err", err)
	}
}

// linkOrder resolves a link token to its open order, rendering the page
// that explains why when it cannot.
func (s *server) linkOrder(c *gin.Context) (*matcher.Order, bool) {
	mID, oID, err := s.parseLink(c.Param("token"), time.Now())
	if errors.Is(err, errExpired) {
		s.renderUpload(c, http.StatusGone, uploadPage{Class: "bad", Title: "Este enlace venció", Message: "El código de pago ya expiró hace días. Comunícate con la tienda."})
		return nil, false
	}
	if err != nil {
		s.renderUpload(c, http.StatusNotFound, uploadPage{Class: "bad", Title: "Enlace no válido", Message: "Revisa que copiaste el enlace completo que te envió la tienda."})
		return nil, false
	}
	o, err := s.book.Get(mID, oID)
	if err != nil {
		s.renderUpload(c, http.StatusNotFound, uploadPage{Class: "bad", Title: "Pedido no encontrado", Message: "La tienda ya no tiene este pedido. Comunícate con ella."})
		return nil, false
	}
	return o, true
}

func (s *server) pageFor(o *matcher.Order) uploadPage {
	name := o.Merchant
	if m, err := s.svc.merchant(o.Merchant); err == nil && m.Name != "" {
		name = m.Name
	}
	sym := "S/ "
	if o.Currency == "USD" {
		sym = "US$ "
	}
	left := time.Until(o.ExpiresAt).Round(time.Minute)
	tl := o.ExpiresAt.In(ocr.Lima).Format("02/01/2006 15:04")
	if left > 0 {
		tl = fmt.Sprintf("%s (en %dh %02dm)", tl, int(left.Hours()), int(left.Minutes())%60)
	}
	p := uploadPage{Order: o, Merchant: name, Amount: sym + groupThousands(ocr.FormatCents(o.AmountCents)), TimeLeft: tl, CanUpload: o.TakesVoucher()}
	switch o.Status {
	case matcher.StatusOpen, matcher.StatusReceiptSubmitted:
	case matcher.StatusExpired:
		p.Class, p.Title, p.Message = "review", "El código CIP venció", "Si pagaste antes de que venciera, envía tu constancia."
	case matcher.StatusCancelled, matcher.StatusRefunded:
		p.Class, p.Title, p.Message = "bad", "Pedido cancelado", "Este pedido fue cancelado y ya no espera una constancia."
	default:
		p.Class, p.Title, p.Message = "ok", "Pedido ya registrado", "Este pedido ya no espera una constancia."
	}
	return p
}

func (s *server) uploadPage(c *gin.Context) {
	o, ok := s.linkOrder(c)
	if !ok {
		return
	}
	s.renderUpload(c, http.StatusOK, s.pageFor(o))
}

// groupThousands writes "1249.90" as "1,249.90", as vouchers and shops in
// Peru print amounts.
func groupThousands(amount string) string {
	whole, frac, _ := strings.Cut(amount, ".")
	for i := len(whole) - 3; i > 0; i -= 3 {
		whole = whole[:i] + "," + whole[i:]
	}
	if frac == "" {
		return whole
	}
	return whole + "." + frac
}

// retakeTips tells a buyer how to fix each quality problem.
var retakeTips = map[string]string{
	ocr.QualityBlurry:     "La foto salió borrosa. Apoya el teléfono, enfoca tocando el voucher y vuelve a tomarla.",
	ocr.QualityTooDark:    "La foto salió muy oscura. Tómala junto a una ventana o con más luz, sin flash directo.",
	ocr.QualityTooSmall:   "El voucher se ve muy pequeño. Acércate hasta que ocupe casi toda la pantalla.",
	ocr.QualityNoDocument: "No encontramos el voucher en la imagen. Fotografía el voucher completo sobre una superficie lisa.",
	ocr.QualityUnreadable: "No pudimos leer el voucher. Toma una foto nítida y completa, o envía la captura de pantalla de tu banco.",
}

func (s *server) uploadPost(c *gin.Context) {
	if !s.limiter.allow("ip:"+c.ClientIP(), time.Now()) || !s.limiter.allow("link:"+c.Param("token"), time.Now()) {
		c.Header("Retry-After", "60")
		s.renderUpload(c, http.StatusTooManyRequests, uploadPage{Class: "bad", Title: "Demasiados intentos", Message: "Espera un minuto y vuelve a intentarlo."})
		return
	}
	o, ok := s.linkOrder(c)
	if !ok {
		return
	}
	p := s.pageFor(o)
	if !o.TakesVoucher() {
		s.renderUpload(c, http.StatusOK, p)
		return
	}
	data, err := s.readUpload(c)
	if err != nil {
		p.Class, p.Title, p.Message = "bad", "No pudimos recibir la imagen", uploadErrorText(err, s.cfg.MaxUpload)
		s.renderUpload(c, statusOf[constancia.ErrorCode(err)], p)
		return
	}
	if !s.admit() {
		c.Header("Retry-After", "5")
		p.Class, p.Title, p.Message = "review", "Estamos ocupados", "Hay muchas constancias en revisión. Vuelve a enviarla en unos segundos."
		s.renderUpload(c, http.StatusTooManyRequests, p)
		return
	}
	res, err := s.verifyVoucher(c.Request.Context(), "", o.Merchant, o.OrderID, data)
	s.release()
	if err != nil {
		p.Class, p.Title, p.Message = "bad", "No pudimos leer la imagen", uploadErrorText(err, s.cfg.MaxUpload)
		s.renderUpload(c, statusOf[constancia.ErrorCode(err)], p)
		return
	}
	switch res.Decision {
	case matcher.Verified:
		p.Class, p.Title, p.Message = "ok", "¡Pago verificado!", "Recibimos tu constancia y coincide con tu pedido. La tienda ya fue avisada."
		p.CanUpload = false
	case matcher.NeedsReview:
		p.Class, p.Title, p.Message = "review", "Constancia en revisión", "Recibimos tu constancia. Una persona la revisará y la tienda te avisará."
		p.CanUpload = false
	default:
		p.Class, p.Title, p.Message = "bad", "Constancia rechazada", rejectText(res, o)
	}
	for _, q := range res.Quality {
		if tip, ok := retakeTips[q]; ok {
			p.Tip, p.CanUpload = tip, true
			if res.Decision != matcher.Verified {
				p.Title, p.Message = "Necesitamos otra foto", "No pudimos leer bien tu constancia."
			}
			break
		}
	}
	s.renderUpload(c, http.StatusOK, p)
}

// rejectText tells a buyer why the voucher does not pay this order, in
// terms they can check against their voucher and act on (send the right
// one). An edit or a re-used voucher is named as such, without saying
// what gave it away.
func rejectText(res *verifyResult, o *matcher.Order) string {
	money := func(cur, amount string) string {
		if cur == "USD" {
			return "US$ " + groupThousands(amount)
		}
		return "S/ " + groupThousands(amount)
	}
	for _, r := range res.Reasons {
		switch r {
		case matcher.ReasonDuplicate:
			return "Esta constancia ya fue enviada para otro pedido. Envía la constancia del pago de este pedido."
		case matcher.ReasonEdited:
			return "La constancia parece modificada. Envía la constancia original, sin editar."
		case matcher.ReasonCIPMismatch:
			return fmt.Sprintf("El código CIP de la constancia (%s) no es el de este pedido (%s). Revisa que sea la constancia de este pago.", res.Fields["cip"], o.CIP)
		case matcher.ReasonAmountUnderpaid:
			return fmt.Sprintf("El monto pagado (%s) es menor que el del pedido (%s).", money(res.Fields["currency"], res.Fields["amount"]), money(o.Currency, ocr.FormatCents(o.AmountCents)))
		case matcher.ReasonCurrency:
			return fmt.Sprintf("La constancia está en otra moneda que el pedido (%s).", money(o.Currency, ocr.FormatCents(o.AmountCents)))
		case matcher.ReasonPaidAfterExpiry:
			return "El pago se hizo después de que venció el código CIP de este pedido."
		case matcher.ReasonPaidBeforeOrder:
			return "La fecha de pago de la constancia es anterior a este pedido. Revisa que sea la constancia de este pago."
		case matcher.ReasonAlreadyPaid:
			return "Este pedido ya fue pagado con otra constancia."
		case matcher.ReasonOrderClosed:
			return "Este pedido fue cancelado."
		}
	}
	return "La constancia no coincide con este pedido."
}

func uploadErrorText(err error, max int64) string {
	switch constancia.ErrorCode(err) {
	case constancia.ETOOLARGE:
		return fmt.Sprintf("La imagen es demasiado grande (máximo %d MB). Envía una captura o una foto más liviana.", max>>20)
	case constancia.EUNSUPPORTED:
		return "Ese archivo no es una foto. Envía una imagen JPG o PNG de tu voucher."
	case constancia.ECORRUPT:
		return "La imagen llegó dañada. Vuelve a tomarla y envíala otra vez."
	case constancia.EINVALID:
		return "Elige una foto de tu voucher antes de enviar."
	}
	return "Ocurrió un problema. Inténtalo de nuevo en un momento."
}
