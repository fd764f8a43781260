package push

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/herald-lan/herald/protocol"
)

// ErrExists means a target file exists and overwriting was not asked for.
var ErrExists = errors.New("push: target exists")

// maxOpenFiles bounds descriptors a sink holds for a many-file push.
const maxOpenFiles = 32

// sink writes verified blocks of one push into a staging directory
// ".herald-<content id>" inside the target directory, and moves the
// files into place when every block verified (SPEC.md §6.8). All file
// access goes through os.Root, so no path from the wire and no symlink
// planted in the target can make it write outside. Not safe for
// concurrent use.
type sink struct {
	root     *os.Root
	staging  string
	files    []protocol.FileEntry
	start    []int64
	total    int64
	bsize    int64
	have     []uint64 // verified blocks
	nHave    int
	blocks   int
	open     map[int]*os.File
	opened   []int // open order, for eviction
	readOnly bool  // only ReadBlock: placed files checked by placedMatches
}

func stagingName(contentID [32]byte) string {
	return ".herald-" + hex.EncodeToString(contentID[:8])
}

const stateFile = "herald.state"

// openSink prepares the staging directory, reusing a previous partial
// one for the same content (resume): Count then says how many blocks the
// previous run marked verified, and the caller (rsession.reverify)
// hashes them again before trusting them.
func openSink(dir string, m *protocol.Manifest, contentID [32]byte, blockSize int) (*sink, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("push: target dir: %w", err)
	}
	s := &sink{root: root, staging: stagingName(contentID), files: m.Files, bsize: int64(blockSize),
		blocks: len(m.Hashes), have: make([]uint64, (len(m.Hashes)+63)/64), open: map[int]*os.File{}}
	for _, f := range m.Files {
		s.start = append(s.start, s.total)
		s.total += int64(f.Size)
	}
	if err := root.MkdirAll(s.staging, 0o700); err != nil {
		root.Close()
		return nil, fmt.Errorf("push: staging dir: %w", err)
	}
	for _, f := range m.Files {
		p := path.Join(s.staging, f.Path)
		if f.Kind == protocol.KindDir {
			err = root.MkdirAll(p, 0o700)
		} else if err = root.MkdirAll(path.Dir(p), 0o700); err == nil {
			var fh *os.File
			if fh, err = root.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
				fh.Close()
			}
		}
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("push: staging %s: %w", f.Path, err)
		}
	}
	s.loadState()
	return s, nil
}

