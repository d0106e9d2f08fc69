package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/constancia/constancia"
)

// FSStore keeps objects as files under Root. Writes are atomic: a
// temporary file is written and fsynced, renamed into place, and the
// directory fsynced. A sidecar "<key>.meta" holds the content type and hash.
type FSStore struct {
	Root string
}

// NewFSStore returns a store rooted at dir, creating it if needed.
func NewFSStore(dir string) (*FSStore, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, constancia.Wrap(err, constancia.EUNAVAILABLE, "cannot create the object directory")
	}
	return &FSStore{Root: dir}, nil
}

type fsMeta struct {
	ContentType string `json:"content_type"`
	SHA256      string `json:"sha256"`
}

func (s *FSStore) path(key string) string { return filepath.Join(s.Root, filepath.FromSlash(key)) }

// Put implements ObjectStore.
func (s *FSStore) Put(ctx context.Context, key string, r io.Reader, size int64, contentType, sum string) error {
	if err := validKey(key); err != nil {
		return err
	}
	p := s.path(key)
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return storeErr(err, "cannot create the object directory")
	}
	h := sha256.New()
	if err := writeAtomic(p, io.TeeReader(r, h), func() error {
		if got := hex.EncodeToString(h.Sum(nil)); sum != "" && got != sum {
			return constancia.Errorf(constancia.EINVALID, "checksum mismatch: got %s, want %s", got, sum)
		}
		return nil
	}); err != nil {
		return err
	}
	meta, _ := json.Marshal(fsMeta{ContentType: contentType, SHA256: hex.EncodeToString(h.Sum(nil))})
	if err := writeAtomic(p+".meta", strings.NewReader(string(meta)), nil); err != nil {
		os.Remove(p)
		return err
	}
	return syncDir(dir)
}

// writeAtomic writes r to path through a temporary file in the same
// directory; check, if given, runs after the data is written and can veto
// the rename.
func writeAtomic(path string, r io.Reader, check func() error) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return storeErr(err, "cannot write the object")
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		return fail(storeErr(err, "cannot write the object"))
	}
	if check != nil {
		if err := check(); err != nil {
			return fail(err)
		}
	}
	if err := f.Sync(); err != nil {
		return fail(storeErr(err, "cannot sync the object"))
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return storeErr(err, "cannot write the object")
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return storeErr(err, "cannot write the object")
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return storeErr(err, "cannot sync the object directory")
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return storeErr(err, "cannot sync the object directory")
	}
	return nil
}

// storeErr keeps typed errors and marks I/O failures (a full disk, a
// read-only mount) as EUNAVAILABLE with a public message.
func storeErr(err error, msg string) error {
	var ce *constancia.Error
	if errors.As(err, &ce) {
		return err
	}
	return constancia.Wrap(err, constancia.EUNAVAILABLE, "storage: "+msg)
}

func (s *FSStore) info(key string) (ObjectInfo, error) {
	st, err := os.Stat(s.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return ObjectInfo{}, notFound(key)
	} else if err != nil {
		return ObjectInfo{}, storeErr(err, "cannot read the object")
	}
	var m fsMeta
	if b, err := os.ReadFile(s.path(key) + ".meta"); err == nil {
		_ = json.Unmarshal(b, &m)
	}
	return ObjectInfo{Key: key, Size: st.Size(), ContentType: m.ContentType, SHA256: m.SHA256, Modified: st.ModTime()}, nil
}

// Get implements ObjectStore.
func (s *FSStore) Get(ctx context.Context, key string) (io.ReadCloser, ObjectInfo, error) {
	if err := validKey(key); err != nil {
		return nil, ObjectInfo{}, err
	}
	info, err := s.info(key)
	if err != nil {
		return nil, info, err
	}
	f, err := os.Open(s.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, info, notFound(key)
	} else if err != nil {
		return nil, info, storeErr(err, "cannot read the object")
	}
	return f, info, nil
}

// Stat implements ObjectStore.
func (s *FSStore) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	if err := validKey(key); err != nil {
		return ObjectInfo{}, err
	}
	return s.info(key)
}

// Delete implements ObjectStore.
func (s *FSStore) Delete(ctx context.Context, key string) error {
	if err := validKey(key); err != nil {
		return err
	}
	removed := false
	for _, p := range []string{s.path(key), s.path(key) + ".meta"} {
		err := os.Remove(p)
		if err == nil {
			removed = true
		} else if !errors.Is(err, fs.ErrNotExist) {
			return storeErr(err, "cannot delete the object")
		}
	}
	if !removed {
		return nil
	}
	return syncDir(filepath.Dir(s.path(key)))
}

// List implements ObjectStore.
func (s *FSStore) List(ctx context.Context, prefix string, fn func(ObjectInfo) error) error {
	var keys []string
	err := filepath.WalkDir(s.Root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || strings.HasSuffix(p, ".meta") || strings.HasPrefix(d.Name(), ".tmp-") {
			return nil
		}
		rel, err := filepath.Rel(s.Root, p)
		if err != nil {
			return err
		}
		if k := filepath.ToSlash(rel); strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
		return nil
	})
	if err != nil {
		return storeErr(err, "cannot list objects")
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return err
		}
		info, err := s.info(k)
		if constancia.ErrorCode(err) == constancia.ENOTFOUND {
			continue // deleted while listing
		} else if err != nil {
			return err
		}
		if err := fn(info); err != nil {
			return err
		}
	}
	return nil
}

// DeleteMany implements BatchDeleter: it removes every object, then fsyncs
// each directory touched once.
func (s *FSStore) DeleteMany(ctx context.Context, keys []string) error {
	dirs := map[string]bool{}
	for _, key := range keys {
		if err := validKey(key); err != nil {
			return err
		}
		for _, p := range []string{s.path(key), s.path(key) + ".meta"} {
			err := os.Remove(p)
			if err == nil {
				dirs[filepath.Dir(p)] = true
			} else if !errors.Is(err, fs.ErrNotExist) {
				return storeErr(err, "cannot delete the object")
			}
		}
	}
	for d := range dirs {
		if err := syncDir(d); err != nil {
			return err
		}
	}
	return nil
}
