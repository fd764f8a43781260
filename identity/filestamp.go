package identity

import (
	"io/fs"
	"os"
	"time"
)

// fileStamp identifies one version of a file of the home. Files are
// replaced by rename, so a new version is a new inode: comparing with
// os.SameFile (plus size and time, for platforms without inodes) tells a
// process that another one changed the file.
type fileStamp struct {
	info fs.FileInfo // nil: the file did not exist
}

func stampOf(path string) fileStamp {
	info, err := os.Stat(path)
	if err != nil {
		return fileStamp{}
	}
	return fileStamp{info}
}

func (a fileStamp) same(b fileStamp) bool {
	if a.info == nil || b.info == nil {
		return a.info == nil && b.info == nil
	}
	return os.SameFile(a.info, b.info) && a.info.Size() == b.info.Size() && a.info.ModTime().Equal(b.info.ModTime())
}

// reloadEvery is how often a store looks at its file for changes made by
// another process (one stat call); a change reaches every running
// process within this time after its next use of the store.
const reloadEvery = 250 * time.Millisecond

// watchedFile is what a store knows of its file: the version its memory
// reflects and when it last looked. The store's mutex guards it.
type watchedFile struct {
	path    string
	every   time.Duration // how often to look; reloadEvery (0 in tests that must not wait)
	stamp   fileStamp
	checked time.Time
}

// look stats the file, at most once per every unless force, and says
// whether memory should re-read it: always when force, else when another
// version replaced the one memory reflects. It returns the version it saw,
// for the store to adopt after a good read.
func (w *watchedFile) look(force bool) (fileStamp, bool) {
	if !force && time.Since(w.checked) < w.every {
		return fileStamp{}, false
	}
	w.checked = time.Now()
	stamp := stampOf(w.path)
	return stamp, force || !stamp.same(w.stamp)
}
