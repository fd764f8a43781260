package push

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/protocol"
)

// Every test here runs an attack next to a real push and asserts: the
// hostile input is rejected, the counter that exists for it moved, no
// receiver crashed, and the real push still completed byte-identical.

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// junkFor returns malformed datagrams aimed at session sid, built from a
// real announce of it: every way a datagram can be wrong before (or
// without) any key.
func junkFor(sid protocol.SessionID, announce []byte) [][]byte {
	withByte := func(i int, v byte) []byte { b := bytes.Clone(announce); b[i] = v; return b }
	wrongMagic := bytes.Clone(announce)
	copy(wrongMagic, "XXXX")
	oversized := append(protocol.AppendHeader(nil, protocol.TypeData), randomBytes(2000)...)
	data := func(block uint32, sealed int) []byte {
		return append(protocol.AppendDataHeader(nil, sid, block, 3), randomBytes(sealed)...)
	}
	return [][]byte{
		{},                           // zero length
		announce[:5],                 // truncated inside the header
		announce[:len(announce)-1],   // truncated signature
		oversized,                    // longer than MaxDatagram
		randomBytes(1),               // random
		randomBytes(700),             // random
		randomBytes(1400),            // random, full size
		wrongMagic,                   // wrong magic
		withByte(4, 2),               // unknown version
		withByte(5, 0x7f),            // unknown type
		withByte(70, announce[70]^1), // body changed under the signature
		data(0, 4),                   // data too short for a tag
		data(0, 1344+16),             // right size, tag forged without the key
		data(1<<31, 1344+16),         // block beyond the push
		data(0, 100),                 // wrong shard size
	}
}

func TestHostileDatagramsDuringPush(t *testing.T) {
	for _, target := range []string{"control", "data", "feedback"} {
		t.Run(target, func(t *testing.T) {
			l := newMemLab(t, 2, multicast.Link{})
			logs := serve(t, l, nil)
			rg := newRogue(t, l)
			ctl := rg.listen(rg.ctl)
			ctlIn := make(chan []byte, 4096)
			go capture(ctl, ctlIn)
			before := []node.Stats{l.receivers[0].Stats(), l.receivers[1].Stats()}
			p := startPush(t, l, 1<<20, nil)
			a, raw := sniffAnnounce(t, ctlIn, [32]byte(l.sender.ID.SignPub))
			data, fb := rg.groups(a.Session)
			dst := map[string]netip.AddrPort{"control": rg.ctl, "data": data, "feedback": fb}[target]
			junk := junkFor(a.Session, raw)
			sent := 0
			stop := every(t, time.Millisecond, func() { n, _ := ctl.WriteBatch(junk, dst); sent += n })
			events := p.check(t, l, logs, 0, 1)
			stop()
			t.Logf("%d junk datagrams sent to the %s group during the push", sent, target)
			for i, e := range events {
				st := l.receivers[i].Stats()
				malformed := st.Malformed - before[i].Malformed
				badSig := st.BadSignature - before[i].BadSignature
				switch target {
				case "control":
					if malformed == 0 || badSig == 0 {
						t.Errorf("receiver %d: malformed +%d, bad signature +%d: junk not counted", i, malformed, badSig)
					}
				case "data":
					if e.Rejected == 0 {
						t.Errorf("receiver %d: no data-group datagram counted as rejected", i)
					}
				}
			}
		})
	}
}

