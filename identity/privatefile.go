package identity

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// File modes for the home and the files in it.
const (
	homeMode    fs.FileMode = 0o700
	privateMode fs.FileMode = 0o600
	// maxPrivateFile bounds what is read from the home: a full trust store
	// (MaxPeers peers) is about 1.5 MiB of JSON.
	maxPrivateFile = 8 << 20
)

// ensureHome creates the home directory (and parents) if missing.
func ensureHome(home string) error {
	if home == "" {
		return errors.New("identity: empty home directory path")
	}
	if err := os.MkdirAll(home, homeMode); err != nil {
		return fmt.Errorf("identity: create home %s: %w", home, err)
	}
	return nil
}

// readPrivateFile reads a file of the home, refusing one that group or
// others may access: it holds secrets or decides whom to believe.
// A missing file returns an error matching fs.ErrNotExist.
func readPrivateFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	// Windows has no POSIX modes; its ACLs are the user's business.
	if perm := info.Mode().Perm(); runtime.GOOS != "windows" && perm&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %04o, accessible to group or others; run: chmod 600 %s",
			ErrInsecurePermissions, path, perm, path)
	}
	if info.Size() > maxPrivateFile {
		return nil, fmt.Errorf("%w: %s is %d bytes, more than %d", ErrCorrupt, path, info.Size(), maxPrivateFile)
	}
	return io.ReadAll(io.LimitReader(f, maxPrivateFile+1))
}

// writeFileAtomic writes data to path with mode 0600 so that readers see
// either the old or the new content, never a mix, even across a crash.
// With replace false an existing file is left alone and an error matching
// fs.ErrExist is returned; that is how two processes racing to create an
// identity end up sharing one.
func writeFileAtomic(path string, data []byte, replace bool) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	tmpName := tmp.Name()
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmpName)
		}
	}()
	// CreateTemp already uses 0600; Chmod documents it and survives umask.
	if err = tmp.Chmod(privateMode); err != nil {
		return err
	}
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if replace {
		err = os.Rename(tmpName, path)
	} else {
		// link fails if path exists, which rename would silently overwrite.
		err = os.Link(tmpName, path)
		if err == nil {
			os.Remove(tmpName)
		}
	}
	if err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename durable; not every platform can fsync a
// directory, so failure to open or sync it is not an error.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return nil
	}
	defer d.Close()
	_ = d.Sync()
	return nil
}

// loadJSON decodes a private file into v. It reports false, nil when the
// file does not exist.
func loadJSON(path string, v any) (bool, error) {
	data, err := readPrivateFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("%w: %s: %v", ErrCorrupt, path, err)
	}
	return true, nil
}

// saveJSON encodes v, indented for people who open the file, and writes
// it atomically.
func saveJSON(path string, v any, replace bool) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(data, '\n'), replace)
}

// checkVersion rejects a file written by a format this code does not know.
func checkVersion(path string, got, want int) error {
	if got != want {
		return fmt.Errorf("%w: %s has format version %d, this herald reads version %d", ErrCorrupt, path, got, want)
	}
	return nil
}
