package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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

// TestManagementCommands runs merchants, keys and agents as an operator
// would, with the service stopped.
func TestManagementCommands(t *testing.T) {
	data := t.TempDir()
	out, _, err := runMain(t, "merchants", "add", "--data", data, "--id", "shop2", "--name", "Tienda Dos", "--webhook-url", "https://example.test/hook")
	if err != nil || !strings.Contains(out, "API key (shown once): ck_") || !strings.Contains(out, "webhook signing secret: whsec_") {
		t.Fatalf("merchants add: %v %s", err, out)
	}
	if out, _, _ := runMain(t, "merchants", "list", "--data", data); !strings.Contains(out, "shop2\tTienda Dos") {
		t.Fatalf("merchants list: %s", out)
	}
	out, _, err = runMain(t, "keys", "add", "--data", data, "--merchant", "shop2")
	key := strings.TrimSpace(out[strings.LastIndex(out, " ")+1:])
	if err != nil || !strings.HasPrefix(key, "ck_") {
		t.Fatalf("keys add: %v %s", err, out)
	}
	if _, _, err := runMain(t, "keys", "revoke", "--data", data, key); err != nil {
		t.Fatalf("keys revoke: %v", err)
	}
	if _, _, err := runMain(t, "keys", "revoke", "--data", data, key); err == nil {
		t.Fatal("revoking a revoked key succeeded")
	}
	t.Setenv("CONSTANCIA_AGENT_PASSWORD", "correct-horse-eve")
	if _, _, err := runMain(t, "agents", "add", "--data", data, "--user", "eve", "--role", "admin"); err != nil {
		t.Fatalf("agents add: %v", err)
	}
	if _, _, err := runMain(t, "agents", "disable", "--data", data, "--user", "eve"); err != nil {
		t.Fatalf("agents disable: %v", err)
	}
	svc, err := openServiceDBIn(data)
	if err != nil {
		t.Fatal(err)
	}
	_, _, lerr := svc.login("eve", "correct-horse-eve", time.Now())
	svc.Close()
	if lerr == nil {
		t.Fatal("a disabled agent signed in")
	}
	for _, bad := range [][]string{{"merchants"}, {"merchants", "drop"}, {"keys", "rotate"}, {"agents", "promote"}, {"merchants", "add", "--data", data, "--id", "bad id!", "--name", "x"}} {
		if _, _, err := runMain(t, bad...); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}
