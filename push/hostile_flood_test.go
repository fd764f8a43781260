package push

import (
	"crypto/ed25519"
	"crypto/rand"
	"math"
	"net/netip"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/protocol"
)

// Memory caps for the flood tests (HeapInuse of the whole test process,
// which holds the sender, two receivers and the in-memory network with
// its 4096-datagram queues): what a flood may add at its peak, and what
// may remain once the push is over and the garbage is collected.
const (
	floodPeakCap = 96 << 20
	floodKeepCap = 32 << 20
)

// Time limits of the flood tests. Every flooded datagram queued at a node
// (4096 per queue) costs a signature check before the real announce
// behind it is read: under -race on a busy 2-core machine that backlog
// takes from seconds to tens of seconds, so the push is not judged by a
// wall-clock budget for the flood. floodRead waits (up to
// floodBacklogLimit) until every receiver has read past the flood; from
// then on their queues hold only the sender's packets, and the push must
// register them within joinAfterFlood (its announce repeats every 250 ms).
const (
	floodBacklogLimit = 2 * time.Minute
	joinAfterFlood    = 20 * time.Second
)

// heapWatch samples HeapInuse until stopped and reports the peak.
type heapWatch struct {
	base, peak uint64
	stop       chan struct{}
	wg         sync.WaitGroup
}

func watchHeap() *heapWatch {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	w := &heapWatch{base: ms.HeapInuse, peak: ms.HeapInuse, stop: make(chan struct{})}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		for {
			select {
			case <-w.stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			w.peak = max(w.peak, ms.HeapInuse)
		}
	}()
	return w
}

// done stops sampling and returns peak growth and growth kept after GC.
func (w *heapWatch) done() (peak, kept int64) {
	close(w.stop)
	w.wg.Wait()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(w.peak) - int64(w.base), int64(ms.HeapInuse) - int64(w.base)
}

// fakeAnnounce is a well-formed announce of a fresh session.
func fakeAnnounce() protocol.Announce {
	return protocol.Announce{Session: protocol.SessionID(randomBytes(8)), KeyMode: protocol.KeyModePublic, K: 64, ShardSize: 1344,
		Blocks: 1, TotalSize: 1000, ManifestLen: 100, ManifestParts: 1, Grants: 1}
}

// announceFlood signs n announces of distinct sessions by keys signers,
// round robin.
func announceFlood(n int, signers []*protocol.Signer) [][]byte {
	out := make([][]byte, 0, n)
	for i := range n {
		pkt, _ := signers[i%len(signers)].Append(nil, fakeAnnounce())
		out = append(out, pkt)
	}
	return out
}

func newSigners(t *testing.T, n int) ([]*protocol.Signer, []ed25519.PublicKey) {
	var signers []*protocol.Signer
	var pubs []ed25519.PublicKey
	for range n {
		pub, key, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		signers = append(signers, protocol.NewSigner(key))
		pubs = append(pubs, pub)
	}
	return signers, pubs
}

// The offer table stays within its bounds under thousands of announces,
// refusals are rate limited, and a real announce afterwards is admitted.
func TestOfferTableBounded(t *testing.T) {
	cases := []struct {
		name    string
		keys    int
		trusted bool
	}{
		{"one untrusted key", 1, false},
		{"many untrusted keys", 500, false},
		{"one trusted key", 1, true},
		{"many trusted keys", 100, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			net := multicast.NewMemNet(1)
			n, err := node.Open(node.Config{Home: t.TempDir(), Name: "r", Network: net.Host(multicast.Link{})})
			if err != nil {
				t.Fatal(err)
			}
			signers, pubs := newSigners(t, c.keys)
			real := newRogue(t, &memLab{net: net, sender: n})
			cfg := ReceiveConfig{Node: n, Dir: t.TempDir(), From: []ed25519.PublicKey{real.key.Public().(ed25519.PublicKey)}}
			if c.trusted {
				cfg.From = append(cfg.From, pubs...)
			}
			cfg = cfg.withDefaults()
			r, err := newReceiver(cfg)
			if err != nil {
				t.Fatal(err)
			}
			deliver := func(pkt []byte) {
				s, err := protocol.ParseSigned(pkt)
				if err != nil {
					t.Fatal(err)
				}
				r.onAnnounce(t.Context(), node.Packet{Signed: s, Raw: pkt})
			}
			flood := announceFlood(5000, signers)
			start := time.Now()
			for _, pkt := range flood {
				deliver(pkt)
			}
			elapsed := time.Since(start)
			perSender := map[[32]byte]int{}
			for _, o := range r.offers {
				perSender[o.sender]++
			}
			if len(r.offers) > maxOffers {
				t.Errorf("%d offers, bound %d", len(r.offers), maxOffers)
			}
			for _, count := range perSender {
				if count > maxOffersPerSender {
					t.Errorf("one sender holds %d offers, bound %d", count, maxOffersPerSender)
				}
			}
			refusals := net.Stats().Sent
			if limit := uint64(maxRefusalsPerSec * (math.Ceil(elapsed.Seconds()) + 1)); refusals > limit {
				t.Errorf("%d refusals sent in %v, limit %d", refusals, elapsed, limit)
			}
			t.Logf("%d offers from %d senders, %d refusals sent in %v", len(r.offers), len(perSender), refusals, elapsed.Round(time.Millisecond))
			a := fakeAnnounce()
			pkt, _ := real.signer.Append(nil, a)
			deliver(pkt)
			if o := r.offers[sessionKey{real.pub(), a.Session}]; o == nil || o.refused {
				t.Fatalf("a real announce after the flood was not admitted: %+v", o)
			}
		})
	}
}

