package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/constancia/constancia"
)

// spool keeps each accepted asynchronous upload on local disk from the 202
// until its decision is recorded, so a crash in between loses none: the
// next start reads what is left.
type spool struct{ dir string }

// spooled is one waiting upload: a JSON header line, then the file.
type spooled struct {
	ID       string `json:"id"`
	Merchant string `json:"merchant"`
	OrderID  string `json:"order_id,omitempty"`
	Starts   int    `json:"starts,omitempty"` // restarts that found it waiting
	Data     []byte `json:"-"`
}

// maxStarts: an upload still undecided after this many restarts is set
// aside (renamed .failed) for an operator instead of being retried forever.
const maxStarts = 3

// setAside renames job id's file so it is no longer read.
func (sp *spool) setAside(id string) error {
	p := filepath.Join(sp.dir, id+".job")
	return os.Rename(p, p+".failed")
}

func openSpool(dir string) (*spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return &spool{dir: dir}, nil
}

// put writes j durably (temporary file, fsync, rename, directory fsync).
func (sp *spool) put(j spooled) error {
	head, err := json.Marshal(j)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(sp.dir, ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(append(head, '\n'), j.Data...)); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(sp.dir, j.ID+".job")); err != nil {
		return err
	}
	d, err := os.Open(sp.dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// done forgets job id.
func (sp *spool) done(id string) error {
	err := os.Remove(filepath.Join(sp.dir, id+".job"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// list returns the waiting uploads, oldest first. A file that cannot be
// parsed (cut short by a crash before its rename cannot happen; a disk
// error can) is reported in bad and left in place for an operator.
func (sp *spool) list() (jobs []spooled, bad []string, err error) {
	ents, err := os.ReadDir(sp.dir)
	if err != nil {
		return nil, nil, err
	}
	type aged struct {
		j spooled
		t time.Time
	}
	var all []aged
	for _, e := range ents {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".job") {
			continue
		}
		p := filepath.Join(sp.dir, e.Name())
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, nil, err
		}
		r := bufio.NewReader(bytes.NewReader(b))
		line, err := r.ReadBytes('\n')
		var j spooled
		if err != nil || json.Unmarshal(line, &j) != nil || j.ID+".job" != e.Name() {
			bad = append(bad, p)
			continue
		}
		if j.Data, err = io.ReadAll(r); err != nil || len(j.Data) == 0 {
			bad = append(bad, p)
			continue
		}
		info, _ := e.Info()
		all = append(all, aged{j, info.ModTime()})
	}
	sort.Slice(all, func(a, b int) bool { return all[a].t.Before(all[b].t) })
	for _, a := range all {
		jobs = append(jobs, a.j)
	}
	return jobs, bad, nil
}

// runAsync reads one accepted upload, then forgets it in the spool once its
// outcome is final: a decision, or the image itself refused. Any other
// failure (the store unreachable, shutdown) leaves it for the next start.
// The caller holds an admission slot.
func (s *server) runAsync(j spooled) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	_, err := s.verifyVoucher(ctx, j.ID, j.Merchant, j.OrderID, j.Data)
	switch constancia.ErrorCode(err) {
	case "", constancia.EINVALID, constancia.EUNSUPPORTED, constancia.ETOOLARGE, constancia.ECORRUPT:
	default:
		s.log.Warn("async verification postponed to the next start", "receipt", j.ID, "err", err)
		return
	}
	if err := s.spool.done(j.ID); err != nil {
		s.log.Error("spool", "receipt", j.ID, "err", err)
	}
	if err != nil {
		// Kept an hour so the merchant can read why, then forgotten.
		s.jobs.Store(j.ID, &job{merchant: j.Merchant, err: err, done: true})
		time.AfterFunc(time.Hour, func() { s.jobs.Delete(j.ID) })
		return
	}
	s.jobs.Delete(j.ID)
}

// resumeSpool re-reads, in the background, the uploads a crash left
// accepted but undecided. One already recorded (the crash fell between the
// record and the spool's removal) is only forgotten.
func (s *server) resumeSpool(ctx context.Context) error {
	jobs, bad, err := s.spool.list()
	if err != nil {
		return err
	}
	for _, p := range bad {
		s.log.Error("unreadable spooled upload left in place", "file", p)
	}
	var todo []spooled
	for _, j := range jobs {
		if _, err := s.screener.keeper.Index.Get(j.ID); err == nil {
			if err := s.spool.done(j.ID); err != nil {
				return err
			}
			continue
		} else if constancia.ErrorCode(err) != constancia.ENOTFOUND {
			return err
		}
		if j.Starts++; j.Starts > maxStarts {
			s.log.Error("spooled upload failed on every start; set aside", "receipt", j.ID)
			if err := s.spool.setAside(j.ID); err != nil {
				return err
			}
			continue
		}
		if err := s.spool.put(j); err != nil {
			return err
		}
		s.jobs.Store(j.ID, &job{merchant: j.Merchant})
		todo = append(todo, j)
	}
	if len(todo) == 0 {
		return nil
	}
	s.log.Info("resuming accepted uploads", "count", len(todo))
	s.wgBG.Add(1)
	go func() {
		defer s.wgBG.Done()
		for _, j := range todo {
			select { // wait for a slot, unlike new uploads; stop at shutdown
			case <-ctx.Done():
				return
			case s.slots <- struct{}{}:
			}
			s.metrics.queue.Inc()
			s.runAsync(j)
			<-s.slots
			s.metrics.queue.Dec()
		}
	}()
	return nil
}
