package multicast

import (
	"context"
	"sync/atomic"
)

// BufferPool hands out fixed-size buffers, at most n of them at any time,
// so the memory a flood of datagrams can pin is bounded.
//
// Concurrency: safe for concurrent use.
type BufferPool struct {
	size      int
	limit     int64
	allocated atomic.Int64
	free      chan []byte
}

// NewBufferPool returns a pool of at most n buffers of size bytes each.
// Buffers are allocated on first use.
func NewBufferPool(n, size int) *BufferPool {
	n = max(n, 1)
	return &BufferPool{size: size, limit: int64(n), free: make(chan []byte, n)}
}

// Size is the length of every buffer the pool hands out.
func (p *BufferPool) Size() int { return p.size }

// TryGet returns a buffer without blocking, or false when all n are in
// use; a reader should then drop the datagram and count it.
func (p *BufferPool) TryGet() ([]byte, bool) {
	select {
	case b := <-p.free:
		return b, true
	default:
	}
	for {
		n := p.allocated.Load()
		if n >= p.limit {
			return nil, false
		}
		if p.allocated.CompareAndSwap(n, n+1) {
			return make([]byte, p.size), true
		}
	}
}

// Get returns a buffer, waiting for a Put while all n are in use.
func (p *BufferPool) Get(ctx context.Context) ([]byte, error) {
	if b, ok := p.TryGet(); ok {
		return b, nil
	}
	select {
	case b := <-p.free:
		return b, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Put returns a buffer obtained from this pool. Buffers of another
// capacity are ignored (left to the garbage collector).
func (p *BufferPool) Put(b []byte) {
	if cap(b) != p.size {
		return
	}
	select {
	case p.free <- b[:p.size]:
	default: // not ours after all; the pool is already full
	}
}