// Floods at receivers during a real push: junk datagrams, and thousands
// of announces of fake sessions. Memory stays under the caps above and
// the push completes.
func TestFloodDuringPush(t *testing.T) {
	cases := []struct {
		name    string
		keys    int  // announce flood from this many keys (0: junk flood)
		trusted bool // receivers accept the flooding keys
	}{
		{"100k junk datagrams", 0, false},
		{"5000 announces, one untrusted key", 1, false},
		{"5000 announces, 500 untrusted keys", 500, false},
		{"5000 announces, one trusted key", 1, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := newMemLab(t, 2, multicast.Link{})
			signers, pubs := newSigners(t, max(c.keys, 1))
			logs := serve(t, l, func(_ int, rc *ReceiveConfig) {
				rc.AcceptAny = false
				rc.From = []ed25519.PublicKey{l.sender.ID.SignPub}
				if c.trusted {
					rc.From = append(rc.From, pubs...)
				}
			})
			rg := newRogue(t, l)
			ctl := rg.listen(rg.ctl)
			ctlIn := make(chan []byte, 1<<14)
			go capture(rg.listen(rg.ctl), ctlIn)
			var flood [][]byte
			if c.keys == 0 {
				junk := junkFor(protocol.SessionID{}, mustAnnounce(rg))
				for len(flood) < 100_000 {
					flood = append(flood, junk...)
				}
				flood = flood[:100_000]
			} else {
				flood = announceFlood(5000, signers)
			}
			w := watchHeap()
			session := make(chan protocol.SessionID, 1)
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { // on the control group, and (junk) on the push's data group once known
				defer wg.Done()
				var data netip.AddrPort
				for i := 0; i < len(flood); i += 64 {
					select {
					case sid := <-session:
						data, _ = rg.groups(sid)
					default:
					}
					batch := flood[i:min(i+64, len(flood))]
					ctl.WriteBatch(batch, rg.ctl)
					if data.IsValid() && c.keys == 0 {
						ctl.WriteBatch(batch, data)
					}
					time.Sleep(100 * time.Microsecond)
				}
			}()
			time.Sleep(20 * time.Millisecond)
			// The real announce competes with the flood for the receivers'
			// queues; it is repeated every 250 ms and must get through.
			joined := make(chan string, len(l.receivers))
			p := startPush(t, l, 1<<20, func(cfg *SendConfig) {
				cfg.Wait = floodBacklogLimit // judged below, once the backlog is read
				cfg.OnEvent = func(e Event) {
					if e.Kind == EventJoined {
						select { // one per receiver; never block the sender
						case joined <- e.Name:
						default:
						}
					}
				}
			})
			a, _ := sniffAnnounce(t, ctlIn, [32]byte(l.sender.ID.SignPub))
			session <- a.Session
			wg.Wait()
			flooded := time.Now()
			floodRead(t, l)
			read := time.Now()
			timeout := time.After(joinAfterFlood)
			for range l.receivers {
				select {
				case <-joined:
				case <-timeout:
					t.Fatalf("the receivers had read the whole flood, yet the real push did not register them within %v more", joinAfterFlood)
				}
			}
			t.Logf("flood sent; receivers read past it %v later; both registered by %v after that",
				read.Sub(flooded).Round(time.Millisecond), time.Since(read).Round(time.Millisecond))
			p.check(t, l, logs, 0, 1)
			peak, kept := w.done()
			st := l.receivers[0].Stats()
			t.Logf("%d datagrams flooded; heap growth: peak %.1f MiB, kept %.1f MiB; receiver 0: malformed %d, bad signature %d, queue drops %v, net drops %d",
				len(flood), float64(peak)/(1<<20), float64(kept)/(1<<20), st.Malformed, st.BadSignature, st.Dropped, l.net.Stats().QueueDropped)
			if peak > floodPeakCap || kept > floodKeepCap {
				t.Errorf("heap grew %d bytes at peak (cap %d), kept %d (cap %d)", peak, floodPeakCap, kept, floodKeepCap)
			}
		})
	}
}

// mustAnnounce is a signed announce of a fake session, as a template for
// junk.
func mustAnnounce(rg *rogue) []byte {
	pkt, _ := rg.signer.Append(nil, fakeAnnounce())
	return pkt
}

// floodRead returns once every receiver has read past the flood. A marker
// announce, sent after the flood from another host with a key that no
// receiver trusts, is refused (a status on the marker's feedback group)
// only when the receiver's run loop reached it, and control queues are
// first in, first out. The marker repeats every 250 ms, since a full
// queue drops it; a receiver reminds a refused sender once a second.
func floodRead(t *testing.T, l *memLab) {
	t.Helper()
	m := newRogue(t, l)
	a := fakeAnnounce()
	_, fbGroup := m.groups(a.Session)
	refusals := make(chan []byte, 256)
	go capture(m.listen(fbGroup), refusals)
	ctl := m.listen(m.ctl)
	pending := map[[32]byte]bool{}
	for _, r := range l.receivers {
		pending[[32]byte(r.ID.SignPub)] = true
	}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(floodBacklogLimit)
	for len(pending) > 0 {
		pkt, _ := m.signer.Append(nil, a)
		ctl.WriteBatch([][]byte{pkt}, m.ctl)
	wait:
		for len(pending) > 0 {
			select {
			case b := <-refusals:
				s, err := protocol.ParseSigned(b)
				if err != nil || s.Type != protocol.TypeStatus {
					continue
				}
				if st, err := protocol.ParseStatus(s.Body); err == nil && st.Session == a.Session && st.State == protocol.StateRefused {
					delete(pending, s.Sender)
				}
			case <-tick.C:
				break wait
			case <-deadline:
				t.Fatalf("%d receivers did not read past the flood within %v", len(pending), floodBacklogLimit)
			}
		}
	}
}
