package netlab

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"sync"
)

// Limits and names that every lab shares.
const (
	// DefaultPrefix starts every lab id unless Config.Prefix says otherwise.
	DefaultPrefix = "hl"
	// MaxReceivers bounds a lab so that addresses stay inside one /24 and a
	// typo cannot create thousands of namespaces.
	MaxReceivers = 64
	// MaxRateMbit bounds the tbf rate; above it shaping is pointless on veth.
	MaxRateMbit = 100_000
	// HostIface is the name of the veth end inside every host namespace.
	HostIface = "eth0"
	// BridgeName is the bridge inside the lab's bridge namespace.
	BridgeName = "br0"
	// NftTable is the nftables table (family inet) in every host namespace.
	NftTable = "netlab"
	// MulticastRoute is routed to eth0 in every host namespace; it is also the
	// only multicast range the output guard lets through.
	MulticastRoute = "239.0.0.0/8"
	// GuardUnicastRange is the only unicast range the output guard lets through.
	GuardUnicastRange = "198.18.0.0/15"
	// SubnetBits is the prefix length of every host address.
	SubnetBits = 24
	// tbfLimitBytes is the tbf queue: about txqueuelen 1000 of full frames, so
	// a sender with an ordinary socket buffer is slowed by back-pressure rather
	// than by drops, as on a real NIC.
	tbfLimitBytes = 1_500_000
	// tbfMinBurstBytes keeps the bucket above one jumbo-free frame train at
	// low rates.
	tbfMinBurstBytes = 16 * 1024
	// sweepLockSuffix ends lock file names.
	sweepLockSuffix = ".lock"
)

// Sentinel errors; callers test them with errors.Is.
var (
	ErrUnavailable = errors.New("netlab: network namespaces unavailable")
	ErrBadConfig   = errors.New("netlab: bad config")
	ErrClosed      = errors.New("netlab: lab closed")
	ErrUnknownHost = errors.New("netlab: host not in this lab")
)

// subnetBase is the first address of the lab subnet 198.18.0.0/24; the
// sender is .1 and receiver i (1-based) is .(i+1).
var subnetBase = netip.MustParseAddr("198.18.0.0")

// prefixPattern keeps namespace names short and free of shell or path
// characters: prefix + 4 hex + "-r64" stays well under 15 bytes.
var prefixPattern = regexp.MustCompile(`^[a-z]{1,6}$`)

// Config describes a lab to build.
type Config struct {
	// Receivers is the number of receiver hosts, 1..MaxReceivers.
	Receivers int
	// RateMbit shapes every host's egress with tbf; 0 means no shaping.
	RateMbit int
	// Prefix starts the lab id (lowercase letters, at most 6); the id is the
	// prefix plus 4 random hex digits. Empty means DefaultPrefix.
	Prefix string
	// Logger receives debug records of every command run; nil is silent.
	Logger *slog.Logger
}

// Host is one namespace of a lab.
type Host struct {
	// Name is the network namespace name, usable with `ip netns exec`.
	Name string
	// Addr is the host's address in 198.18.0.0/24.
	Addr netip.Addr
	// Iface is the interface name inside the namespace (always HostIface).
	Iface string
}

// Lab is a running lab. It is safe for concurrent use; after Close every
// method that changes the lab returns ErrClosed.
type Lab struct {
	// ID is the unique prefix of every namespace name of this lab.
	ID string
	// Sender is the sending host, 198.18.0.1.
	Sender Host
	// Receivers are the receiving hosts, 198.18.0.2 and up.
	Receivers []Host
	// BridgeNS is the namespace holding the bridge and the host-side peers.
	BridgeNS string

	log      *slog.Logger
	lock     *os.File
	mu       sync.Mutex
	closed   bool
	created  []string // namespaces created so far, in creation order
	rateMbit int
}

