package protocol

import "encoding/binary"

// reader walks a body without allocating. The first short read sets err
// and every later read returns zero, so a parser checks err once.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || len(r.b)-r.off < n {
		r.err = ErrShort
		return nil
	}
	s := r.b[r.off : r.off+n : r.off+n]
	r.off += n
	return s
}

func (r *reader) u8() byte {
	if s := r.take(1); s != nil {
		return s[0]
	}
	return 0
}

func (r *reader) u16() uint16 {
	if s := r.take(2); s != nil {
		return binary.BigEndian.Uint16(s)
	}
	return 0
}

func (r *reader) u32() uint32 {
	if s := r.take(4); s != nil {
		return binary.BigEndian.Uint32(s)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if s := r.take(8); s != nil {
		return binary.BigEndian.Uint64(s)
	}
	return 0
}

func (r *reader) array8() (a [8]byte) {
	copy(a[:], r.take(8))
	return a
}

func (r *reader) array32() (a [32]byte) {
	copy(a[:], r.take(32))
	return a
}

// rest returns what is left; the caller decides whether trailing bytes
// are allowed (SPEC.md §3.4: they are not, unless a body says so).
func (r *reader) rest() []byte { return r.take(len(r.b) - r.off) }

// done fails with ErrField when bytes are left over.
func (r *reader) done() error {
	if r.err != nil {
		return r.err
	}
	if r.off != len(r.b) {
		return ErrField
	}
	return nil
}
