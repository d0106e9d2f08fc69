package ocr

import "strings"

// kind is the type of value a label announces or a token holds.
type kind uint8

const (
	kAny   kind = iota // unknown label ending in ':' — absorbs any value in alignment
	kNum               // a long digit string (codes, ids)
	kMoney             // an amount with or without currency
	kDate              // a date, possibly with a time
	kTime              // a time of day alone
	kText              // a label whose value is words (company, channel…)
)

// role says what a label means for the voucher.
type role uint8

const (
	rNone      role = iota
	rCIP            // the PagoEfectivo payment code
	rOperation      // the operation / transaction number
	rAmount         // the paid amount (Importe, Monto)
	rTotal          // a total that equals the amount when no Importe is printed
	rDate           // the payment date (and maybe time)
	rTime           // the payment time alone ("Hora")
	rFee            // the commission (Comisión), kept to check Total = Importe + Comisión
	rPrinted        // the ticket's print stamp ("Impreso"): never before the payment
	rIssued         // an issue or creation date: a distractor whose meaning varies by template
	rOther          // a distractor: RUC, terminal, due date…
	rCharge         // another charge or part of the sum (IGV, cargo, descuento): the TOTAL is then no Importe + Comisión
)

// stamp reports whether a label announces a date the voucher prints
// besides the payment's own (print, issue, accounting or due date).
func (r role) stamp() bool { return r == rPrinted || r == rIssued || r == rOther }

type labelDef struct {
	phrase string // normalised: lower case ASCII, single spaces, no punctuation
	kind   kind
	role   role
	prio   int // among labels of one role, the higher wins
}

