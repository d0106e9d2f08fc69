package main

import (
	"bufio"
	"context"
	"crypto/subtle"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/crypto/bcrypt"

	"github.com/constancia/constancia"
)

// Support agents, their sessions, claims on vouchers and the audit log
// live in service.db beside merchants and keys.

var (
	bAgents   = []byte("agents")
	bSessions = []byte("sessions") // sha256(token) → session
	bClaims   = []byte("claims")   // receipt id → claim
	bAudit    = []byte("audit")    // receipt id \x00 8-byte BE unix nanos → auditEntry
)

const (
	maxFailures   = 5
	lockFor       = 15 * time.Minute
	sessionFor    = 12 * time.Hour
	claimFor      = 15 * time.Minute
	roleAgent     = "agent"
	roleAdmin     = "admin"
	minPassword   = 10
	bcryptCost    = 11
	sessionCookie = "constancia_session"
)

type agent struct {
	User        string    `json:"user"`
	Hash        []byte    `json:"hash"`
	Role        string    `json:"role"`
	Disabled    bool      `json:"disabled"`
	Failures    int       `json:"failures"`
	LockedUntil time.Time `json:"locked_until"`
}

type session struct {
	User    string    `json:"user"`
	Role    string    `json:"role"`
	CSRF    string    `json:"csrf"`
	Expires time.Time `json:"expires"`
}

type claim struct {
	User  string    `json:"user"`
	Until time.Time `json:"until"`
}

type auditEntry struct {
	At     time.Time `json:"at"`
	Who    string    `json:"who"`
	Action string    `json:"action"`
	Before string    `json:"before"`
	After  string    `json:"after"`
	Note   string    `json:"note,omitempty"`
}

func (s *serviceDB) initConsole() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bAgents, bSessions, bClaims, bAudit} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *serviceDB) getAgent(tx *bolt.Tx, user string) (*agent, error) {
	v := tx.Bucket(bAgents).Get([]byte(user))
	if v == nil {
		return nil, constancia.Errorf(constancia.ENOTFOUND, "no agent %s", user)
	}
	var a agent
	return &a, json.Unmarshal(v, &a)
}

func putJSON(tx *bolt.Tx, bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return tx.Bucket(bucket).Put(key, data)
}

// setAgent creates or updates an agent; a password resets the lock-out.
func (s *serviceDB) setAgent(user, role, password string, create bool) error {
	if !validID(user) {
		return constancia.Errorf(constancia.EINVALID, "user names are letters, digits, - and _")
	}
	if role != "" && role != roleAgent && role != roleAdmin {
		return constancia.Errorf(constancia.EINVALID, "role must be agent or admin")
	}
	var hash []byte
	if password != "" {
		if len(password) < minPassword {
			return constancia.Errorf(constancia.EINVALID, "passwords have at least %d characters", minPassword)
		}
		var err error
		if hash, err = bcrypt.GenerateFromPassword([]byte(password), bcryptCost); err != nil {
			return err
		}
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		a, err := s.getAgent(tx, user)
		switch {
		case create && err == nil:
			return constancia.Errorf(constancia.ECONFLICT, "agent %s exists", user)
		case create:
			if hash == nil {
				return constancia.Errorf(constancia.EINVALID, "a new agent needs a password")
			}
			a = &agent{User: user, Role: roleAgent}
		case err != nil:
			return err
		}
		if role != "" {
			a.Role = role
		}
		if hash != nil {
			a.Hash, a.Failures, a.LockedUntil, a.Disabled = hash, 0, time.Time{}, false
		}
		return putJSON(tx, bAgents, []byte(user), a)
	})
}

func (s *serviceDB) disableAgent(user string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		a, err := s.getAgent(tx, user)
		if err != nil {
			return err
		}
		a.Disabled = true
		// End their sessions.
		c := tx.Bucket(bSessions).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			var se session
			if json.Unmarshal(v, &se) == nil && se.User == user {
				c.Delete()
			}
		}
		return putJSON(tx, bAgents, []byte(user), a)
	})
}

var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte(randomToken(8)), bcryptCost)
	return h
})

var errBadLogin = &constancia.Error{Code: "unauthorized", Message: "wrong user or password"}

