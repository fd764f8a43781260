package netlab

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// probeTimeout bounds the whole Available probe.
const probeTimeout = 30 * time.Second

// Available reports whether labs can be built here: nil if the process is
// root, ip, nft, tc, sysctl, unshare and sh exist, and a probe namespace can hold a bridge, a
// veth pair, an nftables table and a tbf qdisc. Otherwise the error says
// what is missing, for t.Skip. The answer is computed once per process.
func Available() error { return availableOnce() }

var availableOnce = sync.OnceValue(func() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: needs root (euid %d)", ErrUnavailable, os.Geteuid())
	}
	var missing []string
	for _, tool := range []string{"ip", "nft", "tc", "sysctl", "unshare", "sh"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: missing %s (apt-get install -y iproute2 nftables procps util-linux)", ErrUnavailable, strings.Join(missing, ", "))
	}
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	if err := probe(ctx); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return nil
})

// probe builds and deletes a one-namespace miniature of a lab.
func probe(ctx context.Context) error {
	id, lock, err := claimID(ctx, DefaultPrefix)
	if err != nil {
		return err
	}
	log := slog.New(slog.DiscardHandler)
	ns := id + "-probe"
	steps := [][]string{
		{"ip", "netns", "add", ns},
		{"ip", "-n", ns, "link", "add", "pb", "type", "bridge", "mcast_snooping", "0", "mcast_querier", "0"},
		{"ip", "-n", ns, "link", "add", "pa", "type", "veth", "peer", "name", "pc"},
		{"ip", "netns", "exec", ns, "nft", "add", "table", "inet", NftTable},
		{"tc", "-n", ns, "qdisc", "add", "dev", "pa", "root", "tbf", "rate", "1mbit", "burst", "16k", "limit", "16k"},
	}
	var stepErr error
	for _, s := range steps {
		if _, stepErr = run(ctx, log, nil, s[0], s[1:]...); stepErr != nil {
			break
		}
	}
	return errors.Join(stepErr, deleteNamespace(ctx, log, ns), releaseLock(lock))
}