// Packets that claim to be the sender's, or to belong to its session,
// but are not: each is refused and counted, and the push completes.
func TestForgedPackets(t *testing.T) {
	sender := func(l *memLab) [32]byte { return [32]byte(l.sender.ID.SignPub) }

	t.Run("sender's key, body changed under its signature", func(t *testing.T) {
		l := newMemLab(t, 2, multicast.Link{})
		logs := serve(t, l, nil)
		rg := newRogue(t, l)
		ctl := rg.listen(rg.ctl)
		ctlIn := make(chan []byte, 4096)
		go capture(ctl, ctlIn)
		p := startPush(t, l, 256<<10, nil)
		stop := every(t, 0, func() {
			select {
			case b := <-ctlIn:
				if s, err := protocol.ParseSigned(b); err == nil && s.Sender == sender(l) && len(s.Body) > 20 {
					for _, i := range []int{protocol.HeaderLen + protocol.EnvelopeLen, len(b) - 70, len(b) - 1} {
						forged := bytes.Clone(b)
						forged[i] ^= 0x40 // session id, a late field, the signature
						ctl.WriteBatch([][]byte{forged}, rg.ctl)
					}
				}
			case <-time.After(10 * time.Millisecond):
			}
		})
		p.check(t, l, logs, 0, 1)
		stop()
		for i, r := range l.receivers {
			if r.Stats().BadSignature == 0 {
				t.Errorf("receiver %d counted no bad signature", i)
			}
		}
	})

	t.Run("another key announces the same session id", func(t *testing.T) {
		l := newMemLab(t, 2, multicast.Link{})
		rg := newRogue(t, l)
		ctl := rg.listen(rg.ctl)
		ctlIn := make(chan []byte, 4096)
		go capture(ctl, ctlIn)
		p := startPush(t, l, 256<<10, nil)
		a, _ := sniffAnnounce(t, ctlIn, sender(l))
		// Same session id, other sizes, signed (validly) by the attacker,
		// with a grant anyone can open: a late receiver that met it first
		// used to ignore the real announce of that id.
		fake := a
		fake.TotalSize, fake.Blocks, fake.Sent = 1, 1, 0
		grant := protocol.Grant{Session: a.Session, Entries: []protocol.GrantEntry{{}}}
		fake.KeyMode = protocol.KeyModePublic
		stop := every(t, 2*time.Millisecond, func() {
			ann, _ := rg.signer.Append(nil, fake)
			gr, _ := rg.signer.Append(nil, grant)
			ctl.WriteBatch([][]byte{ann, gr}, rg.ctl)
		})
		time.Sleep(50 * time.Millisecond)
		logs := serve(t, l, func(i int, c *ReceiveConfig) {
			c.AcceptAny = false
			c.From = append(c.From, l.sender.ID.SignPub)
		})
		p.check(t, l, logs, 0, 1)
		stop()
		rfp := identity.Fingerprint(rg.key.Public().(ed25519.PublicKey))
		for i, lg := range logs {
			if lg.count(func(e Event) bool { return e.Kind == EventRefused && e.Sender == rfp }) == 0 {
				t.Errorf("receiver %d did not refuse the impostor", i)
			}
		}
	})

	t.Run("grant sealed to someone else", func(t *testing.T) {
		l := newMemLab(t, 2, multicast.Link{})
		rg := newRogue(t, l)
		logs := serve(t, l, func(i int, c *ReceiveConfig) {
			c.AcceptAny = false
			c.From = append(c.From, l.sender.ID.SignPub, rg.key.Public().(ed25519.PublicKey))
		})
		ctl := rg.listen(rg.ctl)
		p := startPush(t, l, 256<<10, nil)
		stranger, _, err := identity.LoadOrCreate(t.TempDir(), "stranger")
		if err != nil {
			t.Fatal(err)
		}
		// The attacker's own push, its key sealed to a third party only.
		sid := protocol.SessionID(randomBytes(8))
		ann := protocol.Announce{Session: sid, KeyMode: protocol.KeyModeRecipients, K: 4, ShardSize: 64, Blocks: 1,
			TotalSize: 10, ManifestLen: 100, ManifestParts: 1, Grants: 1}
		pol := keyPolicy{mode: protocol.KeyModeRecipients, recipients: []identity.Peer{{SignPub: stranger.SignPub, BoxPub: stranger.BoxPub}}}
		var boxPub, boxPriv [32]byte = stranger.BoxPub, stranger.BoxKey // any keypair: not the receivers'
		stop := every(t, 20*time.Millisecond, func() {
			a, _ := rg.signer.Append(nil, ann)
			env := rg.signer.Next()
			g := protocol.Grant{Session: sid, BoxKey: boxPub, Entries: []protocol.GrantEntry{pol.sealEntry(randomKey(), 0, 0, env, &boxPriv)}}
			ctl.WriteBatch([][]byte{a, rg.signer.AppendWith(nil, env, g)}, rg.ctl)
		})
		p.check(t, l, logs, 0, 1)
		for i, lg := range logs {
			lg.waitFor(t, fmt.Sprintf("receiver %d refusal (no key)", i), 5*time.Second, func(e Event) bool {
				return e.Kind == EventRefused && e.Session == sid.String() && errors.Is(e.Err, ErrNoGrant)
			})
		}
		stop()
	})

	t.Run("shards and manifest chunks not from the session's sender", func(t *testing.T) {
		l := newMemLab(t, 2, multicast.Link{})
		logs := serve(t, l, nil)
		rg := newRogue(t, l)
		spoof := newRogueOn(t, l, l.sender.Net) // sends from the sender's address
		ctl := rg.listen(rg.ctl)
		ctlIn := make(chan []byte, 4096)
		go capture(ctl, ctlIn)
		p := startPush(t, l, 1<<20, nil)
		a, _ := sniffAnnounce(t, ctlIn, sender(l))
		data, _ := rg.groups(a.Session)
		rgData, spData := rg.listen(data), spoof.listen(data)
		dataIn := make(chan []byte, 4096)
		go capture(rgData, dataIn)
		otherKeys := newSessionKeys(randomKey()) // another session's key
		stop := every(t, time.Millisecond, func() {
			var pkts [][]byte
			for b := range min(a.Blocks, 8) {
				pkts = append(pkts, forgeShard(otherKeys, a.Session, b, byte(b), int(a.ShardSize)))
			}
			for i := range a.ManifestParts {
				sealed := randomBytes(min(protocol.ManifestChunkLen, int(a.ManifestLen)-int(i)*protocol.ManifestChunkLen) + 16)
				chunk, _ := rg.signer.Append(nil, protocol.ManifestChunk{Session: a.Session, Index: i, Sealed: sealed})
				pkts = append(pkts, chunk)
			}
			select { // a real chunk with its signature broken
			case b := <-dataIn:
				if s, err := protocol.ParseSigned(b); err == nil && s.Type == protocol.TypeManifest {
					b[len(b)-1] ^= 1
					pkts = append(pkts, b)
				}
			default:
			}
			rgData.WriteBatch(pkts, data)
			spData.WriteBatch(pkts, data)
		})
		events := p.check(t, l, logs, 0, 1)
		stop()
		for i, e := range events {
			if e.Rejected == 0 || e.Injected != 0 {
				t.Errorf("receiver %d: rejected %d, injected %d; want rejected > 0 and nothing injected", i, e.Rejected, e.Injected)
			}
		}
	})
}