// New builds a lab. On any failure it removes whatever it had created.
// ctx bounds the setup only; the lab lives until Close.
func New(ctx context.Context, cfg Config) (*Lab, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if err := Available(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	prefix := cfg.Prefix
	if prefix == "" {
		prefix = DefaultPrefix
	}
	id, lock, err := claimID(ctx, prefix)
	if err != nil {
		return nil, err
	}
	l := &Lab{ID: id, BridgeNS: id + "-br", log: log, lock: lock, rateMbit: cfg.RateMbit}
	l.Sender = Host{Name: id + "-s", Addr: hostAddr(1), Iface: HostIface}
	for i := 1; i <= cfg.Receivers; i++ {
		l.Receivers = append(l.Receivers, Host{Name: id + "-r" + strconv.Itoa(i), Addr: hostAddr(i + 1), Iface: HostIface})
	}
	if err := l.build(ctx); err != nil {
		return nil, errors.Join(err, l.Close())
	}
	return l, nil
}

func (c Config) validate() error {
	switch {
	case c.Receivers < 1 || c.Receivers > MaxReceivers:
		return fmt.Errorf("%w: Receivers %d not in 1..%d", ErrBadConfig, c.Receivers, MaxReceivers)
	case c.RateMbit < 0 || c.RateMbit > MaxRateMbit:
		return fmt.Errorf("%w: RateMbit %d not in 0..%d", ErrBadConfig, c.RateMbit, MaxRateMbit)
	case c.Prefix != "" && !prefixPattern.MatchString(c.Prefix):
		return fmt.Errorf("%w: Prefix %q must be 1-6 lowercase letters", ErrBadConfig, c.Prefix)
	}
	return nil
}

func hostAddr(n int) netip.Addr {
	b := subnetBase.As4()
	b[3] = byte(n)
	return netip.AddrFrom4(b)
}

// Hosts returns the sender followed by the receivers.
func (l *Lab) Hosts() []Host {
	return append([]Host{l.Sender}, l.Receivers...)
}

// setHostname runs as `sh -c setHostname HOSTNAME PROGRAM ARGS...`: it names
// the fresh UTS namespace and execs the program, so the program keeps the
// process (its pid and rusage are the program's).
const setHostname = `echo "$0" > /proc/sys/kernel/hostname && exec "$@"`

// Command returns a command that runs name inside h's network namespace and
// in a UTS namespace of its own whose hostname is h.Name, so that every host
// looks like a separate machine to programs that derive a name from the
// hostname. The chain ip -> unshare -> sh -> name is exec, not fork, so the
// started process is name itself. It is killed when ctx ends. Command does
// not check that the lab is open: in a deleted namespace it fails to start.
func (l *Lab) Command(ctx context.Context, h Host, name string, args ...string) *exec.Cmd {
	argv := append([]string{"netns", "exec", h.Name, "unshare", "--uts", "--", "sh", "-c", setHostname, h.Name, name}, args...)
	return exec.CommandContext(ctx, "ip", argv...)
}

// KillProcesses SIGKILLs every process left in the lab's namespaces, for a
// benchmark that must start the next run on a clean lab even if a tool
// ignored SIGTERM or was orphaned.
func (l *Lab) KillProcesses(ctx context.Context) error {
	if err := l.checkOpen(); err != nil {
		return err
	}
	var errs []error
	for _, h := range l.Hosts() {
		errs = append(errs, killNamespaceProcesses(ctx, l.log, h.Name))
	}
	return errors.Join(errs...)
}

// Close kills every process left in the lab's namespaces, deletes the
// namespaces (which deletes their veths and the bridge) and releases the
// lock. It is idempotent and safe to call concurrently.
func (l *Lab) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	// Hosts first, the bridge namespace last: deleting a host namespace
	// removes its veth pair, so the bridge is empty when it goes.
	var errs []error
	for i := len(l.created) - 1; i >= 0; i-- {
		if err := deleteNamespace(context.Background(), l.log, l.created[i]); err != nil {
			errs = append(errs, err)
		}
	}
	l.created = nil
	if err := releaseLock(l.lock); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// checkOpen returns ErrClosed after Close. Callers hold no lock afterwards:
// a racing Close makes the following command fail, which is reported.
func (l *Lab) checkOpen() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	return nil
}

// member reports whether h belongs to this lab, so SetLoss cannot be
// pointed at a foreign namespace.
func (l *Lab) member(h Host) error {
	for _, own := range l.Hosts() {
		if own.Name == h.Name {
			return nil
		}
	}
	return fmt.Errorf("%w: %q", ErrUnknownHost, h.Name)
}