// login checks a password and opens a session, returning its token. After
// maxFailures wrong passwords the agent is locked for lockFor.
func (s *serviceDB) login(user, password string, now time.Time) (string, *session, error) {
	var tok string
	var se *session
	var outErr error
	err := s.db.Update(func(tx *bolt.Tx) error {
		a, err := s.getAgent(tx, user)
		if err != nil {
			bcrypt.CompareHashAndPassword(dummyHash(), []byte(password)) // unknown users cost the same time
			outErr = errBadLogin
			return nil
		}
		if a.Disabled {
			outErr = errBadLogin
			return nil
		}
		if now.Before(a.LockedUntil) {
			outErr = &constancia.Error{Code: "rate_limited", Message: "too many failed sign-ins; try again later"}
			return nil
		}
		if bcrypt.CompareHashAndPassword(a.Hash, []byte(password)) != nil {
			a.Failures++
			if a.Failures >= maxFailures {
				a.LockedUntil, a.Failures = now.Add(lockFor), 0
			}
			outErr = errBadLogin
			return putJSON(tx, bAgents, []byte(user), a)
		}
		a.Failures = 0
		tok = randomToken(32)
		se = &session{User: a.User, Role: a.Role, CSRF: randomToken(16), Expires: now.Add(sessionFor)}
		if err := putJSON(tx, bSessions, hashKey(tok), se); err != nil {
			return err
		}
		return putJSON(tx, bAgents, []byte(user), a)
	})
	if err != nil {
		return "", nil, err
	}
	return tok, se, outErr
}

func (s *serviceDB) session(tok string, now time.Time) (*session, bool) {
	var se *session
	_ = s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bSessions).Get(hashKey(tok)); v != nil {
			se = &session{}
			return json.Unmarshal(v, se)
		}
		return nil
	})
	if se == nil || now.After(se.Expires) {
		return nil, false
	}
	return se, true
}

func (s *serviceDB) logout(tok string) error {
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bSessions).Delete(hashKey(tok)) })
}

func csrfOK(se *session, got string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(se.CSRF), []byte(got)) == 1
}

// claimReceipt gives user the voucher for claimFor unless another agent
// holds a live claim; it returns the holder.
func (s *serviceDB) claimReceipt(id, user string, now time.Time) (string, error) {
	holder := user
	err := s.db.Update(func(tx *bolt.Tx) error {
		var c claim
		if v := tx.Bucket(bClaims).Get([]byte(id)); v != nil && json.Unmarshal(v, &c) == nil && c.User != user && now.Before(c.Until) {
			holder = c.User
			return nil
		}
		return putJSON(tx, bClaims, []byte(id), claim{User: user, Until: now.Add(claimFor)})
	})
	return holder, err
}

func (s *serviceDB) claimOf(id string, now time.Time) string {
	var c claim
	_ = s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bClaims).Get([]byte(id)); v != nil {
			return json.Unmarshal(v, &c)
		}
		return nil
	})
	if now.After(c.Until) {
		return ""
	}
	return c.User
}

func (s *serviceDB) audit(id string, e auditEntry) error {
	k := make([]byte, len(id)+9)
	copy(k, id)
	binary.BigEndian.PutUint64(k[len(id)+1:], uint64(e.At.UnixNano()))
	return s.db.Update(func(tx *bolt.Tx) error { return putJSON(tx, bAudit, k, e) })
}

// auditLog returns the audit entries of a receipt ("" for all), oldest first.
func (s *serviceDB) auditLog(id string) ([]auditEntry, []string, error) {
	var out []auditEntry
	var ids []string
	prefix := []byte(id)
	if id != "" {
		prefix = append(prefix, 0)
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bAudit).Cursor()
		for k, v := c.Seek(prefix); k != nil && strings.HasPrefix(string(k), string(prefix)); k, v = c.Next() {
			var e auditEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			out = append(out, e)
			ids = append(ids, string(k[:len(k)-9]))
		}
		return nil
	})
	return out, ids, err
}

// runAgents: constancia agents add|disable|reset
func (m *Main) runAgents(ctx context.Context, args []string) error {
	var user, role *string
	_, svc, err := m.serviceCommand("agents", args, []string{"add", "disable", "reset"},
		"constancia agents add --user U [--role agent|admin] | agents disable --user U | agents reset --user U   (password from CONSTANCIA_AGENT_PASSWORD or standard input; service stopped)",
		func(fs *flag.FlagSet) {
			user = fs.String("user", "", "agent user name")
			role = fs.String("role", "", "agent or admin")
		})
	if err != nil {
		return err
	}
	defer svc.Close()
	password := func() string {
		if p := os.Getenv("CONSTANCIA_AGENT_PASSWORD"); p != "" {
			return p
		}
		fmt.Fprint(m.Stderr, "password: ")
		l, _ := bufio.NewReader(m.stdin()).ReadString('\n')
		return strings.TrimRight(l, "\r\n")
	}
	switch args[0] {
	case "add":
		if *role == "" {
			*role = roleAgent
		}
		err = svc.setAgent(*user, *role, password(), true)
	case "reset":
		err = svc.setAgent(*user, *role, password(), false)
	case "disable":
		err = svc.disableAgent(*user)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "agent %s: %s done\n", *user, args[0])
	return nil
}