// Signed control packets played back: at once (within the skew window)
// they hit the replay windows; after the session they change nothing;
// minutes later they are stale.
func TestReplayedPackets(t *testing.T) {
	t.Run("each control packet replayed at once", func(t *testing.T) {
		l := newMemLab(t, 2, multicast.Link{})
		logs := serve(t, l, nil)
		rg := newRogue(t, l)
		ctl := rg.listen(rg.ctl)
		ctlIn := make(chan []byte, 4096)
		go capture(ctl, ctlIn)
		p := startPush(t, l, 256<<10, nil)
		stop := every(t, 0, func() {
			select {
			case b := <-ctlIn:
				ctl.WriteBatch([][]byte{b, b}, rg.ctl)
			case <-time.After(10 * time.Millisecond):
			}
		})
		rep := p.wait(t)
		p.check(t, l, logs, 0, 1)
		time.Sleep(200 * time.Millisecond)
		stop()
		for i, r := range l.receivers {
			if st := r.Stats(); st.Replayed+st.Duplicates == 0 {
				t.Errorf("receiver %d counted no replay", i)
			}
			if n := logs[i].count(kindIs(EventComplete, rep.Session)); n != 1 {
				t.Errorf("receiver %d completed the push %d times", i, n)
			}
		}
	})

	for _, c := range []struct {
		name  string
		later time.Duration
	}{
		{"whole session replayed after it ended", 0},
		{"whole session replayed three minutes later", 3 * time.Minute},
	} {
		t.Run(c.name, func(t *testing.T) {
			clock := &testClock{}
			l := newMemLabClock(t, 2, clock.now)
			logs := serve(t, l, nil)
			rg := newRogue(t, l)
			ctl := rg.listen(rg.ctl)
			ctlIn := make(chan []byte, 1<<16)
			go capture(ctl, ctlIn)
			p := startPush(t, l, 256<<10, nil)
			a, first := sniffAnnounce(t, ctlIn, [32]byte(l.sender.ID.SignPub))
			data, fb := rg.groups(a.Session)
			dataIn, fbIn := make(chan []byte, 1<<16), make(chan []byte, 1<<16)
			go capture(rg.listen(data), dataIn)
			go capture(rg.listen(fb), fbIn)
			p.check(t, l, logs, 0, 1)
			time.Sleep(300 * time.Millisecond) // receivers finish their session
			tape := [][]byte{first}
			for _, in := range []chan []byte{ctlIn, dataIn, fbIn} {
				for len(in) > 0 {
					tape = append(tape, <-in)
				}
			}
			dst := func(b []byte) netip.AddrPort {
				h, _ := protocol.ParseHeader(b)
				switch h.Type {
				case protocol.TypeManifest, protocol.TypeData:
					return data
				case protocol.TypeStatus:
					return fb
				}
				return rg.ctl
			}
			clock.advance(c.later)
			beforeEvents := []int{len(logs[0].all()), len(logs[1].all())}
			beforeStats := []node.Stats{l.receivers[0].Stats(), l.receivers[1].Stats()}
			beforeDirs := []string{listDir(t, l.dirs[0]), listDir(t, l.dirs[1])}
			out := rg.listen(rg.ctl)
			for i, b := range tape {
				out.WriteBatch([][]byte{b}, dst(b))
				if i%64 == 63 {
					time.Sleep(time.Millisecond)
				}
			}
			time.Sleep(time.Second)
			t.Logf("replayed %d datagrams", len(tape))
			for i := range logs {
				for _, e := range logs[i].all()[beforeEvents[i]:] {
					if e.Kind != EventProgress {
						t.Errorf("receiver %d: replay caused a %v event: %+v", i, e.Kind, e)
					}
				}
				if got := listDir(t, l.dirs[i]); got != beforeDirs[i] {
					t.Errorf("receiver %d: replay changed the folder:\n%s\nwas\n%s", i, got, beforeDirs[i])
				}
				st := l.receivers[i].Stats()
				refused := st.Replayed - beforeStats[i].Replayed + st.Duplicates - beforeStats[i].Duplicates + st.Stale - beforeStats[i].Stale
				if refused == 0 {
					t.Errorf("receiver %d: replay guard refused nothing", i)
				}
				if c.later > 0 && st.Stale == beforeStats[i].Stale {
					t.Errorf("receiver %d: packets replayed %v later not counted stale", i, c.later)
				}
			}
		})
	}
}

