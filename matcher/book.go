package matcher

import (
	"encoding/json"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/constancia/constancia"
)

var (
	bOrders = []byte("orders")
	bEvents = []byte("pe_events") // PagoEfectivo notifications by event id
	bPolicy = []byte("policies")  // merchant → Policy
)

// Book is the order book: orders in bbolt, indexed in memory by CIP and by
// currency and amount for matching. Safe for concurrent use.
type Book struct {
	db  *bolt.DB
	Now func() time.Time

	// events: one PagoEfectivo notification at a time, so two deliveries
	// of one event at once apply it once (check, apply and mark as one).
	events sync.Mutex

	mu       sync.RWMutex
	byCIP    map[string][]string // cip → order keys
	byAmount map[amountKey][]string
	orders   map[string]*Order // key → order (a copy of what is stored)
}

type amountKey struct {
	merchant, currency string
	cents              int64
}

func orderKey(merchant, id string) string { return merchant + "\x00" + id }

// OpenBook opens (creating if needed) the order book at path and loads it.
func OpenBook(path string) (*Book, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, constancia.Wrap(err, constancia.EUNAVAILABLE, "cannot open the order book")
	}
	b := &Book{db: db, Now: time.Now, byCIP: map[string][]string{}, byAmount: map[amountKey][]string{}, orders: map[string]*Order{}}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, n := range [][]byte{bOrders, bEvents, bPolicy} {
			if _, err := tx.CreateBucketIfNotExists(n); err != nil {
				return err
			}
		}
		return tx.Bucket(bOrders).ForEach(func(k, v []byte) error {
			var o Order
			if err := json.Unmarshal(v, &o); err != nil {
				return err
			}
			b.index(&o)
			return nil
		})
	})
	if err != nil {
		db.Close()
		return nil, constancia.Wrap(err, constancia.EUNAVAILABLE, "cannot load the order book")
	}
	return b, nil
}

// Close closes the file.
func (b *Book) Close() error { return b.db.Close() }

func (b *Book) index(o *Order) {
	k := orderKey(o.Merchant, o.OrderID)
	b.orders[k] = o
	b.byCIP[o.CIP] = appendOnce(b.byCIP[o.CIP], k)
	ak := amountKey{o.Merchant, o.Currency, o.AmountCents}
	b.byAmount[ak] = appendOnce(b.byAmount[ak], k)
}

func appendOnce(s []string, k string) []string {
	for _, x := range s {
		if x == k {
			return s
		}
	}
	return append(s, k)
}

func (b *Book) save(tx *bolt.Tx, o *Order) error {
	data, err := json.Marshal(o)
	if err != nil {
		return err
	}
	return tx.Bucket(bOrders).Put([]byte(orderKey(o.Merchant, o.OrderID)), data)
}

// SetPolicy stores a merchant's policy.
func (b *Book) SetPolicy(merchant string, p Policy) error {
	if err := p.Validate(); err != nil {
		return err
	}
	data, _ := json.Marshal(p)
	return dbErr(b.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bPolicy).Put([]byte(merchant), data) }))
}

// Policy returns a merchant's policy: DefaultPolicy for fields never set.
func (b *Book) Policy(merchant string) Policy {
	p := DefaultPolicy
	_ = b.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bPolicy).Get([]byte(merchant)); v != nil {
			_ = json.Unmarshal(v, &p)
		}
		return nil
	})
	if p.CIPExpiry == 0 {
		p.CIPExpiry = DefaultPolicy.CIPExpiry
	}
	if p.AutoVerifyConfidence == 0 {
		p.AutoVerifyConfidence = DefaultPolicy.AutoVerifyConfidence
	}
	return p
}

func dbErr(err error) error {
	if err == nil {
		return nil
	}
	return constancia.Wrap(err, constancia.EUNAVAILABLE, "order book write failed")
}

// prepare fills an order's defaults (created now, expiring after expiry),
// validates it and opens its history.
func prepare(o *Order, now time.Time, expiry time.Duration, by string) error {
	if o.CreatedAt.IsZero() {
		o.CreatedAt = now.UTC()
	}
	if o.ExpiresAt.IsZero() {
		o.ExpiresAt = o.CreatedAt.Add(expiry)
	}
	if err := o.Validate(); err != nil {
		return err
	}
	o.Status = StatusOpen
	o.History = []Transition{{At: now.UTC(), To: StatusOpen, By: by}}
	return nil
}

