package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOrdersSettlementsReport(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	shop := "Name,Total,Currency,Created at,CIP\n" +
		"#1001,149.90,PEN,2026-11-20 10:00,73488329\n" +
		"#1002,25.00,PEN,2026-11-20 11:00,55667788\n" +
		"#1003,not money,PEN,2026-11-20 12:00,11223344\n"
	if err := os.WriteFile(filepath.Join(dir, "shop.csv"), []byte(shop), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err := runMain(t, "orders", "import", "--data", data, "--map", "order_id=Name,amount=Total,created_at=Created at", filepath.Join(dir, "shop.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "2 created") || !strings.Contains(out, "line 4:") {
		t.Fatalf("orders import: %s", out)
	}
	// Importing again creates nothing new.
	if out, _, _ := runMain(t, "orders", "import", "--data", data, "--map", "order_id=Name,amount=Total,created_at=Created at", filepath.Join(dir, "shop.csv")); !strings.Contains(out, "0 created, 2 already present") {
		t.Fatalf("re-import: %s", out)
	}
	// PagoEfectivo's settlement in ISO-8859-1 with semicolons.
	settle := []byte("C\xf3digo CIP;Monto;Moneda;Fecha de pago;Fecha de liquidaci\xf3n;Comisi\xf3n\n73488329;149,90;PEN;20/11/2026 18:42;22/11/2026;3,50\n")
	if err := os.WriteFile(filepath.Join(dir, "liq.csv"), settle, 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err = runMain(t, "settlements", "import", "--data", data, filepath.Join(dir, "liq.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "1 orders settled") || !strings.Contains(out, "paid_without_voucher") {
		t.Fatalf("settlements import: %s", out)
	}
	out, _, err = runMain(t, "report", "--data", data, "--from", "2026-11-20", "--to", "2026-11-20")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) != 3 {
		t.Fatalf("report: %v\n%s", err, out)
	}
	h := map[string]int{}
	for i, c := range rows[0] {
		h[c] = i
	}
	r := rows[1]
	if r[h["order_id"]] != "#1001" || r[h["status"]] != "settled" || r[h["fee"]] != "3.50" || r[h["net"]] != "146.40" || r[h["discrepancy"]] != "paid_without_voucher" {
		t.Fatalf("report row: %v", r)
	}
	if rows[2][h["status"]] != "open" {
		t.Fatalf("second row: %v", rows[2])
	}
	for _, bad := range [][]string{{"report", "--data", data}, {"report", "--data", data, "--from", "2026-11-21", "--to", "2026-11-20"}, {"orders"}, {"settlements", "import"}} {
		if _, _, err := runMain(t, bad...); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}
