package netlab

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// labRoles are the suffixes of a lab's namespace names after "<id>-".
const labRolePattern = `(s|br|probe|r[0-9]{1,3})`

// Sweep removes the namespaces and lock files of stale labs whose id starts
// with prefix (empty means DefaultPrefix): labs whose owning process died
// without Close. Live labs, held by a lock, are left alone, so Sweep is safe
// to call while other tests run. It returns the namespaces it deleted.
func Sweep(ctx context.Context, prefix string) ([]string, error) {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if !prefixPattern.MatchString(prefix) {
		return nil, fmt.Errorf("%w: sweep prefix %q must be 1-6 lowercase letters", ErrBadConfig, prefix)
	}
	names, err := listNamespaces(ctx)
	if err != nil {
		return nil, err
	}
	idOf := regexp.MustCompile(`^(` + prefix + `[0-9a-f]{4})-` + labRolePattern + `$`)
	ids := map[string]bool{}
	for _, n := range names {
		if m := idOf.FindStringSubmatch(n); m != nil {
			ids[m[1]] = true
		}
	}
	// Lock files without namespaces are stale too (crash between lock and
	// first namespace).
	lockOf := regexp.MustCompile(`^(` + prefix + `[0-9a-f]{4})` + regexp.QuoteMeta(sweepLockSuffix) + `$`)
	if entries, err := os.ReadDir(lockDir); err == nil {
		for _, e := range entries {
			if m := lockOf.FindStringSubmatch(e.Name()); m != nil {
				ids[m[1]] = true
			}
		}
	}
	var removed []string
	var errs []error
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		lock, err := tryLock(id)
		if errors.Is(err, errLockBusy) {
			continue // live lab
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, n := range names {
			if strings.HasPrefix(n, id+"-") {
				removed = append(removed, n)
			}
		}
		errs = append(errs, removeLabNamespaces(ctx, id), releaseLock(lock))
	}
	return removed, errors.Join(errs...)
}

// removeLabNamespaces deletes every namespace named "<id>-<role>", hosts
// before the bridge namespace. The caller holds id's lock.
func removeLabNamespaces(ctx context.Context, id string) error {
	names, err := listNamespaces(ctx)
	if err != nil {
		return err
	}
	own := regexp.MustCompile(`^` + regexp.QuoteMeta(id) + `-` + labRolePattern + `$`)
	var mine []string
	for _, n := range names {
		if own.MatchString(n) {
			mine = append(mine, n)
		}
	}
	// Sorting puts "-br" first; reverse it to delete hosts first.
	slices.Sort(mine)
	slices.Reverse(mine)
	var errs []error
	for _, n := range mine {
		errs = append(errs, deleteNamespace(ctx, slog.New(slog.DiscardHandler), n))
	}
	return errors.Join(errs...)
}

// listNamespaces returns the names of all named network namespaces.
func listNamespaces(ctx context.Context) ([]string, error) {
	out, err := run(ctx, slog.New(slog.DiscardHandler), nil, "ip", "netns", "list")
	if err != nil {
		return nil, err
	}
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) > 0 {
			names = append(names, f[0])
		}
	}
	return names, sc.Err()
}

// deleteNamespace kills the processes still inside ns (they were started in
// a lab namespace, so by the lab's user) and deletes it. Killing first makes
// the namespace, and with it its veth, disappear at once rather than when
// the last process exits. A namespace that is already gone is not an error.
func deleteNamespace(ctx context.Context, log *slog.Logger, ns string) error {
	if _, err := os.Stat(filepath.Join("/run/netns", ns)); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	_ = killNamespaceProcesses(ctx, log, ns) // best effort: deletion works regardless
	_, err := run(ctx, log, nil, "ip", "netns", "del", ns)
	return err
}

// killNamespaceProcesses SIGKILLs every process inside ns.
func killNamespaceProcesses(ctx context.Context, log *slog.Logger, ns string) error {
	out, err := run(ctx, log, nil, "ip", "netns", "pids", ns)
	if err != nil {
		return err
	}
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil && pid > 1 && pid != os.Getpid() {
			_ = syscall.Kill(pid, syscall.SIGKILL) // may have exited meanwhile
		}
	}
	return nil
}
