package load

import (
	"math/bits"
	"sync"
	"unsafe"
)

// bufferPool is a memory.Allocator that keeps the buffers freed to it for
// reuse. A writer builds and encodes batch after batch of the same shape, so
// reusing their buffers saves most of the allocation and garbage collection
// a writer would otherwise cause. Buffers come in power-of-two capacities,
// zeroed like Go's, aligned to 64 bytes like memory.GoAllocator's. Freed
// buffers are kept up to maxPooledBytes.
type bufferPool struct {
	mu    sync.Mutex
	free  [maxPooledShift + 1][][]byte
	bytes int
}

const (
	// Buffers from 64 bytes to 16 MiB are pooled; others are left to the
	// garbage collector.
	minPooledShift = 6
	maxPooledShift = 24
	maxPooledBytes = 4 << 20
	alignment      = 64
)

// Allocate returns a zeroed buffer of size bytes.
func (p *bufferPool) Allocate(size int) []byte {
	shift := max(bits.Len(uint(size-1)), minPooledShift)
	if size <= 0 || shift > maxPooledShift {
		return alignedMake(size, size)
	}
	p.mu.Lock()
	l := p.free[shift]
	if n := len(l); n > 0 {
		b := l[n-1]
		l[n-1] = nil
		p.free[shift] = l[:n-1]
		p.bytes -= cap(b)
		p.mu.Unlock()
		b = b[:size]
		clear(b)
		return b
	}
	p.mu.Unlock()
	return alignedMake(size, 1<<shift)
}

// Reallocate resizes b to size bytes, keeping its contents; bytes past the
// old length are zero.
func (p *bufferPool) Reallocate(size int, b []byte) []byte {
	if size <= cap(b) {
		old := len(b)
		b = b[:size]
		if size > old {
			clear(b[old:])
		}
		return b
	}
	nb := p.Allocate(size)
	copy(nb, b)
	p.Free(b)
	return nb
}

// Free returns b to the pool.
func (p *bufferPool) Free(b []byte) {
	c := cap(b)
	if c < 1<<minPooledShift || c > 1<<maxPooledShift || c&(c-1) != 0 {
		return
	}
	p.mu.Lock()
	if p.bytes+c <= maxPooledBytes {
		shift := bits.Len(uint(c - 1))
		p.free[shift] = append(p.free[shift], b[:0])
		p.bytes += c
	}
	p.mu.Unlock()
}

// alignedMake returns a zeroed slice of length size and capacity c whose
// first byte is aligned.
func alignedMake(size, c int) []byte {
	buf := make([]byte, c+alignment)
	off := 0
	if r := int(uintptr(unsafe.Pointer(unsafe.SliceData(buf))) % alignment); r != 0 {
		off = alignment - r
	}
	return buf[off : off+size : off+c]
}