// listDir lists every path under dir with its size.
func listDir(t *testing.T, dir string) string {
	t.Helper()
	var b bytes.Buffer
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil {
			fmt.Fprintf(&b, "%s %d\n", p, fi.Size())
		}
		return nil
	})
	return b.String()
}

// A receiver that holds the session key (it is a recipient) forges
// shards with valid tags. Honest receivers must never write them, must
// count them, and must still complete.
func TestInsiderForgedShards(t *testing.T) {
	cases := []struct {
		name  string
		spoof bool // send from the sender's address
		flood bool // forge every index of every block, again and again
	}{
		{"from its own address, every index, continuously", false, true},
		{"spoofing the sender's address, one forged copy of each shard, ahead of the sender", true, false},
		// Was a documented limit until shards were signed (SPEC.md §6.5.1).
		{"spoofing the sender's address, every index, continuously", true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := newMemLab(t, 3, multicast.Link{})
			logs := serve(t, l, nil)
			insider := l.receivers[2]
			host := l.hosts[2]
			if c.spoof {
				host = l.sender.Net
			}
			rg := newRogueOn(t, l, host)
			ctl := rg.listen(rg.ctl)
			ctlIn := make(chan []byte, 4096)
			go capture(ctl, ctlIn)
			p := startPush(t, l, 2<<20, nil)
			v := insiderJoins(t, l, rg, ctlIn, insider)
			a, keys, data, conn, dataIn := v.a, v.keys, v.data, v.conn, v.in
			forgeAll := func(indexes int) {
				for b := range a.Blocks {
					var pkts [][]byte
					for i := range indexes {
						pkts = append(pkts, forgeShard(keys, a.Session, b, byte(i), int(a.ShardSize)))
					}
					conn.WriteBatch(pkts, data)
				}
			}
			var stop func()
			if c.flood {
				stop = every(t, time.Millisecond, func() { forgeAll(int(a.K) + 8) })
			} else {
				for { // wait for the sender's first shard, then race ahead of it once
					if d, err := protocol.ParseData(<-dataIn); err == nil && d.Session == a.Session {
						break
					}
				}
				forgeAll(int(a.K))
				stop = func() {}
			}
			// Every forged shard is refused before the decoder (its hash is
			// not the one the sender signed), so no block fails its hash
			// and the push completes for everyone (SPEC.md §6.5.1).
			events := p.check(t, l, logs, 0, 1)
			stop()
			for i, e := range events {
				t.Logf("receiver %d: rejected %d, injected blocks %d", i, e.Rejected, e.Injected)
				if e.Rejected == 0 || e.Injected != 0 {
					t.Errorf("receiver %d: forged shards were not refused up front", i)
				}
			}
			t.Logf("repair shards: %d for %d blocks of K=%d", p.rep.Repair, a.Blocks, a.K)
		})
	}
}

