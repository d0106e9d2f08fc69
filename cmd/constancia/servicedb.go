package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/constancia/constancia"
)

// serviceDB holds what the HTTP service itself keeps: merchants, hashed API
// keys, the upload-link secret and idempotent responses.
type serviceDB struct{ db *bolt.DB }

var (
	bMerchants = []byte("merchants")
	bKeys      = []byte("api_keys") // sha256(key) → merchant id
	bIdem      = []byte("idempotency")
	bSvcMeta   = []byte("meta")
)

type merchant struct {
	ID            string    `json:"id"`
	Name          string    `json:"name"`
	PESecret      string    `json:"pe_secret"` // PagoEfectivo notification secret
	WebhookURL    string    `json:"webhook_url,omitempty"`
	WebhookSecret string    `json:"webhook_secret,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
}

func openServiceDB(path string) (*serviceDB, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, constancia.Wrap(err, constancia.EUNAVAILABLE, "cannot open the service database")
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bMerchants, bKeys, bIdem, bSvcMeta} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	s := &serviceDB{db: db}
	if err == nil {
		err = s.initWebhooks()
	}
	if err == nil {
		err = s.initConsole()
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *serviceDB) Close() error { return s.db.Close() }

// serviceCommand is the prologue of the management commands (merchants,
// keys, agents): args[0] must be one of verbs; flags are the command's own,
// defined by define, plus --data; the service database is opened (the
// service must be stopped: bbolt allows one process). The caller closes it.
func (m *Main) serviceCommand(name string, args, verbs []string, usage string, define func(fs *flag.FlagSet)) (*flag.FlagSet, *serviceDB, error) {
	if len(args) == 0 || !slices.Contains(verbs, args[0]) {
		return nil, nil, usageError{"usage: " + usage}
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	data := fs.String("data", env("CONSTANCIA_DATA", "./data"), "data directory")
	define(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return nil, nil, err
	}
	svc, err := openServiceDBIn(*data)
	return fs, svc, err
}

// openServiceDBIn opens data/service.db, creating the directory if needed
// (for the management commands, with the service stopped).
func openServiceDBIn(data string) (*serviceDB, error) {
	if err := os.MkdirAll(data, 0o750); err != nil {
		return nil, err
	}
	return openServiceDB(filepath.Join(data, "service.db"))
}

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func hashKey(key string) []byte { h := sha256.Sum256([]byte(key)); return h[:] }

// secret returns the named random secret, creating it on first use.
func (s *serviceDB) secret(name string) ([]byte, error) {
	var out []byte
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bSvcMeta)
		if v := b.Get([]byte(name)); v != nil {
			out = append([]byte(nil), v...)
			return nil
		}
		out = []byte(randomToken(32))
		return b.Put([]byte(name), out)
	})
	return out, err
}

// merchants returns every merchant.
func (s *serviceDB) merchants() ([]merchant, error) {
	var out []merchant
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bMerchants).ForEach(func(k, v []byte) error {
			var m merchant
			if err := json.Unmarshal(v, &m); err != nil {
				return err
			}
			out = append(out, m)
			return nil
		})
	})
	return out, err
}

func (s *serviceDB) merchant(id string) (*merchant, error) {
	var m *merchant
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bMerchants).Get([]byte(id))
		if v == nil {
			return constancia.Errorf(constancia.ENOTFOUND, "merchant %s not found", id)
		}
		m = &merchant{}
		return json.Unmarshal(v, m)
	})
	return m, err
}

// addMerchant creates a merchant and returns it with a new API key (key
// given, or random); only the key's hash is stored.
func (s *serviceDB) addMerchant(id, name, key string) (*merchant, string, error) {
	if key == "" {
		key = "ck_" + randomToken(24)
	}
	if len(key) < 16 {
		return nil, "", constancia.Errorf(constancia.EINVALID, "an API key must be at least 16 characters")
	}
	m := &merchant{ID: id, Name: name, PESecret: randomToken(24), CreatedAt: time.Now().UTC()}
	err := s.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bMerchants).Get([]byte(id)) != nil {
			return constancia.Errorf(constancia.ECONFLICT, "merchant %s exists", id)
		}
		data, _ := json.Marshal(m)
		if err := tx.Bucket(bMerchants).Put([]byte(id), data); err != nil {
			return err
		}
		return tx.Bucket(bKeys).Put(hashKey(key), []byte(id))
	})
	return m, key, err
}

// addKey issues another API key for merchant id.
func (s *serviceDB) addKey(id string) (string, error) {
	if _, err := s.merchant(id); err != nil {
		return "", err
	}
	key := "ck_" + randomToken(24)
	return key, s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bKeys).Put(hashKey(key), []byte(id)) })
}

// revokeKey removes an API key.
func (s *serviceDB) revokeKey(key string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bKeys).Get(hashKey(key)) == nil {
			return constancia.Errorf(constancia.ENOTFOUND, "no such key")
		}
		return tx.Bucket(bKeys).Delete(hashKey(key))
	})
}

// authenticate returns the merchant id owning key, or ENOTFOUND.
func (s *serviceDB) authenticate(key string) (string, error) {
	var id string
	_ = s.db.View(func(tx *bolt.Tx) error { id = string(tx.Bucket(bKeys).Get(hashKey(key))); return nil })
	if id == "" {
		return "", constancia.Errorf(constancia.ENOTFOUND, "unknown API key")
	}
	return id, nil
}

type idemEntry struct {
	Status int             `json:"status"`
	Body   json.RawMessage `json:"body"`
	At     time.Time       `json:"at"`
	// Request: the hash of the request the answer was for (method, path,
	// body); empty in entries stored before it was kept.
	Request string `json:"request,omitempty"`
}

func (s *serviceDB) idempotent(merchant, key string) (*idemEntry, bool) {
	var e *idemEntry
	_ = s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bIdem).Get([]byte(merchant + "\x00" + key)); v != nil {
			e = &idemEntry{}
			return json.Unmarshal(v, e)
		}
		return nil
	})
	return e, e != nil
}

func (s *serviceDB) remember(merchant, key, request string, status int, body []byte) error {
	data, _ := json.Marshal(idemEntry{Status: status, Body: body, At: time.Now().UTC(), Request: request})
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bIdem).Put([]byte(merchant+"\x00"+key), data) })
}