// Create registers a new open order; ECONFLICT if the merchant already has
// an order with that id (unless identical: creating twice is idempotent).
func (b *Book) Create(o *Order, by string) (*Order, error) {
	if err := prepare(o, b.Now(), b.Policy(o.Merchant).CIPExpiry, by); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if old, ok := b.orders[orderKey(o.Merchant, o.OrderID)]; ok {
		if old.CIP == o.CIP && old.AmountCents == o.AmountCents && old.Currency == o.Currency {
			c := *old
			return &c, nil
		}
		return nil, constancia.Errorf(constancia.ECONFLICT, "order %s already exists with other values", o.OrderID)
	}
	if err := b.db.Update(func(tx *bolt.Tx) error { return b.save(tx, o) }); err != nil {
		return nil, constancia.Wrap(err, constancia.EUNAVAILABLE, "cannot store the order")
	}
	c := *o
	b.index(&c)
	return o, nil
}

// CreateMany registers many new orders in one transaction (bulk import);
// it stops at the first invalid or conflicting order and stores none.
func (b *Book) CreateMany(os []*Order, by string) error {
	now := b.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, o := range os {
		if err := prepare(o, now, b.Policy(o.Merchant).CIPExpiry, by); err != nil {
			return err
		}
		if _, ok := b.orders[orderKey(o.Merchant, o.OrderID)]; ok {
			return constancia.Errorf(constancia.ECONFLICT, "order %s already exists", o.OrderID)
		}
	}
	err := b.db.Update(func(tx *bolt.Tx) error {
		for _, o := range os {
			if err := b.save(tx, o); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return constancia.Wrap(err, constancia.EUNAVAILABLE, "cannot store the orders")
	}
	for _, o := range os {
		c := *o
		b.index(&c)
	}
	return nil
}

// Get returns a copy of the order, or ENOTFOUND.
func (b *Book) Get(merchant, id string) (*Order, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	o, ok := b.orders[orderKey(merchant, id)]
	if !ok {
		return nil, constancia.Errorf(constancia.ENOTFOUND, "order %s not found", id)
	}
	c := *o
	return &c, nil
}

// Move changes an order's state (see Order lifecycle) and persists it;
// apply, if given, also edits the order in the same transaction.
func (b *Book) Move(merchant, id, to, by, reason string, apply func(*Order)) (*Order, error) {
	return b.change(merchant, id, func(o *Order) error {
		if err := o.move(to, by, reason, b.Now()); err != nil {
			return err
		}
		if apply != nil {
			apply(o)
		}
		return nil
	})
}

// Note records on an order something that happened to it without
// changing its state (a payment PagoEfectivo reported for a cancelled
// order): apply changes the order, and the history gains an entry from and
// to its current state, with who and why.
func (b *Book) Note(merchant, id, by, reason string, apply func(*Order)) (*Order, error) {
	return b.change(merchant, id, func(o *Order) error {
		o.History = append(o.History, Transition{At: b.Now().UTC(), From: o.Status, To: o.Status, By: by, Reason: reason})
		if apply != nil {
			apply(o)
		}
		return nil
	})
}

// change applies f to a copy of the order and stores the copy; the order
// is unchanged if f or the store fails.
func (b *Book) change(merchant, id string, f func(*Order) error) (*Order, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	cur, ok := b.orders[orderKey(merchant, id)]
	if !ok {
		return nil, constancia.Errorf(constancia.ENOTFOUND, "order %s not found", id)
	}
	o := *cur
	o.History = append([]Transition(nil), cur.History...)
	if err := f(&o); err != nil {
		return nil, err
	}
	if err := b.db.Update(func(tx *bolt.Tx) error { return b.save(tx, &o) }); err != nil {
		return nil, constancia.Wrap(err, constancia.EUNAVAILABLE, "cannot store the order")
	}
	c := o
	b.orders[orderKey(merchant, id)] = &c
	return &o, nil
}

// List returns copies of a merchant's orders that satisfy keep.
func (b *Book) List(merchant string, keep func(*Order) bool) []*Order {
	b.mu.RLock()
	defer b.mu.RUnlock()
	var out []*Order
	for _, o := range b.orders {
		if (merchant == "" || o.Merchant == merchant) && (keep == nil || keep(o)) {
			c := *o
			out = append(out, &c)
		}
	}
	return out
}

// ByCIP returns copies of the orders (of any merchant) with this CIP.
func (b *Book) ByCIP(cip string) []*Order {
	b.mu.RLock()
	defer b.mu.RUnlock()
	var out []*Order
	for _, k := range b.byCIP[cip] {
		c := *b.orders[k]
		out = append(out, &c)
	}
	return out
}

// ExpireDue moves the open orders whose CIP expired before now to expired
// and returns them. A voucher or a PagoEfectivo payment can still settle an
// expired order (the lifecycle allows expired → paid/verified).
func (b *Book) ExpireDue(now time.Time) ([]*Order, error) {
	var due []*Order
	for _, o := range b.List("", func(o *Order) bool { return o.Open() && o.ExpiresAt.Before(now) }) {
		moved, err := b.Move(o.Merchant, o.OrderID, StatusExpired, "expiry", "CIP expired", nil)
		if err != nil {
			return due, err
		}
		due = append(due, moved)
	}
	return due, nil
}