// A key that is not among --to recipients cannot hold the session key;
// its statuses (NACKs for everything, ever-growing progress) must neither
// drive repair traffic nor keep the push from ending.
func TestOutsiderStatusesIgnored(t *testing.T) {
	l := newMemLab(t, 2, multicast.Link{})
	logs := serve(t, l, nil)
	rg := newRogue(t, l)
	ctl := rg.listen(rg.ctl)
	ctlIn := make(chan []byte, 4096)
	go capture(ctl, ctlIn)
	p := startPush(t, l, 1<<20, func(c *SendConfig) { c.GiveUp = time.Minute })
	a, _ := sniffAnnounce(t, ctlIn, [32]byte(l.sender.ID.SignPub))
	_, fb := rg.groups(a.Session)
	complete := uint32(0)
	stop := every(t, 20*time.Millisecond, func() {
		complete++
		st := protocol.Status{Session: a.Session, State: protocol.StateJoined + byte(complete%2), Complete: complete}
		for b := range min(a.Blocks, protocol.MaxNacks) {
			st.Nacks = append(st.Nacks, protocol.Nack{Block: b})
		}
		pkt, _ := rg.signer.Append(nil, st)
		ctl.WriteBatch([][]byte{pkt}, fb)
	})
	p.check(t, l, logs, 0, 1)
	stop()
	rfp := identity.Fingerprint(rg.key.Public().(ed25519.PublicKey))
	for _, r := range p.rep.Receivers {
		if r.Fingerprint == rfp {
			t.Errorf("the outsider is in the report: %+v", r)
		}
		t.Logf("receiver %s: loss %.3f overflow %.3f", r.Name, r.Loss, r.Overflow)
	}
	// Served, the outsider's NACKs (every shard of every block) would cost
	// Blocks × K repair shards. The receivers' own NACKs of blocks still
	// in flight (no longer hidden behind the outsider's, which may not
	// suppress them) cost a block or two.
	t.Logf("%d repair shards for %d blocks of K=%d", p.rep.Repair, a.Blocks, a.K)
	if p.rep.Repair > int64(a.Blocks)*int64(a.K)/4 {
		t.Errorf("%d repair shards for a clean network: the outsider's NACKs were served", p.rep.Repair)
	}
}

// A receiver's progress claims are bounded: flipping between states it
// already reported, or counting past the last block, does not restart
// the give-up clock.
func TestStatusProgressBounded(t *testing.T) {
	l := newMemLab(t, 0, multicast.Link{})
	s := newBareSender(t, l.sender, 10, 4)
	from := [32]byte{1}
	steps := []struct {
		state    byte
		complete uint32
		progress bool
	}{
		{protocol.StateJoined, 0, true}, // registration
		{protocol.StateReceiving, 0, true},
		{protocol.StateReceiving, 5, true},
		{protocol.StateJoined, 5, false}, // back to a state seen before
		{protocol.StateReceiving, 5, false},
		{protocol.StateReceiving, 10, true},
		{protocol.StateReceiving, 1 << 30, false}, // beyond the last block
		{protocol.StateReceiving, 1<<30 + 1, false},
	}
	for i, st := range steps {
		t.Run(fmt.Sprintf("step %d", i), func(t *testing.T) {
			var before time.Time
			if p := s.table.peers[from]; p != nil {
				p.progressed = time.Time{}
				before = p.progressed
			}
			s.handleStatus(statusMsg{from: from, state: st.state, complete: st.complete})
			p := s.table.peers[from]
			if moved := p.progressed != before; moved != st.progress {
				t.Errorf("state %d complete %d: progress %v, want %v", st.state, st.complete, moved, st.progress)
			}
			if p.complete > 10 {
				t.Errorf("complete %d beyond the push's 10 blocks", p.complete)
			}
		})
	}
}
