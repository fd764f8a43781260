package push

import (
	"net/netip"
	"testing"
	"time"

	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/protocol"
)

// insiderView is what a receiver of the push knows and holds once it
// joined: the announce, the session keys, and the data group.
type insiderView struct {
	a    protocol.Announce
	keys sessionKeys
	data netip.AddrPort
	conn multicast.Conn // the rogue's socket on the data group
	in   chan []byte    // what it hears there
}

// insiderJoins sniffs the push's announce and grant from ctlIn, opens the
// grant with insider's key, and puts the rogue on the data group.
func insiderJoins(t *testing.T, l *memLab, rg *rogue, ctlIn <-chan []byte, insider *node.Node) insiderView {
	t.Helper()
	sender := [32]byte(l.sender.ID.SignPub)
	a, _ := sniffAnnounce(t, ctlIn, sender)
	g, env := sniffGrant(t, ctlIn, sender, a.Session)
	key, err := openGrant(a.KeyMode, g, env.Envelope, insider.ID, nil)
	if err != nil {
		t.Fatalf("the insider cannot open its own grant: %v", err)
	}
	v := insiderView{a: a, keys: newSessionKeys(key), in: make(chan []byte, 4096)}
	v.data, _ = rg.groups(a.Session)
	v.conn = rg.listen(v.data)
	go capture(v.conn, v.in)
	return v
}

// TestInsiderForgesBlockAndLists: a receiver of the push (it holds the
// data key) spoofs the sender's address and, every millisecond for the
// whole push, forges all 256 shard indexes of the first two blocks, signs
// hash lists for its forgeries with its own key, and replays the sender's
// own lists. Every forgery is dropped before the decoder (SPEC.md §6.5.1),
// no block fails its hash, and the push completes for everyone else.
func TestInsiderForgesBlockAndLists(t *testing.T) {
	l := newMemLab(t, 3, multicast.Link{Loss: 0.02})
	logs := serve(t, l, nil)
	insider := l.receivers[2]
	rg := newRogueOn(t, l, l.sender.Net) // the sender's host: a spoofed source address
	ctlIn := make(chan []byte, 4096)
	go capture(rg.listen(rg.ctl), ctlIn)
	p := startPush(t, l, 1<<20, nil)
	v := insiderJoins(t, l, rg, ctlIn, insider)
	a, keys, data, conn, dataIn := v.a, v.keys, v.data, v.conn, v.in
	var replay [][]byte
	stop := every(t, time.Millisecond, func() {
		for len(dataIn) > 0 && len(replay) < 8 { // the sender's own lists, to replay
			if b := <-dataIn; len(b) > protocol.HeaderLen && protocol.Type(b[5]) == protocol.TypeHashes {
				replay = append(replay, b)
			}
		}
		pkts := append([][]byte{}, replay...)
		for b := range min(a.Blocks, 2) {
			var hashes []byte
			for i := range 256 {
				pkt := forgeShard(keys, a.Session, b, byte(i), int(a.ShardSize))
				pkts = append(pkts, pkt)
				if i < protocol.MaxShardHashes {
					nonce := protocol.DataNonce(b, byte(i))
					plain, _ := keys.data.Open(nil, nonce[:], pkt[protocol.DataHeaderLen:], pkt[:protocol.DataHeaderLen])
					h := hashShard(plain)
					hashes = append(hashes, h[:]...)
				}
			}
			list, _ := rg.signer.Append(nil, protocol.ShardHashes{Session: a.Session, Block: b, Hashes: hashes})
			pkts = append(pkts, list)
		}
		conn.WriteBatch(pkts, data)
	})
	events := p.check(t, l, logs, 0, 1)
	stop()
	for i, e := range events {
		t.Logf("receiver %d: rejected %d, injected blocks %d", i, e.Rejected, e.Injected)
		if e.Rejected == 0 || e.Injected != 0 {
			t.Errorf("receiver %d: forged shards or lists reached the decoder (rejected %d, injected %d)", i, e.Rejected, e.Injected)
		}
	}
}
