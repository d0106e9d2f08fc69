package storagetest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/constancia/constancia/storage"
)

// VersityGWVersion is the S3 server the tests run; `make test` builds it.
const VersityGWVersion = "v1.8.0"

// versitygwPath finds the versitygw binary: $CONSTANCIA_VERSITYGW, then the
// cache `make test` installs into, then $GOPATH/bin and $PATH.
func versitygwPath() (string, error) {
	cands := []string{os.Getenv("CONSTANCIA_VERSITYGW")}
	if h, err := os.UserHomeDir(); err == nil {
		cands = append(cands, filepath.Join(h, ".cache", "constancia", "bin", "versitygw"), filepath.Join(h, "go", "bin", "versitygw"))
	}
	for _, c := range cands {
		if c == "" {
			continue
		}
		if st, err := os.Stat(c); err == nil && !st.IsDir() {
			return c, nil
		}
	}
	return exec.LookPath("versitygw")
}

// S3Server is a versitygw process serving a temporary directory on loopback.
type S3Server struct {
	Endpoint, AccessKey, SecretKey string
	cmd                            *exec.Cmd
}

// Stop kills the server; the tests use it to simulate an S3 outage.
func (s *S3Server) Stop() {
	if s.cmd.Process != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
	}
}

// StartS3Server starts versitygw for the test and stops it on cleanup. It
// fails the test, saying why, when the binary is missing.
func StartS3Server(tb testing.TB) *S3Server {
	tb.Helper()
	bin, err := versitygwPath()
	if err != nil {
		tb.Fatalf("versitygw not found (%v): run `make test`, which builds it with `go install github.com/versity/versitygw/cmd/versitygw@%s` into ~/.cache/constancia/bin, or set CONSTANCIA_VERSITYGW", err, VersityGWVersion)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := tb.TempDir()
	s := &S3Server{Endpoint: addr, AccessKey: "constancia-test", SecretKey: "constancia-test-secret"}
	s.cmd = exec.Command(bin, "--port", addr, "posix", dir)
	s.cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+s.AccessKey, "ROOT_SECRET_KEY="+s.SecretKey)
	logf, err := os.Create(filepath.Join(tb.TempDir(), "versitygw.log"))
	if err != nil {
		tb.Fatal(err)
	}
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		tb.Fatalf("start versitygw: %v", err)
	}
	tb.Cleanup(func() { s.Stop(); logf.Close() })
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logf.Name())
			tb.Fatalf("versitygw did not listen on %s: %s", addr, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return s
}

// Config returns an S3Config for bucket on this server.
func (s *S3Server) Config(bucket string) storage.S3Config {
	return storage.S3Config{Endpoint: s.Endpoint, Bucket: bucket, Region: "us-east-1", AccessKey: s.AccessKey, SecretKey: s.SecretKey, PathStyle: true}
}

// MustOpenS3 returns an S3Store on a fresh bucket of srv.
func MustOpenS3(tb testing.TB, srv *S3Server) *storage.S3Store {
	tb.Helper()
	bucket := fmt.Sprintf("constancia-%d", time.Now().UnixNano())
	s, err := storage.NewS3Store(context.Background(), srv.Config(bucket))
	if err != nil {
		tb.Fatalf("NewS3Store: %v", err)
	}
	return s
}
