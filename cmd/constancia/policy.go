package main

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/constancia/constancia"
	"github.com/constancia/constancia/matcher"
	"github.com/constancia/constancia/ocr"
)

// policyView is a merchant's matching policy as the API shows it: money as
// decimal strings, the CIP's life in hours.
type policyView struct {
	AmountTolerance      string  `json:"amount_tolerance"`       // accepted |paid − due|, "0.00" = exact
	AutoVerifyConfidence float64 `json:"auto_verify_confidence"` // below this on a key field: a person decides
	ReviewAbove          string  `json:"review_above"`           // amounts above this always get a person; "" = never
	CIPExpiryHours       int     `json:"cip_expiry_hours"`       // default life of a new order's CIP
	VerifyPoorImages     bool    `json:"verify_poor_images"`     // a poor photo read at full confidence may verify
}

func policyViewOf(p matcher.Policy) policyView {
	v := policyView{AmountTolerance: ocr.FormatCents(p.AmountToleranceCents), AutoVerifyConfidence: p.AutoVerifyConfidence,
		CIPExpiryHours: int(p.CIPExpiry / time.Hour), VerifyPoorImages: p.VerifyPoorImages}
	if p.ReviewAboveCents > 0 {
		v.ReviewAbove = ocr.FormatCents(p.ReviewAboveCents)
	}
	return v
}

// policyReq changes the fields it names and keeps the others.
type policyReq struct {
	AmountTolerance      *string  `json:"amount_tolerance"`
	AutoVerifyConfidence *float64 `json:"auto_verify_confidence"`
	ReviewAbove          *string  `json:"review_above"`
	CIPExpiryHours       *int     `json:"cip_expiry_hours"`
	VerifyPoorImages     *bool    `json:"verify_poor_images"`
}

func (s *server) getPolicy(c *gin.Context) {
	c.JSON(http.StatusOK, policyViewOf(s.book.Policy(c.GetString("merchant"))))
}

func (s *server) putPolicy(c *gin.Context) {
	var req policyReq
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		s.writeError(c, constancia.Errorf(constancia.EINVALID, "the body must be a JSON object with only amount_tolerance, auto_verify_confidence, review_above, cip_expiry_hours, verify_poor_images: %v", err))
		return
	}
	m := c.GetString("merchant")
	p := s.book.Policy(m)
	money := func(name string, v *string, into *int64, blankIsZero bool) error {
		if v == nil {
			return nil
		}
		if *v == "" && blankIsZero {
			*into = 0
			return nil
		}
		cents, ok := matcher.ParseDecimal(*v)
		if !ok {
			return constancia.Errorf(constancia.EINVALID, "%s must be a decimal string such as \"0.50\"", name)
		}
		*into = cents
		return nil
	}
	if err := money("amount_tolerance", req.AmountTolerance, &p.AmountToleranceCents, false); err != nil {
		s.writeError(c, err)
		return
	}
	if err := money("review_above", req.ReviewAbove, &p.ReviewAboveCents, true); err != nil {
		s.writeError(c, err)
		return
	}
	if req.AutoVerifyConfidence != nil {
		p.AutoVerifyConfidence = *req.AutoVerifyConfidence
		if p.AutoVerifyConfidence == 0 {
			// zero would mean "use the default" to the matcher: say so
			s.writeError(c, constancia.Errorf(constancia.EINVALID, "auto_verify_confidence must be above 0 (at most 1)"))
			return
		}
	}
	if req.CIPExpiryHours != nil {
		p.CIPExpiry = time.Duration(*req.CIPExpiryHours) * time.Hour
		if *req.CIPExpiryHours <= 0 {
			s.writeError(c, constancia.Errorf(constancia.EINVALID, "cip_expiry_hours must be between 1 and 720"))
			return
		}
	}
	if req.VerifyPoorImages != nil {
		p.VerifyPoorImages = *req.VerifyPoorImages
	}
	if err := s.book.SetPolicy(m, p); err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, policyViewOf(p))
}
