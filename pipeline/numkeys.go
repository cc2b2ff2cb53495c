package pipeline

import (
	"maps"
	"slices"
)

// mergeAt is how many keys numKeys gathers in its map before it merges
// them into its sorted arrays.
const mergeAt = 1 << 16

// numKeys maps numeric keys (RefNos) to an int32, in about 12 bytes a key
// (plus the growth of two slices, and a map of at most mergeAt keys)
// where a Go map takes about 38: new keys gather in a small map, merged
// into two sorted arrays, keys and their values, each time it holds
// mergeAt. A merge sorts the new keys and moves every old key after the
// smallest of them, so keys that come mostly in increasing order (as a
// window's RefNos do, day by day) cost little; at worst a merge moves all
// n keys, once per mergeAt keys put.
// The key set is most of what a run holds for its window, so its size
// sets how much the heap grows with the window (BenchmarkWindowKeys).
type numKeys struct {
	keys   []uint64 // sorted
	vals   []int32  // vals[i] is keys[i]'s
	recent map[uint64]int32
}

func (k *numKeys) get(n uint64) (int32, bool) {
	if v, ok := k.recent[n]; ok {
		return v, true
	}
	if i, ok := slices.BinarySearch(k.keys, n); ok {
		return k.vals[i], true
	}
	return 0, false
}

// put adds n, which must not be in k, with value v.
func (k *numKeys) put(n uint64, v int32) {
	if k.recent == nil {
		k.recent = make(map[uint64]int32)
	}
	k.recent[n] = v
	if len(k.recent) >= mergeAt {
		k.merge()
	}
}

// merge moves the keys of recent into the sorted arrays, merging from the
// back so that no second array is needed.
func (k *numKeys) merge() {
	add := slices.Sorted(maps.Keys(k.recent))
	n, m := len(k.keys), len(add)
	k.keys = slices.Grow(k.keys, m)[:n+m]
	k.vals = slices.Grow(k.vals, m)[:n+m]
	i, j := n-1, m-1
	for w := n + m - 1; j >= 0; w-- {
		if i >= 0 && k.keys[i] > add[j] {
			k.keys[w], k.vals[w] = k.keys[i], k.vals[i]
			i--
		} else {
			k.keys[w], k.vals[w] = add[j], k.recent[add[j]]
			j--
		}
	}
	clear(k.recent)
}
