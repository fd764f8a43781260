package protocol

import (
	"bytes"
	"encoding/binary"
)

// Manifest limits (SPEC.md §6.4).
const (
	MaxFiles   = 200_000
	MaxPathLen = 4096
	HashLen    = 32
	fileFixed  = 1 + 4 + 8 + 2
)

// File kinds in a manifest.
const (
	KindFile = 0
	KindDir  = 1
)

// FileEntry is one file or directory of a push, in stream order: the
// content of every KindFile entry follows the previous one's, with no gap.
type FileEntry struct {
	Kind byte
	Mode uint32 // permission bits only (0o777 mask applied by receivers)
	Size uint64 // zero for directories
	Path string // slash-separated, relative; receivers sanitize it again
}

// Manifest is the plaintext the sender signs chunk by chunk: the file
// list and the SHA-256 of every block, in order. Its SHA-256 is the
// content id used for resume.
type Manifest struct {
	Files  []FileEntry
	Hashes [][HashLen]byte
}

// Len is the encoded size.
func (m *Manifest) Len() int {
	n := 4 + 4 + len(m.Hashes)*HashLen
	for _, f := range m.Files {
		n += fileFixed + len(f.Path)
	}
	return n
}

// AppendBinary appends the encoded manifest.
func (m *Manifest) AppendBinary(b []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(m.Files)))
	for _, f := range m.Files {
		b = append(b, f.Kind)
		b = binary.BigEndian.AppendUint32(b, f.Mode)
		b = binary.BigEndian.AppendUint64(b, f.Size)
		b = binary.BigEndian.AppendUint16(b, uint16(len(f.Path)))
		b = append(b, f.Path...)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(m.Hashes)))
	for _, h := range m.Hashes {
		b = append(b, h[:]...)
	}
	return b
}

// ParseManifest decodes a manifest whose announce promised totalSize
// bytes in blocks blocks. Counts are checked against the input length
// before anything is allocated.
func ParseManifest(b []byte, totalSize uint64, blocks uint32) (*Manifest, error) {
	r := reader{b: b}
	n := r.u32()
	if r.err != nil {
		return nil, r.err
	}
	if n > MaxFiles || uint64(n)*fileFixed > uint64(len(b)) {
		return nil, ErrField
	}
	m := &Manifest{Files: make([]FileEntry, 0, n)}
	var sum uint64
	for range n {
		f := FileEntry{Kind: r.u8(), Mode: r.u32(), Size: r.u64()}
		p := r.take(int(r.u16()))
		if r.err != nil {
			return nil, r.err
		}
		if f.Kind > KindDir || len(p) == 0 || len(p) > MaxPathLen || bytes.IndexByte(p, 0) >= 0 ||
			(f.Kind == KindDir && f.Size != 0) || f.Size > totalSize-sum {
			return nil, ErrField
		}
		sum += f.Size
		f.Path = string(p)
		m.Files = append(m.Files, f)
	}
	h := r.u32()
	if r.err != nil {
		return nil, r.err
	}
	if sum != totalSize || h != blocks || uint64(h)*HashLen != uint64(len(b)-r.off) {
		return nil, ErrField
	}
	m.Hashes = make([][HashLen]byte, h)
	for i := range m.Hashes {
		m.Hashes[i] = r.array32()
	}
	return m, r.done()
}
