package node

import (
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/protocol"
	"github.com/herald-lan/herald/replay"
)

// Node is one running herald process on the LAN. The exported fields are
// set by Open and never reassigned, so reading them is safe from any
// goroutine; the objects they point to document their own concurrency.
// Every method is safe for concurrent use.
type Node struct {
	ID       *identity.Identity
	Trust    *identity.TrustStore
	Channels *identity.ChannelStore
	Signer   *protocol.Signer
	Replay   *replay.Guard
	Net      multicast.Network
	Control  netip.AddrPort // control group and port
	Logger   *slog.Logger

	Home    string // the home directory the state was loaded from
	Created bool   // Open created a new identity in Home

	now func() time.Time
	// self and epoch identify this process's own packets (package doc).
	self  [protocol.SenderLen]byte
	epoch uint64

	mu      sync.Mutex
	state   runState
	reading bool           // Run started the reader; only Run may close subscribers then
	conn    multicast.Conn // control group; opened by Join, Send or Run
	subs    subscribers
	stats   counters

	skewWarned time.Time    // last clock-skew warning; handled under handleMu
	versions   versionWatch // protocol versions heard (SPEC.md §3.5); handled under handleMu

	replaySaveFailing atomic.Bool // a replay-state save failed and was reported

	// handleMu lets one reader at a time run handle, so the control and
	// unicast readers keep the single-reader guarantees of the package doc.
	handleMu sync.Mutex
	// uni is the unicast state (SPEC.md §5.2); unicastOn and unicastAt are
	// fixed at Open, ucast is opened with the control connection (n.mu).
	uni       *unicastPaths
	unicastOn bool
	unicastAt netip.AddrPort
	ucast     *net.UDPConn
	probes    []probeTally // under handleMu (probe.go)
	sinks     dataSinks    // push sessions taking unicast data (unicast_data.go)
}

type runState int

const (
	idle runState = iota
	running
	closed
)

// Open loads (or creates) the identity in cfg.Home, opens its trust and
// channel stores and prepares the transport. It does not touch the
// network: the control group is joined by the first Send or by Run.
func Open(cfg Config) (*Node, error) {
	control, err := cfg.controlGroup()
	if err != nil {
		return nil, err
	}
	static, err := cfg.staticPeers(control)
	if err != nil {
		return nil, err
	}
	home := cfg.Home
	if home == "" {
		if home, err = identity.DefaultHome(); err != nil {
			return nil, err
		}
	}
	name := cfg.Name
	if name == "" {
		name = DefaultName()
	}
	id, created, err := identity.LoadOrCreate(home, name)
	if err != nil {
		return nil, err
	}
	trust, err := identity.OpenTrustStore(home)
	if err != nil {
		return nil, err
	}
	channels, err := identity.OpenChannelStore(home)
	if err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	network := cfg.Network
	if network == nil {
		if network, err = newUDP(cfg, log); err != nil {
			return nil, err
		}
	}
	n := &Node{
		ID:        id,
		Trust:     trust,
		Channels:  channels,
		Signer:    protocol.NewSigner(id.SignKey),
		Replay:    replay.NewGuard(replay.Config{Now: now}),
		Net:       network,
		Control:   control,
		Logger:    log,
		Home:      home,
		Created:   created,
		now:       now,
		uni:       newUnicastPaths(static),
		unicastOn: cfg.Network == nil || cfg.Unicast.IsValid(),
		unicastAt: cfg.Unicast,
	}
	n.Replay.SetProtected(n.protectedKey)
	n.loadReplayState()
	if n.unicastOn {
		n.uni.loadDeaf(home, now())
	}
	// The Signer does not expose its epoch; one envelope reveals it at
	// the cost of counter 1, which is simply never sent.
	first := n.Signer.Next()
	n.self, n.epoch = first.Sender, first.Epoch
	return n, nil
}

// newUDP prepares the real multicast transport from cfg. The sockets
// come later, on the first Listen (lazyNetwork).
func newUDP(cfg Config, log *slog.Logger) (multicast.Network, error) {
	ttl := cfg.TTL
	if ttl == 0 {
		ttl = 1
	}
	if ttl < 0 || ttl > 255 {
		return nil, fmt.Errorf("%w: ttl %d not in 1..255", ErrConfig, ttl)
	}
	// Loopback stays on (the multicast default): peers on this host hear
	// us, and our own packets are dropped by epoch (package doc).
	return &lazyNetwork{cfg: multicast.Config{Iface: cfg.Iface, TTL: ttl, Logger: log}}, nil
}

// Now is the Node's clock (Config.Now or time.Now).
func (n *Node) Now() time.Time { return n.now() }

// Listen joins group on the Node's transport, for engines that need a
// data or feedback group. The caller owns and closes the Conn.
func (n *Node) Listen(group netip.AddrPort) (multicast.Conn, error) {
	conn, err := n.Net.Listen(group)
	if err != nil {
		return nil, fmt.Errorf("%w: join %s: %w", ErrNetwork, group, err)
	}
	return conn, nil
}

// SenderTrust says who signed with pub as a person should see it: its
// label (identity.Label: the name it claims, disambiguated when several
// keys use it; the fingerprint for a key never heard), its fingerprint,
// and whether the user trusts it. This node's own key is trusted under
// its own name.
func (n *Node) SenderTrust(pub ed25519.PublicKey) (label string, fp string, trusted bool) {
	if n.ID.SignPub.Equal(pub) {
		return n.ID.Name, n.ID.Fingerprint(), true
	}
	if len(pub) != ed25519.PublicKeySize {
		return "", "", false
	}
	p, ok := n.Trust.Lookup(pub)
	return n.Trust.Label(pub, ""), identity.Fingerprint(pub), ok && p.Trusted
}
