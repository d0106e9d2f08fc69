package storage

import (
	"context"
	"io"
	"time"

	"github.com/constancia/constancia"
)

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	Key         string
	Size        int64
	ContentType string
	SHA256      string // hex, as given to Put
	Modified    time.Time
}

// ObjectStore is where voucher images live. Every backend passes the
// conformance suite in storage/storagetest.
type ObjectStore interface {
	// Put stores r under key. sha256 (hex) is checked against what was read:
	// a mismatch fails with EINVALID and leaves nothing stored. Put returns
	// only once the object is durable.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType, sha256 string) error
	// Get opens the object; ENOTFOUND if there is none.
	Get(ctx context.Context, key string) (io.ReadCloser, ObjectInfo, error)
	// Stat describes the object; ENOTFOUND if there is none.
	Stat(ctx context.Context, key string) (ObjectInfo, error)
	// Delete removes the object; deleting a missing object is not an error.
	Delete(ctx context.Context, key string) error
	// List calls fn for every object whose key starts with prefix, in key
	// order, until fn returns an error, which List returns.
	List(ctx context.Context, prefix string, fn func(ObjectInfo) error) error
}

func notFound(key string) error {
	return constancia.Errorf(constancia.ENOTFOUND, "object %s not found", key)
}

// validKey accepts the keys this package makes: "YYYY/MM/DD/<id>.<ext>",
// lower-case letters, digits, '/', '.', '-' and '_', no "..".
func validKey(key string) error {
	if key == "" || len(key) > 200 || key[0] == '/' {
		return constancia.Errorf(constancia.EINVALID, "invalid object key %q", key)
	}
	prev := byte(0)
	for i := 0; i < len(key); i++ {
		c := key[i]
		ok := (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '/' || c == '-' || c == '_' || (c == '.' && prev != '.' && prev != '/' && prev != 0)
		if !ok {
			return constancia.Errorf(constancia.EINVALID, "invalid object key %q", key)
		}
		prev = c
	}
	return nil
}

// BatchDeleter is implemented by stores that delete many objects at less
// cost than one Delete each (one directory fsync, one bulk request). Like
// Delete, missing objects are not an error.
type BatchDeleter interface {
	DeleteMany(ctx context.Context, keys []string) error
}

// deleteAll deletes keys through DeleteMany when the store has it.
func deleteAll(ctx context.Context, s ObjectStore, keys []string) error {
	if bd, ok := s.(BatchDeleter); ok {
		return bd.DeleteMany(ctx, keys)
	}
	for _, k := range keys {
		if err := s.Delete(ctx, k); err != nil {
			return err
		}
	}
	return nil
}
