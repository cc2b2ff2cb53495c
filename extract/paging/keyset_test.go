package paging

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestKeySet checks the key set against a map, over keys in order, out of
// order, repeated, and read again in later passes.
func TestKeySet(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		var s keySet
		inSearch := map[string]bool{}
		inPass := map[string]int32{}
		next := uint64(r.IntN(1000))
		for pass := int32(1); pass <= 3; pass++ {
			for range r.IntN(300) {
				var key string
				switch x := r.IntN(10); {
				case x < 5: // ascending, mostly consecutive
					next += uint64(1 + r.IntN(2)*r.IntN(5))
					key = strconv.FormatUint(next, 10)
				case x < 8: // anywhere below
					key = strconv.FormatUint(uint64(r.IntN(int(next)+2)), 10)
				case x < 9: // not canonical decimal: a string key
					key = "0" + strconv.Itoa(r.IntN(50))
				default:
					key = "SUB" + strconv.Itoa(r.IntN(50))
				}
				wantSearch := !inSearch[key]
				wantPass := inPass[key] != pass
				gotSearch, gotPass := s.mark(key, pass)
				if gotSearch != wantSearch || gotPass != wantPass {
					t.Fatalf("round %d, pass %d: mark(%s) = %v, %v, want %v, %v", round, pass, key, gotSearch, gotPass, wantSearch, wantPass)
				}
				inSearch[key] = true
				inPass[key] = pass
			}
		}
		checkRuns(t, &s.all)
		checkRuns(t, &s.cur)
	}
}

func checkRuns(t *testing.T, r *runs) {
	t.Helper()
	for i := range r.lo {
		if r.lo[i] > r.hi[i] || i > 0 && r.lo[i] <= r.hi[i-1]+1 {
			t.Fatalf("runs not sorted, disjoint and apart at %d: %v %v", i, r.lo, r.hi)
		}
	}
}

// TestKeySetConsecutive shows that consecutive keys take one run.
func TestKeySetConsecutive(t *testing.T) {
	var s keySet
	for i := range 100_000 {
		s.mark(strconv.Itoa(1_000_000+i), 1)
	}
	if n := len(s.all.lo); n != 1 {
		t.Errorf("100,000 consecutive keys take %d runs, want 1", n)
	}
}
