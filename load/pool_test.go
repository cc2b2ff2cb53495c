package load

import (
	"bytes"
	"testing"
	"unsafe"
)

func TestBufferPool(t *testing.T) {
	var p bufferPool
	aligned := func(b []byte) bool {
		return uintptr(unsafe.Pointer(unsafe.SliceData(b)))%alignment == 0
	}
	for _, size := range []int{1, 63, 64, 65, 1000, 4096, 1 << 20, 1<<maxPooledShift + 1} {
		b := p.Allocate(size)
		if len(b) != size || !aligned(b) || !bytes.Equal(b, make([]byte, size)) {
			t.Fatalf("Allocate(%d): len %d, aligned %v, zeroed %v", size, len(b), aligned(b), bytes.Equal(b, make([]byte, size)))
		}
		for i := range b {
			b[i] = 0xff
		}
		p.Free(b)
		// The freed buffer comes back zeroed.
		c := p.Allocate(size)
		if !bytes.Equal(c, make([]byte, size)) {
			t.Fatalf("Allocate(%d) after Free: not zeroed", size)
		}
		p.Free(c)
	}

	b := p.Allocate(100)
	copy(b, "hello")
	b = p.Reallocate(10, b)
	b = p.Reallocate(120, b) // within capacity: the tail is zeroed
	if string(b[:5]) != "hello" || !bytes.Equal(b[5:], make([]byte, 115)) {
		t.Errorf("Reallocate within capacity: %q", b)
	}
	b = p.Reallocate(5000, b) // a new buffer
	if len(b) != 5000 || string(b[:5]) != "hello" || !bytes.Equal(b[5:], make([]byte, 4995)) || !aligned(b) {
		t.Errorf("Reallocate to a larger buffer: len %d", len(b))
	}

	// The pool keeps at most maxPooledBytes.
	var bufs [][]byte
	for range 2 * maxPooledBytes / (1 << 20) {
		bufs = append(bufs, p.Allocate(1<<20))
	}
	for _, b := range bufs {
		p.Free(b)
	}
	if p.bytes > maxPooledBytes {
		t.Errorf("pool holds %d bytes, want at most %d", p.bytes, maxPooledBytes)
	}
}
