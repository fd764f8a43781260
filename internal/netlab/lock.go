package netlab

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockDir holds one lock file per live lab id. A variable so tests could
// point it elsewhere; /run is a tmpfs, so stale files vanish on reboot.
var lockDir = "/run/herald-netlab"

// claimAttempts bounds the search for a free random id.
const claimAttempts = 16

// errLockBusy means another live process holds the id.
var errLockBusy = errors.New("netlab: lab id in use")

// claimID picks prefix + 4 random hex digits that no live lab holds, locks
// it, and removes namespaces a crashed owner of the same id left behind.
func claimID(ctx context.Context, prefix string) (string, *os.File, error) {
	for range claimAttempts {
		var raw [2]byte
		if _, err := rand.Read(raw[:]); err != nil {
			return "", nil, err
		}
		id := prefix + hex.EncodeToString(raw[:])
		lock, err := tryLock(id)
		if errors.Is(err, errLockBusy) {
			continue
		}
		if err != nil {
			return "", nil, err
		}
		if err := removeLabNamespaces(ctx, id); err != nil {
			return "", nil, errors.Join(err, releaseLock(lock))
		}
		return id, lock, nil
	}
	return "", nil, fmt.Errorf("%w: no free lab id with prefix %q after %d attempts", errLockBusy, prefix, claimAttempts)
}

// tryLock takes a non-blocking exclusive flock on id's lock file. The lock
// is released by the kernel when the process dies, which is what makes a lab
// stale. After locking it checks that the file is still the one at the path,
// since an owner removes its file on Close.
func tryLock(id string) (*os.File, error) {
	if err := os.MkdirAll(lockDir, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(lockDir, id+sweepLockSuffix)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errLockBusy
		}
		return nil, fmt.Errorf("netlab: lock %s: %w", path, err)
	}
	held, errHeld := f.Stat()
	onDisk, errDisk := os.Stat(path)
	if errHeld != nil || errDisk != nil || !os.SameFile(held, onDisk) {
		f.Close()
		return nil, errLockBusy
	}
	fmt.Fprintf(f, "%d\n", os.Getpid())
	return f, nil
}

// releaseLock removes the lock file while still holding the lock, then
// unlocks by closing.
func releaseLock(f *os.File) error {
	if f == nil {
		return nil
	}
	return errors.Join(os.Remove(f.Name()), f.Close())
}
