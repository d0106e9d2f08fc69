package fraud

import (
	"image"
	"math/bits"
	"runtime"
	"sort"
	"sync"

	"github.com/corona10/goimagehash"
	"github.com/disintegration/imaging"
)

// Hashes are perceptual hashes of a normalised document image.
type Hashes struct {
	PHash uint64
	DHash uint64
}

// HashImage computes the perceptual hashes of img (the deskewed, cropped,
// normalised document). It shrinks img first so hashing costs the same for
// every upload.
func HashImage(img image.Image) (Hashes, error) {
	small := imaging.Fit(img, 256, 256, imaging.Box)
	p, err := goimagehash.PerceptionHash(small)
	if err != nil {
		return Hashes{}, err
	}
	d, err := goimagehash.DifferenceHash(small)
	if err != nil {
		return Hashes{}, err
	}
	return Hashes{PHash: p.GetHash(), DHash: d.GetHash()}, nil
}

// Distance is the Hamming distance between two 64-bit hashes.
func Distance(a, b uint64) int { return bits.OnesCount64(a ^ b) }

// HashIndex holds perceptual hashes in memory for Hamming-distance search:
// a flat scan over a packed slice, which at one million hashes takes about
// a millisecond (BenchmarkNear). Safe for concurrent use.
type HashIndex struct {
	mu     sync.RWMutex
	hashes []uint64
	ids    []string
}

// Add records hash h of receipt id.
func (x *HashIndex) Add(h uint64, id string) {
	x.mu.Lock()
	x.hashes = append(x.hashes, h)
	x.ids = append(x.ids, id)
	x.mu.Unlock()
}

// Len returns the number of hashes held.
func (x *HashIndex) Len() int { x.mu.RLock(); defer x.mu.RUnlock(); return len(x.hashes) }

// Match is one near hash.
type Match struct {
	ID       string
	Distance int
}

// Near returns the ids whose hash is within max bits of h, nearest first,
// at most limit of them.
func (x *HashIndex) Near(h uint64, max, limit int) []Match {
	x.mu.RLock()
	defer x.mu.RUnlock()
	// Large indexes are scanned in parallel chunks.
	parts := 1
	if len(x.hashes) >= 1<<16 {
		parts = runtime.GOMAXPROCS(0)
	}
	found := make([][]Match, parts)
	var wg sync.WaitGroup
	chunk := (len(x.hashes) + parts - 1) / parts
	for p := 0; p < parts; p++ {
		lo, hi := p*chunk, min((p+1)*chunk, len(x.hashes))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, v := range x.hashes[lo:hi] {
				if d := bits.OnesCount64(v ^ h); d <= max {
					found[p] = append(found[p], Match{x.ids[lo+i], d})
				}
			}
		}()
	}
	wg.Wait()
	var out []Match
	for _, f := range found {
		out = append(out, f...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Distance < out[j].Distance })
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}
