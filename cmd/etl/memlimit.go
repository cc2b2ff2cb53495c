package main

import "runtime/debug"

// defaultMemoryLimit is the soft memory limit of an etl process whose
// environment sets no GOMEMLIMIT. A run's live heap is about 100 MB
// however long its window (writers of a few days, pages in flight, the
// window's key set: 17 MB per million orders), but with the default GOGC
// the collector lets the heap grow to twice that before it runs, and RSS
// follows. The limit makes it collect earlier instead. It is soft: a
// larger live heap (a window of many millions of orders) goes over it and
// the collector then takes at most half the CPU, so nothing fails.
// GOMEMLIMIT=off (or any value) in the environment replaces it.
const defaultMemoryLimit = 160 << 20

// setMemoryLimit applies defaultMemoryLimit unless GOMEMLIMIT is set.
func setMemoryLimit(getenv func(string) (string, bool)) {
	if _, ok := getenv("GOMEMLIMIT"); ok {
		return
	}
	debug.SetMemoryLimit(defaultMemoryLimit)
}
