package storage_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/constancia/constancia"
	"github.com/constancia/constancia/storage"
	"github.com/constancia/constancia/storage/storagetest"
)

func MustOpenFS(t *testing.T) *storage.FSStore {
	t.Helper()
	s, err := storage.NewFSStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFSConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.ObjectStore { return MustOpenFS(t) })
}

func TestS3Conformance(t *testing.T) {
	srv := storagetest.StartS3Server(t)
	storagetest.Run(t, func(t *testing.T) storage.ObjectStore { return storagetest.MustOpenS3(t, srv) })
}

func TestS3OutageIsUnavailable(t *testing.T) {
	srv := storagetest.StartS3Server(t)
	s := storagetest.MustOpenS3(t, srv)
	srv.Stop()
	err := s.Put(context.Background(), "2026/01/01/x.jpg", bytes.NewReader([]byte("x")), 1, "image/jpeg", "")
	if constancia.ErrorCode(err) != constancia.EUNAVAILABLE {
		t.Fatalf("Put to a stopped server: %v, want unavailable", err)
	}
}

func TestFSReadOnlyDirIsUnavailable(t *testing.T) {
	if os.Geteuid() == 0 {
		// root ignores permissions; use a path under a regular file instead.
		dir := t.TempDir()
		f := filepath.Join(dir, "file")
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		s := &storage.FSStore{Root: f}
		err := s.Put(context.Background(), "2026/01/01/x.jpg", bytes.NewReader([]byte("x")), 1, "image/jpeg", "")
		if constancia.ErrorCode(err) != constancia.EUNAVAILABLE {
			t.Fatalf("Put under a file: %v, want unavailable", err)
		}
		return
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	s := &storage.FSStore{Root: dir}
	err := s.Put(context.Background(), "2026/01/01/x.jpg", bytes.NewReader([]byte("x")), 1, "image/jpeg", "")
	if constancia.ErrorCode(err) != constancia.EUNAVAILABLE {
		t.Fatalf("Put into read-only dir: %v, want unavailable", err)
	}
}
