package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/constancia/constancia/storage"
)

// TestAsyncSurvivesCrash: uploads accepted with 202 but left undecided by a
// crash (their spool files still there) are read on the next start; a
// damaged spool file is left for an operator; one that failed on every
// start is set aside.
func TestAsyncSurvivesCrash(t *testing.T) {
	data := t.TempDir()
	base, stop := startServe(t, data)
	_, img, _ := appOrder(t, base, "C-1", 41)
	stop()

	// What a crash after the 202 leaves behind.
	sp, err := openSpool(filepath.Join(data, "pending"))
	if err != nil {
		t.Fatal(err)
	}
	waiting := spooled{ID: storage.NewID(), Merchant: "default", OrderID: "C-1", Data: img}
	tired := spooled{ID: storage.NewID(), Merchant: "default", Starts: maxStarts, Data: img}
	for _, j := range []spooled{waiting, tired} {
		if err := sp.put(j); err != nil {
			t.Fatal(err)
		}
	}
	damaged := filepath.Join(data, "pending", "zzz.job")
	if err := os.WriteFile(damaged, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}

	base, stop = startServe(t, data)
	defer stop()
	waitFor(t, func() bool {
		st, b, _ := call(t, "GET", base+"/api/v1/receipts/"+waiting.ID, nil, auth)
		return st == 200 && strings.Contains(string(b), `"decision":"verified"`)
	})
	st, b, _ := call(t, "GET", base+"/api/v1/orders/C-1", nil, auth)
	var order struct {
		Status    string `json:"status"`
		ReceiptID string `json:"receipt_id"`
	}
	json.Unmarshal(b, &order)
	if st != 200 || order.Status != "verified" || order.ReceiptID != waiting.ID {
		t.Fatalf("order after the resumed upload: %d %s", st, b)
	}
	waitFor(t, func() bool {
		_, err := os.Stat(filepath.Join(data, "pending", waiting.ID+".job"))
		return os.IsNotExist(err)
	})
	if _, err := os.Stat(damaged); err != nil {
		t.Errorf("damaged spool file: %v, want it left in place", err)
	}
	if _, err := os.Stat(filepath.Join(data, "pending", tired.ID+".job.failed")); err != nil {
		t.Errorf("upload that failed on every start: %v, want it set aside", err)
	}
	if st, _, _ := call(t, "GET", base+"/api/v1/receipts/"+tired.ID, nil, auth); st != 404 {
		t.Errorf("set-aside upload: GET %d, want 404", st)
	}
}