// labelDefs lists label phrases as they appear on Peruvian payment vouchers.
// Longer phrases are matched first, so "fecha de emision" beats "fecha".
var labelDefs = []labelDef{
	// CIP / payment code
	{"codigo cip", kNum, rCIP, 3}, {"cod cip", kNum, rCIP, 3}, {"nro cip", kNum, rCIP, 3},
	{"numero cip", kNum, rCIP, 3}, {"n cip", kNum, rCIP, 3}, {"cip", kNum, rCIP, 3},
	{"numero de cip", kNum, rCIP, 3}, {"nro de cip", kNum, rCIP, 3}, {"codigo de pago cip", kNum, rCIP, 3},
	{"codigo de pago", kNum, rCIP, 3}, {"cod de pago", kNum, rCIP, 3}, {"codigo pago", kNum, rCIP, 3},
	{"cod pago", kNum, rCIP, 3}, {"codigo de servicio", kNum, rCIP, 1}, {"codigo", kNum, rCIP, 1},
	{"cod de servicio", kNum, rCIP, 1}, {"nro de pago", kNum, rCIP, 2},
	{"payment code", kNum, rCIP, 3}, {"cip code", kNum, rCIP, 3}, {"code", kNum, rCIP, 1},
	{"agent code", kNum, rOther, 0}, {"agent id", kNum, rOther, 0}, {"branch code", kNum, rOther, 0},
	{"store code", kNum, rOther, 0}, {"terminal id", kNum, rOther, 0}, {"authorization code", kNum, rOther, 0},
	// operation
	{"numero de operacion", kNum, rOperation, 3}, {"nro de operacion", kNum, rOperation, 3},
	{"n de operacion", kNum, rOperation, 3}, {"no de operacion", kNum, rOperation, 3},
	{"nro operacion", kNum, rOperation, 3}, {"num operacion", kNum, rOperation, 3},
	{"n operacion", kNum, rOperation, 3}, {"no operacion", kNum, rOperation, 3},
	{"nro de op", kNum, rOperation, 3}, {"nro op", kNum, rOperation, 3}, {"n op", kNum, rOperation, 2},
	{"nro ope", kNum, rOperation, 3}, {"n ope", kNum, rOperation, 2}, {"num ope", kNum, rOperation, 3},
	{"nro oper", kNum, rOperation, 3}, {"n oper", kNum, rOperation, 2}, {"num oper", kNum, rOperation, 3},
	{"no oper", kNum, rOperation, 2}, {"nro de oper", kNum, rOperation, 3}, {"oper", kNum, rOperation, 1}, {"ope", kNum, rOperation, 1},
	{"num de operacion", kNum, rOperation, 3}, {"numero operacion", kNum, rOperation, 3},
	{"cod de operacion", kNum, rOperation, 3}, {"codigo de transaccion", kNum, rOperation, 2},
	{"cod operacion", kNum, rOperation, 3}, {"codigo de operacion", kNum, rOperation, 3},
	{"operacion nro", kNum, rOperation, 3}, {"operacion", kNum, rOperation, 2}, {"op", kNum, rOperation, 1},
	{"numero de transaccion", kNum, rOperation, 2}, {"nro de transaccion", kNum, rOperation, 2},
	{"id de transaccion", kNum, rOperation, 2}, {"transaccion", kNum, rOperation, 1},
	{"nro transaccion", kNum, rOperation, 2}, {"n transaccion", kNum, rOperation, 2}, {"no transaccion", kNum, rOperation, 2},
	{"nro de movimiento", kNum, rOperation, 2}, {"numero de movimiento", kNum, rOperation, 2},
	{"n de movimiento", kNum, rOperation, 2}, {"nro trx", kNum, rOperation, 2}, {"trx", kNum, rOperation, 1}, {"movimiento", kNum, rOperation, 1},
	{"nro de referencia", kNum, rOperation, 1}, {"referencia", kNum, rOperation, 1},
	{"nro de constancia", kNum, rOperation, 1}, {"n de constancia", kNum, rOperation, 1}, {"no de constancia", kNum, rOperation, 1},
	{"numero de constancia", kNum, rOperation, 1}, {"nro constancia", kNum, rOperation, 1},
	{"nro de comprobante", kNum, rOperation, 1}, {"n de comprobante", kNum, rOperation, 1}, {"numero de comprobante", kNum, rOperation, 1},
	{"operation number", kNum, rOperation, 3}, {"transaction id", kNum, rOperation, 2}, {"transaction number", kNum, rOperation, 2},
	{"transaction", kNum, rOperation, 1}, {"reference number", kNum, rOperation, 1}, {"reference", kNum, rOperation, 1},
	// amount
	{"importe pagado", kMoney, rAmount, 4}, {"monto pagado", kMoney, rAmount, 4},
	{"importe", kMoney, rAmount, 3}, {"monto", kMoney, rAmount, 3}, {"monto a pagar", kMoney, rAmount, 3},
	{"monto total", kMoney, rTotal, 2}, {"total pagado", kMoney, rTotal, 2}, {"importe total", kMoney, rTotal, 2},
	{"total a pagar", kMoney, rTotal, 2}, {"pagaste", kMoney, rTotal, 2}, {"total", kMoney, rTotal, 1},
	{"comision", kMoney, rFee, 0}, {"cargo", kMoney, rCharge, 0}, {"costo", kMoney, rCharge, 0},
	{"cargo por servicio", kMoney, rCharge, 0}, {"recargo", kMoney, rCharge, 0}, {"descuento", kMoney, rCharge, 0},
	{"redondeo", kMoney, rCharge, 0}, {"propina", kMoney, rCharge, 0}, {"mora", kMoney, rCharge, 0},
	{"efectivo", kMoney, rOther, 0}, {"vuelto", kMoney, rOther, 0}, {"recibido", kMoney, rOther, 0},
	{"cambio", kMoney, rOther, 0}, {"igv", kMoney, rCharge, 0}, {"subtotal", kMoney, rCharge, 0},
	{"comision agente", kMoney, rFee, 0},
	// A shop receipt prints several totals: the one paid is named as such
	// ("Grand Total", "Total (Inclusive of GST)", "Amount Due") and ranks
	// above a bare "Total"; the parts of the sum, the quantity and what was
	// tendered are no payment ("Total Qty", "Total GST", "Total (Excluding
	// GST)", "Rounding", "Cash", "Change").
	{"grand total", kMoney, rTotal, 2}, {"final total", kMoney, rTotal, 2}, {"rounded total", kMoney, rTotal, 2},
	{"total rounded", kMoney, rTotal, 2}, {"nett total", kMoney, rTotal, 2}, {"net total", kMoney, rTotal, 2},
	{"total amount", kMoney, rTotal, 2}, {"total due", kMoney, rTotal, 2}, {"amount due", kMoney, rTotal, 2},
	{"total payable", kMoney, rTotal, 2}, {"amount payable", kMoney, rTotal, 2}, {"total amount payable", kMoney, rTotal, 2},
	{"total inclusive gst", kMoney, rTotal, 2}, {"total inclusive of gst", kMoney, rTotal, 2}, {"total incl gst", kMoney, rTotal, 2},
	{"total sales inclusive gst", kMoney, rTotal, 2}, {"total sales inclusive of gst", kMoney, rTotal, 2},
	{"total sales incl gst", kMoney, rTotal, 2}, {"importe total a pagar", kMoney, rTotal, 2},
	{"total qty", kNum, rOther, 0}, {"total quantity", kNum, rOther, 0}, {"total items", kNum, rOther, 0},
	{"total item", kNum, rOther, 0}, {"total gst", kMoney, rCharge, 0}, {"total tax", kMoney, rCharge, 0},
	{"gst", kMoney, rCharge, 0}, {"tax", kMoney, rCharge, 0}, {"sub total", kMoney, rCharge, 0},
	{"total excluding gst", kMoney, rCharge, 0}, {"total exclusive of gst", kMoney, rCharge, 0}, {"total excl gst", kMoney, rCharge, 0},
	{"total sales excluding gst", kMoney, rCharge, 0}, {"total sales exclusive of gst", kMoney, rCharge, 0},
	{"total sales excl gst", kMoney, rCharge, 0}, {"included in total", kMoney, rCharge, 0},
	{"rounding", kMoney, rCharge, 0}, {"rounding adjustment", kMoney, rCharge, 0}, {"rounding adj", kMoney, rCharge, 0},
	{"round adj", kMoney, rCharge, 0}, {"total discount", kMoney, rCharge, 0}, {"total savings", kMoney, rCharge, 0},
	{"cash", kMoney, rOther, 0}, {"change", kMoney, rOther, 0}, {"tendered", kMoney, rOther, 0},
	{"op gravada", kMoney, rCharge, 0}, {"op exonerada", kMoney, rCharge, 0}, {"op inafecta", kMoney, rCharge, 0},
	{"amount paid", kMoney, rAmount, 4}, {"amount", kMoney, rAmount, 3}, {"total paid", kMoney, rTotal, 2},
	{"fee", kMoney, rFee, 0}, {"commission", kMoney, rFee, 0},
	// date and time
	{"fecha y hora de pago", kDate, rDate, 4}, {"fecha de pago", kDate, rDate, 4}, {"fecha pago", kDate, rDate, 4},
	{"fecha y hora", kDate, rDate, 3}, {"fecha hora", kDate, rDate, 3}, {"fecha de operacion", kDate, rDate, 3},
	{"fecha de transaccion", kDate, rDate, 3}, {"pagado el", kDate, rDate, 3},
	{"fecha de la operacion", kDate, rDate, 3}, {"fecha de la transaccion", kDate, rDate, 3},
	{"fecha y hora de operacion", kDate, rDate, 4}, {"fecha y hora de la operacion", kDate, rDate, 4},
	{"fecha y hora de la transaccion", kDate, rDate, 4}, {"fecha y hora de transaccion", kDate, rDate, 4},
	{"fecha", kDate, rDate, 2}, {"hora", kTime, rTime, 2}, {"fec hora", kDate, rDate, 3}, {"fec", kDate, rDate, 1},
	{"f pago", kDate, rDate, 4}, {"f de pago", kDate, rDate, 4}, {"fec pago", kDate, rDate, 4}, {"fec de pago", kDate, rDate, 4},
	{"f operacion", kDate, rDate, 3}, {"fec operacion", kDate, rDate, 3}, {"h pago", kTime, rTime, 3}, {"h de pago", kTime, rTime, 3},
	{"hora pago", kTime, rTime, 3}, {"h operacion", kTime, rTime, 3}, {"hora de pago", kTime, rTime, 3},
	{"hora de operacion", kTime, rTime, 3}, {"hora de la operacion", kTime, rTime, 3}, {"hora de transaccion", kTime, rTime, 3},
	{"impreso", kDate, rPrinted, 0}, {"fecha de impresion", kDate, rPrinted, 0}, {"impresion", kDate, rPrinted, 0},
	{"impreso el", kDate, rPrinted, 0}, {"fecha impresion", kDate, rPrinted, 0}, {"f impresion", kDate, rPrinted, 0},
	{"fecha de emision", kDate, rIssued, 0}, {"fecha emision", kDate, rIssued, 0}, {"emision", kDate, rIssued, 0}, {"emitido", kDate, rIssued, 0},
	{"fecha contable", kDate, rOther, 0}, {"fecha de vencimiento", kDate, rOther, 0}, {"vence", kDate, rOther, 0},
	{"vencimiento", kDate, rOther, 0}, {"fecha de expiracion", kDate, rOther, 0}, {"expira", kDate, rOther, 0},
	{"fecha de creacion", kDate, rIssued, 0}, {"generado", kDate, rIssued, 0},
	{"payment date", kDate, rDate, 4}, {"date and time", kDate, rDate, 3}, {"transaction date", kDate, rDate, 3},
	{"paid on", kDate, rDate, 3}, {"date", kDate, rDate, 2}, {"time", kTime, rTime, 2},
	{"printed", kDate, rPrinted, 0}, {"print date", kDate, rPrinted, 0}, {"issued", kDate, rIssued, 0},
	{"due date", kDate, rOther, 0}, {"expires", kDate, rOther, 0}, {"expiration date", kDate, rOther, 0},
	// numeric distractors
	{"ruc", kNum, rOther, 0}, {"terminal", kNum, rOther, 0}, {"cod agente", kNum, rOther, 0},
	{"codigo agente", kNum, rOther, 0}, {"cod ag", kNum, rOther, 0}, {"secuencia", kNum, rOther, 0},
	{"mtcn", kNum, rOther, 0}, {"caja", kNum, rOther, 0}, {"tel", kNum, rOther, 0}, {"telefono", kNum, rOther, 0},
	{"celular", kNum, rOther, 0}, {"dni", kNum, rOther, 0}, {"lote", kNum, rOther, 0}, {"tienda", kNum, rOther, 0},
	{"nro de cuenta", kNum, rOther, 0}, {"tarjeta", kNum, rOther, 0}, {"autorizacion", kNum, rOther, 0},
	{"cod autorizacion", kNum, rOther, 0}, {"pedido", kNum, rOther, 0}, {"orden", kNum, rOther, 0},
	{"nro de orden", kNum, rOther, 0}, {"id", kNum, rOther, 0}, {"ticket", kNum, rOther, 0},
	{"cod establecimiento", kNum, rOther, 0}, {"establecimiento", kNum, rOther, 0},
	// a shop receipt's own numbers
	{"gst reg no", kNum, rOther, 0}, {"gst id", kNum, rOther, 0}, {"gst id no", kNum, rOther, 0},
	{"gst reg", kNum, rOther, 0}, {"gst no", kNum, rOther, 0}, {"tax id", kNum, rOther, 0},
	{"invoice no", kNum, rOther, 0}, {"invoice", kNum, rOther, 0}, {"inv no", kNum, rOther, 0},
	{"bill no", kNum, rOther, 0}, {"receipt no", kNum, rOther, 0}, {"doc no", kNum, rOther, 0},
	{"document no", kNum, rOther, 0}, {"serie", kNum, rOther, 0}, {"factura", kNum, rOther, 0},
	{"boleta", kNum, rOther, 0}, {"nro de boleta", kNum, rOther, 0}, {"nro de factura", kNum, rOther, 0},
	// text-valued labels: not aligned
	{"empresa", kText, rNone, 0}, {"comercio", kText, rNone, 0}, {"concepto", kText, rNone, 0},
	{"canal", kText, rNone, 0}, {"agente", kText, rNone, 0}, {"cajero", kText, rNone, 0},
	{"servicio", kText, rNone, 0}, {"cliente", kText, rNone, 0}, {"beneficiario", kText, rNone, 0},
	{"titular", kText, rNone, 0}, {"cuenta de cargo", kText, rNone, 0}, {"cuenta", kText, rNone, 0},
	{"estado", kText, rNone, 0}, {"moneda", kText, rNone, 0}, {"medio de pago", kText, rNone, 0},
	{"banco", kText, rNone, 0}, {"direccion", kText, rNone, 0}, {"usuario", kText, rNone, 0},
	{"ordenante", kText, rNone, 0}, {"descripcion", kText, rNone, 0}, {"detalle", kText, rNone, 0},
}

// labelPhrases holds each of labelDefs' phrases split into words, and run
// together ("codigocip"), in labelDefs' order.
var labelPhrases = func() []struct {
	words  []string
	joined string
} {
	out := make([]struct {
		words  []string
		joined string
	}, len(labelDefs))
	for i, d := range labelDefs {
		out[i].words = strings.Fields(d.phrase)
		out[i].joined = strings.Join(out[i].words, "")
	}
	return out
}()
