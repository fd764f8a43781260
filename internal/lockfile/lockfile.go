// Package lockfile keeps two processes from doing the same job on one
// home: the first takes an exclusive lock on a file and writes its
// process id there, the second learns which process holds it.
package lockfile

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ErrHeld: another process holds the lock.
var ErrHeld = errors.New("lock held by another process")

// HeldError says which process holds the lock.
type HeldError struct {
	Path string
	PID  int // 0 when it could not be read
}

func (e *HeldError) Error() string {
	if e.PID == 0 {
		return fmt.Sprintf("%s: %v", e.Path, ErrHeld)
	}
	return fmt.Sprintf("%s: %v (pid %d)", e.Path, ErrHeld, e.PID)
}

func (e *HeldError) Unwrap() error { return ErrHeld }

// Lock is a held lock. The operating system releases it when the process
// ends, however it ends, so a crash leaves no stale lock behind.
type Lock struct{ f *os.File }

// Acquire takes the lock at path, creating the file, or returns a
// *HeldError when another process holds it.
func Acquire(path string) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := tryLock(f); err != nil {
		b := make([]byte, 32)
		n, _ := f.ReadAt(b, 0)
		f.Close()
		if !errors.Is(err, errWouldBlock) {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b[:n])))
		return nil, &HeldError{Path: path, PID: pid}
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f}, nil
}

// Release gives the lock up. The file stays, empty of meaning until the
// next Acquire overwrites the process id.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing drops the lock
	l.f = nil
	return err
}
