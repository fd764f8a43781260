package push

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"

	"github.com/herald-lan/herald/protocol"
)

// ErrSymlink refuses to push a symbolic link (SPEC.md §6.4.1).
var ErrSymlink = errors.New("push: symbolic links are not pushed")

// Source is the content stream of a push: every regular file of the
// manifest, concatenated in order. Not safe for concurrent use.
type Source struct {
	Files []protocol.FileEntry
	local []string // local path of Files[i]; "" for directories
	start []int64  // stream offset of Files[i]
	total int64

	cur    *os.File
	curIdx int
}

// NewSource walks paths (files or directories) into a manifest file list.
// A directory is pushed as a tree named by its base name.
func NewSource(paths []string) (*Source, error) {
	s := &Source{curIdx: -1}
	seen := map[string]bool{}
	for _, p := range paths {
		root := filepath.Clean(p)
		base := filepath.Base(root)
		err := filepath.WalkDir(root, func(local string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, local)
			name := path.Join(base, filepath.ToSlash(rel))
			if rel == "." {
				name = base
			}
			if seen[name] {
				return fmt.Errorf("push: %s given twice", name)
			}
			seen[name] = true
			info, err := d.Info()
			if err != nil {
				return err
			}
			switch {
			case info.Mode()&fs.ModeSymlink != 0:
				return fmt.Errorf("%w: %s (push the target instead)", ErrSymlink, local)
			case info.IsDir():
				s.add(protocol.FileEntry{Kind: protocol.KindDir, Mode: uint32(info.Mode().Perm()), Path: name}, "")
			case info.Mode().IsRegular():
				s.add(protocol.FileEntry{Kind: protocol.KindFile, Mode: uint32(info.Mode().Perm()), Size: uint64(info.Size()), Path: name}, local)
			default:
				return fmt.Errorf("push: %s is not a regular file or directory", local)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if len(s.Files) == 0 {
		return nil, errors.New("push: nothing to push")
	}
	if len(s.Files) > protocol.MaxFiles {
		return nil, fmt.Errorf("push: %d files, more than the %d a push carries", len(s.Files), protocol.MaxFiles)
	}
	for _, f := range s.Files {
		if err := checkPath(f.Path); err != nil {
			return nil, fmt.Errorf("%w (receivers would refuse it; rename it)", err)
		}
	}
	return s, nil
}

func (s *Source) add(f protocol.FileEntry, local string) {
	s.Files = append(s.Files, f)
	s.local = append(s.local, local)
	s.start = append(s.start, s.total)
	s.total += int64(f.Size)
}

// Size is the length of the content stream.
func (s *Source) Size() int64 { return s.total }

// ReadAt reads the content stream across file boundaries. A file that
// changed size since NewSource makes it fail rather than send a lie.
func (s *Source) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) && off < s.total {
		i := fileHolding(s.Files, s.start, off) // off < s.total: always found
		f, err := s.open(i)
		if err != nil {
			return n, err
		}
		within := off - s.start[i]
		want := min(int64(len(p)-n), int64(s.Files[i].Size)-within)
		m, err := f.ReadAt(p[n:n+int(want)], within)
		n += m
		off += int64(m)
		if m < int(want) {
			if err == nil || errors.Is(err, io.EOF) {
				err = fmt.Errorf("push: %s shrank while pushing", s.local[i])
			}
			return n, err
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (s *Source) open(i int) (*os.File, error) {
	if s.curIdx == i {
		return s.cur, nil
	}
	if s.cur != nil {
		s.cur.Close()
	}
	f, err := os.Open(s.local[i])
	if err != nil {
		s.cur, s.curIdx = nil, -1
		return nil, err
	}
	s.cur, s.curIdx = f, i
	return f, nil
}

// Close releases the open file.
func (s *Source) Close() error {
	if s.cur != nil {
		s.curIdx = -1
		return s.cur.Close()
	}
	return nil
}

// newManifest is the manifest of the source laid out as l with its block
// hashes still zero: its length, and so the announce, does not depend on
// them.
func (s *Source) newManifest(l layout) (*protocol.Manifest, error) {
	if l.blocks > protocol.MaxBlocks {
		return nil, fmt.Errorf("push: %d bytes need %d blocks, more than %d, the most a push can hold", s.total, l.blocks, protocol.MaxBlocks)
	}
	m := &protocol.Manifest{Files: s.Files, Hashes: make([][protocol.HashLen]byte, l.blocks)}
	if m.Len() > protocol.MaxManifestLen {
		return nil, fmt.Errorf("push: file list too large (%d bytes)", m.Len())
	}
	return m, nil
}

// hashBlocks fills in m's block hashes, every block of the stream cut as
// l says. Blocks are hashed by up to 4 workers, each reading through its
// own file handles, so a big push is ready sooner on a multi-core sender.
// Hashing a big push takes seconds: it stops with ctx's error once ctx is
// done (Ctrl-C before the first byte is sent). It returns when every
// worker ended.
func (s *Source) hashBlocks(ctx context.Context, l layout, m *protocol.Manifest) error {
	workers := min(4, runtime.GOMAXPROCS(0))
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			r := &Source{Files: s.Files, local: s.local, start: s.start, total: s.total, curIdx: -1}
			defer r.Close()
			buf := make([]byte, l.blockSize())
			for i := w; i < l.blocks; i += workers {
				if err := ctx.Err(); err != nil {
					errs <- err
					return
				}
				off, n := l.blockRange(i)
				if _, err := r.ReadAt(buf[:n], off); err != nil {
					errs <- err
					return
				}
				m.Hashes[i] = blockHash(l.code(i), buf[:n])
			}
			errs <- nil
		}()
	}
	var first error
	for range workers {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// SpoolStdin copies r into a temp file so a stream can be pushed with
// known size and hashes; the caller removes the returned directory.
func SpoolStdin(r io.Reader, name string) (path, dir string, err error) {
	if err := checkName(name); err != nil {
		return "", "", fmt.Errorf("push: name %q: %v", name, err)
	}
	dir, err = os.MkdirTemp("", "herald-stdin-")
	if err != nil {
		return "", "", err
	}
	path = filepath.Join(dir, name)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o644)
	if err == nil {
		_, err = io.Copy(f, r)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		os.RemoveAll(dir)
		return "", "", err
	}
	return path, dir, nil
}
