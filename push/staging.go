package push

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Staging folders (SPEC.md §6.8): a push is written into
// "<dir>/.herald-<content id>" and moved into place when every block
// verified. A push that stopped early (sender gone, disk full, Ctrl-C)
// leaves its folder so the next push of the same content resumes from
// the blocks it kept. Folders untouched for StagingMaxAge are removed
// when a receiver starts; CleanStaging removes them on request
// (`herald receive --clean`).
const StagingMaxAge = 7 * 24 * time.Hour

// StagingPrefix starts the name of every staging folder.
const StagingPrefix = ".herald-"

// isStagingName reports whether name is one this package makes.
func isStagingName(name string) bool {
	id, ok := strings.CutPrefix(name, StagingPrefix)
	if !ok || len(id) != 16 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

// StagingDirs lists the staging folders in dir with their last change.
func StagingDirs(dir string) (map[string]time.Time, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := map[string]time.Time{}
	for _, e := range entries {
		if !e.IsDir() || !isStagingName(e.Name()) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		when := time.Time{}
		if st, err := os.Stat(filepath.Join(p, stateFile)); err == nil {
			when = st.ModTime()
		} else if st, err := os.Stat(p); err == nil {
			when = st.ModTime()
		}
		out[p] = when
	}
	return out, nil
}

// CleanStaging removes the staging folders in dir untouched for at least
// olderThan (0: all of them) and returns their paths. Partial pushes in
// them can no longer be resumed.
func CleanStaging(dir string, olderThan time.Duration, now time.Time) ([]string, error) {
	dirs, err := StagingDirs(dir)
	if err != nil {
		return nil, err
	}
	var removed []string
	for p, when := range dirs {
		if olderThan > 0 && now.Sub(when) < olderThan {
			continue
		}
		if err := os.RemoveAll(p); err != nil {
			return removed, err
		}
		removed = append(removed, p)
	}
	return removed, nil
}

// cleanStale applies the age-out policy when a receiver starts.
func (r *receiver) cleanStale(now time.Time) {
	removed, _ := CleanStaging(r.cfg.Dir, StagingMaxAge, now)
	for _, p := range removed {
		r.cfg.OnEvent(Event{Kind: EventProgress, Name: "removed a partial push untouched for 7 days: " + p, Time: now})
	}
}
