package pipeline

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestNumKeys: numKeys answers as a map does, for keys in increasing,
// decreasing and random order, across many merges, and before and after
// each.
func TestNumKeys(t *testing.T) {
	const n = 3*mergeAt + 123
	r := rand.New(rand.NewPCG(1, 2))
	increasing := make([]uint64, n)
	for i := range increasing {
		increasing[i] = 1_000_000 + uint64(i)*3
	}
	decreasing := slices.Clone(increasing)
	slices.Reverse(decreasing)
	random := make([]uint64, n)
	for i := range random {
		random[i] = r.Uint64()
	}
	for _, tt := range []struct {
		name string
		keys []uint64
	}{{"increasing", increasing}, {"decreasing", decreasing}, {"random", random}} {
		t.Run(tt.name, func(t *testing.T) {
			var k numKeys
			want := map[uint64]int32{}
			for i, key := range tt.keys {
				if _, ok := want[key]; ok {
					continue
				}
				if _, ok := k.get(key); ok {
					t.Fatalf("key %d found before it was put", key)
				}
				v := int32(i % 1000)
				k.put(key, v)
				want[key] = v
				// Check a few earlier keys as the arrays change.
				if i%997 == 0 {
					for _, old := range tt.keys[: i+1 : i+1][max(0, i-5):] {
						if got, ok := k.get(old); !ok || got != want[old] {
							t.Fatalf("after %d keys, key %d: %d, %v; want %d", i+1, old, got, ok, want[old])
						}
					}
				}
			}
			for key, v := range want {
				if got, ok := k.get(key); !ok || got != v {
					t.Fatalf("key %d: %d, %v; want %d", key, got, ok, v)
				}
			}
			for _, absent := range []uint64{0, 1, 999_999, 1_000_001, ^uint64(0)} {
				if _, in := want[absent]; in {
					continue
				}
				if _, ok := k.get(absent); ok {
					t.Errorf("absent key %d found", absent)
				}
			}
			if !slices.IsSorted(k.keys) || len(k.keys)+len(k.recent) != len(want) {
				t.Errorf("%d sorted + %d recent keys, want %d in all", len(k.keys), len(k.recent), len(want))
			}
		})
	}
}
