package replay

// window is a sliding bitmap over one epoch's counters: top is the
// highest counter accepted and bit c%len(bits)*64 marks counter c for
// top-size < c <= top. The ring has one block more than size/64 so that
// advancing can clear whole 64-bit blocks: the blocks holding the window
// never collide with the block being entered. Not safe for concurrent
// use; the Guard's lock covers it.
type window struct {
	top  uint64
	size uint64 // counters accepted below and including top; multiple of 64
	bits []uint64
}

func newWindow(size int) window {
	return window{size: uint64(size), bits: make([]uint64, size/64+1)}
}

// reset empties the window for reuse by another epoch.
func (w *window) reset() {
	w.top = 0
	clear(w.bits)
}

// accept marks counter as seen, or returns why it cannot be.
func (w *window) accept(counter uint64) error {
	if counter == 0 {
		return errCounterZero
	}
	blocks := uint64(len(w.bits))
	block := counter / 64
	if counter > w.top {
		// Clear every block entered on the way up; after a jump of a whole
		// ring or more, all of them.
		from := w.top/64 + 1
		for b := from; b <= block && b-from < blocks; b++ {
			w.bits[b%blocks] = 0
		}
		w.top = counter
	} else if w.top-counter >= w.size {
		return errBelowWindow
	}
	i, mask := block%blocks, uint64(1)<<(counter%64)
	if w.bits[i]&mask != 0 {
		return errDuplicate
	}
	w.bits[i] |= mask
	return nil
}
