// Package storagetest is the conformance suite every storage.ObjectStore
// backend must pass, and helpers that start a real S3 server (versitygw)
// on loopback for the S3 backend's run.
package storagetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/constancia/constancia"
	"github.com/constancia/constancia/storage"
)

func sum(b []byte) string { h := sha256.Sum256(b); return hex.EncodeToString(h[:]) }

// Run runs the conformance suite against the store that open returns; each
// subtest gets a fresh store.
func Run(t *testing.T, open func(t *testing.T) storage.ObjectStore) {
	ctx := context.Background()
	t.Run("PutGetStat", func(t *testing.T) {
		s := open(t)
		data := bytes.Repeat([]byte("voucher"), 5000)
		if err := s.Put(ctx, "2026/11/21/abc.jpg", bytes.NewReader(data), int64(len(data)), "image/jpeg", sum(data)); err != nil {
			t.Fatal(err)
		}
		rc, info, err := s.Get(ctx, "2026/11/21/abc.jpg")
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("Get returned %d bytes (%v), want %d", len(got), err, len(data))
		}
		if info.Size != int64(len(data)) || info.ContentType != "image/jpeg" || info.SHA256 != sum(data) {
			t.Fatalf("info = %+v", info)
		}
		st, err := s.Stat(ctx, "2026/11/21/abc.jpg")
		if err != nil || st.Size != int64(len(data)) || st.SHA256 != sum(data) {
			t.Fatalf("Stat = %+v, %v", st, err)
		}
	})
	t.Run("NotFound", func(t *testing.T) {
		s := open(t)
		if _, _, err := s.Get(ctx, "2026/01/01/missing.jpg"); constancia.ErrorCode(err) != constancia.ENOTFOUND {
			t.Fatalf("Get missing: %v", err)
		}
		if _, err := s.Stat(ctx, "2026/01/01/missing.jpg"); constancia.ErrorCode(err) != constancia.ENOTFOUND {
			t.Fatalf("Stat missing: %v", err)
		}
		if err := s.Delete(ctx, "2026/01/01/missing.jpg"); err != nil {
			t.Fatalf("Delete missing: %v", err)
		}
	})
	t.Run("ChecksumMismatchStoresNothing", func(t *testing.T) {
		s := open(t)
		data := []byte("edited bytes")
		err := s.Put(ctx, "2026/11/21/bad.jpg", bytes.NewReader(data), int64(len(data)), "image/jpeg", sum([]byte("other")))
		if constancia.ErrorCode(err) != constancia.EINVALID {
			t.Fatalf("Put with wrong checksum: %v", err)
		}
		if _, err := s.Stat(ctx, "2026/11/21/bad.jpg"); constancia.ErrorCode(err) != constancia.ENOTFOUND {
			t.Fatalf("object left behind after checksum mismatch: %v", err)
		}
	})
	t.Run("BadKeys", func(t *testing.T) {
		s := open(t)
		for _, k := range []string{"", "../etc/passwd", "/abs", "a/../b", "UPPER.jpg", "sp ace"} {
			if err := s.Put(ctx, k, bytes.NewReader([]byte("x")), 1, "image/jpeg", ""); constancia.ErrorCode(err) != constancia.EINVALID {
				t.Errorf("Put(%q) = %v, want invalid", k, err)
			}
		}
	})
	t.Run("DeleteAndList", func(t *testing.T) {
		s := open(t)
		keys := []string{"2026/05/01/a.jpg", "2026/05/01/b.jpg", "2026/05/02/c.png", "2026/06/01/d.jpg"}
		for _, k := range keys {
			if err := s.Put(ctx, k, bytes.NewReader([]byte(k)), int64(len(k)), "image/jpeg", sum([]byte(k))); err != nil {
				t.Fatal(err)
			}
		}
		list := func(prefix string) []string {
			var out []string
			if err := s.List(ctx, prefix, func(o storage.ObjectInfo) error { out = append(out, o.Key); return nil }); err != nil {
				t.Fatal(err)
			}
			return out
		}
		if got := list("2026/05/"); fmt.Sprint(got) != fmt.Sprint(keys[:3]) {
			t.Fatalf("List(2026/05/) = %v", got)
		}
		if err := s.Delete(ctx, keys[1]); err != nil {
			t.Fatal(err)
		}
		if got := list(""); fmt.Sprint(got) != fmt.Sprint([]string{keys[0], keys[2], keys[3]}) {
			t.Fatalf("after delete List = %v", got)
		}
		stop := errors.New("stop")
		n := 0
		if err := s.List(ctx, "", func(storage.ObjectInfo) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
			t.Fatalf("List did not stop on fn error: %v after %d", err, n)
		}
	})
	t.Run("Overwrite", func(t *testing.T) {
		s := open(t)
		for _, v := range []string{"first", "second version"} {
			if err := s.Put(ctx, "2026/07/07/o.jpg", bytes.NewReader([]byte(v)), int64(len(v)), "image/png", sum([]byte(v))); err != nil {
				t.Fatal(err)
			}
		}
		rc, _, err := s.Get(ctx, "2026/07/07/o.jpg")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if string(b) != "second version" {
			t.Fatalf("got %q", b)
		}
	})
	t.Run("ConcurrentPuts", func(t *testing.T) {
		s := open(t)
		var wg sync.WaitGroup
		for i := 0; i < 16; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d := bytes.Repeat([]byte{byte(i)}, 10000+i)
				if err := s.Put(ctx, fmt.Sprintf("2026/08/08/c%02d.jpg", i), bytes.NewReader(d), int64(len(d)), "image/jpeg", sum(d)); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		n := 0
		if err := s.List(ctx, "2026/08/08/", func(o storage.ObjectInfo) error { n++; return nil }); err != nil || n != 16 {
			t.Fatalf("listed %d of 16 (%v)", n, err)
		}
	})
}