// loadState reads the bitmap of blocks a previous run verified. A state
// file of the wrong size is ignored: the blocks are simply fetched again.
func (s *sink) loadState() {
	b, err := s.root.ReadFile(path.Join(s.staging, stateFile))
	if err != nil || len(b) != 8*len(s.have) {
		return
	}
	for i := range s.have {
		s.have[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	s.nHave = 0
	for i := range s.blocks {
		if s.Has(i) {
			s.nHave++
		}
	}
}

// SaveState records verified blocks so a restarted receiver resumes.
func (s *sink) SaveState() error {
	b := make([]byte, 0, 8*len(s.have))
	for _, w := range s.have {
		b = binary.LittleEndian.AppendUint64(b, w)
	}
	tmp := path.Join(s.staging, stateFile+".tmp")
	if err := s.root.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return s.root.Rename(tmp, path.Join(s.staging, stateFile))
}

// Has reports whether block i is verified and written.
func (s *sink) Has(i int) bool { return s.have[i/64]&(1<<(i%64)) != 0 }

// Count is the number of verified blocks.
func (s *sink) Count() int { return s.nHave }

// Forget un-marks block i (a kept block that failed re-verification).
func (s *sink) Forget(i int) {
	if s.Has(i) {
		s.have[i/64] &^= 1 << (i % 64)
		s.nHave--
	}
}

// WriteBlock writes verified block i (already checked against the signed
// hash) at its stream offset, across file boundaries.
func (s *sink) WriteBlock(i int, data []byte) error {
	if i < 0 || i >= s.blocks {
		return errors.New("push: block index out of range")
	}
	if s.Has(i) {
		return nil
	}
	if err := s.segments(int64(i)*s.bsize, data, func(f *os.File, b []byte, off int64) error {
		_, err := f.WriteAt(b, off)
		return err
	}); err != nil {
		return err
	}
	s.have[i/64] |= 1 << (i % 64)
	s.nHave++
	return nil
}

// ReadBlock reads block i back, to re-verify a resumed block.
func (s *sink) ReadBlock(i int, data []byte) error {
	return s.segments(int64(i)*s.bsize, data, func(f *os.File, b []byte, off int64) error {
		_, err := f.ReadAt(b, off)
		return err
	})
}

func (s *sink) segments(off int64, data []byte, do func(*os.File, []byte, int64) error) error {
	for len(data) > 0 {
		fi := fileHolding(s.files, s.start, off)
		if fi < 0 {
			return errors.New("push: block beyond the end of the content")
		}
		f, err := s.file(fi)
		if err != nil {
			return err
		}
		within := off - s.start[fi]
		n := min(int64(len(data)), int64(s.files[fi].Size)-within)
		if err := do(f, data[:n], within); err != nil {
			return err
		}
		data, off = data[n:], off+n
	}
	return nil
}

func (s *sink) file(i int) (*os.File, error) {
	if f, ok := s.open[i]; ok {
		return f, nil
	}
	if len(s.opened) >= maxOpenFiles {
		old := s.opened[0]
		s.opened = s.opened[1:]
		s.open[old].Close()
		delete(s.open, old)
	}
	flag := os.O_RDWR
	if s.readOnly {
		flag = os.O_RDONLY
	}
	f, err := s.root.OpenFile(path.Join(s.staging, s.files[i].Path), flag, 0)
	if err != nil {
		return nil, err
	}
	s.open[i] = f
	s.opened = append(s.opened, i)
	return f, nil
}

func (s *sink) closeFiles() {
	for _, f := range s.open {
		f.Close()
	}
	clear(s.open)
	s.opened = s.opened[:0]
}

// placement says how Finish treats a top-level name that exists in the
// target (SPEC.md §6.8, "Placing files").
type placement struct {
	overwrite bool // --overwrite: replace (folders are merged)
	// replaceable reports whether name was placed by an earlier push of
	// the same sender: it is replaced, the old copy kept as backup.
	replaceable func(name string) bool
	// isBackup reports whether name is a backup an earlier push made, so
	// it may be replaced by the next backup.
	isBackup func(name string) bool
}

// Finish moves every top-level entry of the push into the target dir,
// applies modes (less the umask), and removes the staging dir. An
// existing name this sender placed is replaced and kept as
// "<name> (previous)"; any other existing name gets " (1)", " (2)"...
// before its extension, unless overwrite. It returns the names placed
// and the backups made.
func (s *sink) Finish(how placement) (placed, backups []string, err error) {
	s.closeFiles()
	if s.nHave != s.blocks {
		return nil, nil, errors.New("push: finish before every block verified")
	}
	mask := umask()
	for i := len(s.files) - 1; i >= 0; i-- { // children before parents
		f := s.files[i]
		mode := fs.FileMode(f.Mode) & 0o777 &^ mask
		if f.Kind == protocol.KindDir {
			mode |= 0o700 // we must be able to finish writing it
		}
		if err := s.root.Chmod(path.Join(s.staging, f.Path), mode); err != nil {
			return nil, nil, err
		}
	}
	done := map[string]bool{}
	for _, f := range s.files {
		top, _, _ := strings.Cut(f.Path, "/")
		if done[top] {
			continue
		}
		done[top] = true
		if how.overwrite && s.bothDirs(top) {
			if err := s.merge(top); err != nil {
				return placed, backups, err
			}
			placed = append(placed, top)
			continue
		}
		if !how.overwrite && how.replaceable != nil && s.exists(top) && how.replaceable(top) {
			if backup, ok := s.replace(top, how.isBackup); ok {
				placed, backups = append(placed, top), append(backups, backup)
				continue
			}
		}
		dst, err := s.freeName(top, how.overwrite)
		if err != nil {
			return placed, backups, err
		}
		if err := s.root.Rename(path.Join(s.staging, top), dst); err != nil {
			return placed, backups, fmt.Errorf("push: placing %s: %w", dst, err)
		}
		placed = append(placed, dst)
	}
	return placed, backups, s.root.RemoveAll(s.staging)
}

func (s *sink) exists(name string) bool {
	_, err := s.root.Lstat(name)
	return err == nil
}

// replace puts the pushed top in place of the existing one, which becomes
// "<stem> (previous)<ext>" (an earlier backup of that name is dropped;
// a name the user made is never touched: then it reports false). Two
// renames: readers see the old or the new version, or for an instant
// neither, never a mix.
func (s *sink) replace(top string, isBackup func(string) bool) (string, bool) {
	ext := path.Ext(top)
	if st, err := s.root.Lstat(top); err == nil && st.IsDir() {
		ext = "" // "lesson.v2" the folder is not "lesson (previous).v2"
	}
	backup := strings.TrimSuffix(top, ext) + " (previous)" + ext
	if s.exists(backup) {
		if isBackup == nil || !isBackup(backup) || s.root.RemoveAll(backup) != nil {
			return "", false
		}
	}
	if s.root.Rename(top, backup) != nil {
		return "", false
	}
	if s.root.Rename(path.Join(s.staging, top), top) != nil {
		s.root.Rename(backup, top) // put the old one back
		return "", false
	}
	return backup, true
}

// bothDirs reports whether top is a directory in the push and an existing
// directory (not a link) in the target.
func (s *sink) bothDirs(top string) bool {
	st, err := s.root.Lstat(top)
	if err != nil || !st.IsDir() {
		return false
	}
	st, err = s.root.Lstat(path.Join(s.staging, top))
	return err == nil && st.IsDir()
}

// merge moves the files of the pushed tree top into the existing tree of
// the same name, replacing files the push carries and keeping the rest
// (--overwrite on a folder).
func (s *sink) merge(top string) error {
	for _, f := range s.files {
		if f.Path != top && !strings.HasPrefix(f.Path, top+"/") {
			continue
		}
		if f.Kind == protocol.KindDir {
			if st, err := s.root.Lstat(f.Path); err == nil && !st.IsDir() {
				if err := s.root.RemoveAll(f.Path); err != nil {
					return err
				}
			}
			if err := s.root.MkdirAll(f.Path, fs.FileMode(f.Mode)&0o777|0o700); err != nil {
				return fmt.Errorf("push: placing %s: %w", f.Path, err)
			}
			continue
		}
		if _, err := s.root.Lstat(f.Path); err == nil {
			if err := s.root.RemoveAll(f.Path); err != nil {
				return err
			}
		}
		if err := s.root.Rename(path.Join(s.staging, f.Path), f.Path); err != nil {
			return fmt.Errorf("push: placing %s: %w", f.Path, err)
		}
	}
	return nil
}

func (s *sink) freeName(name string, overwrite bool) (string, error) {
	if _, err := s.root.Lstat(name); errors.Is(err, fs.ErrNotExist) {
		return name, nil
	}
	if overwrite { // a file, or a file replaced by a folder or the reverse
		if err := s.root.RemoveAll(name); err != nil {
			return "", err
		}
		return name, nil
	}
	ext := path.Ext(name)
	stem := strings.TrimSuffix(name, ext)
	for n := 1; n < 1000; n++ {
		c := fmt.Sprintf("%s (%d)%s", stem, n, ext)
		if _, err := s.root.Lstat(c); errors.Is(err, fs.ErrNotExist) {
			return c, nil
		}
	}
	return "", fmt.Errorf("%w: %s and 999 numbered copies", ErrExists, name)
}

// Close releases files; the staging directory stays for resume.
func (s *sink) Close() error {
	s.closeFiles()
	return s.root.Close()
}

// placedMatches reports whether the files of m are in dir as placed by an
// earlier push under names (its top-level names, unrenamed) with every
// block matching the manifest's hash: then the push is already here.
// l is the push's layout; m was parsed against the same announce, so its
// files sum to l.total and it has l.blocks hashes.
func placedMatches(dir string, m *protocol.Manifest, names []string, l layout) bool {
	tops := map[string]bool{}
	for _, f := range m.Files {
		top, _, _ := strings.Cut(f.Path, "/")
		tops[top] = true
	}
	if len(tops) != len(names) {
		return false
	}
	for _, n := range names {
		if !tops[n] {
			return false
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return false
	}
	s := &sink{root: root, staging: ".", files: m.Files, bsize: int64(l.blockSize()), open: map[int]*os.File{}, readOnly: true}
	defer s.Close()
	for _, f := range m.Files {
		st, err := root.Lstat(f.Path)
		switch {
		case err != nil:
			return false
		case f.Kind == protocol.KindDir && !st.IsDir(), f.Kind != protocol.KindDir && (!st.Mode().IsRegular() || st.Size() != int64(f.Size)):
			return false
		}
		s.start = append(s.start, s.total)
		s.total += int64(f.Size)
	}
	if s.total != l.total || len(m.Hashes) != l.blocks {
		return false
	}
	buf := make([]byte, l.blockSize())
	for b, want := range m.Hashes {
		n := l.blockLen(b)
		if s.ReadBlock(b, buf[:n]) != nil || blockHash(l.code(b), buf[:n]) != want {
			return false
		}
	}
	return true
}
