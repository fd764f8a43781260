package push

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/herald-lan/herald/fec"
	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/protocol"
)

// TestChainedPushReplay replays protocol/testdata/chain-push.txt (SPEC.md
// §11.1) as laptop1 through this package's own receive functions: grants
// of every key mode open with openGrant, the manifest with
// openManifestChunk, shards pass the shard book, blocks decode and match
// the manifest, and the files rebuilt from the stream have the sizes and
// SHA-256 the vector lists. The vector is written from SPEC.md's recipes
// alone, so this checks push against the spec, not against itself.
func TestChainedPushReplay(t *testing.T) {
	raw, err := os.ReadFile("../protocol/testdata/chain-push.txt")
	if err != nil {
		t.Fatal(err)
	}
	values := map[string][]byte{}
	type datagram struct {
		from, label string
		b           []byte
	}
	var dgrams []datagram
	type file struct {
		path       string
		kind, size int
		sum        string
	}
	var files []file
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 3 && f[0] == "value":
			values[f[1]], _ = hex.DecodeString(f[2])
		case len(f) == 6 && f[0] == "datagram" && !strings.HasSuffix(f[4], "_(lost)"):
			b, _ := hex.DecodeString(f[5])
			dgrams = append(dgrams, datagram{f[2], f[4], b})
		case len(f) == 6 && f[0] == "file":
			kind, _ := strconv.Atoi(f[2])
			size, _ := strconv.Atoi(f[4])
			files = append(files, file{f[1], kind, size, f[5]})
		}
	}
	seed := values["laptop1.sign_seed"]
	me := &identity.Identity{SignKey: ed25519.NewKeyFromSeed(seed), BoxKey: [32]byte(values["laptop1.box_private"])}
	me.SignPub = me.SignKey.Public().(ed25519.PublicKey)
	class := identity.Channel{Name: "class", Secret: [32]byte(values["channel.secret"])}
	if id := class.ID(); !bytes.Equal(id[:], values["channel.id"]) {
		t.Fatalf("identity's channel id %x, vector %x", id, values["channel.id"])
	}
	teacher := [32]byte(values["teacher.sign_pub"])
	announces := map[protocol.SessionID]protocol.Announce{}
	keys := map[protocol.SessionID][32]byte{}
	var a protocol.Announce
	var sk sessionKeys
	var plain []byte
	var book *shardBook
	var asm []*fec.Assembler
	var stream []byte
	verified := map[uint32]bool{}
	for _, d := range dgrams {
		if d.from != "teacher" {
			continue
		}
		if sd, err := protocol.ParseData(d.b); err == nil {
			if sd.Session != a.Session {
				t.Fatalf("%s: shard of another session", d.label)
			}
			nonce := protocol.DataNonce(sd.Block, sd.Shard)
			shard, err := sk.data.Open(nil, nonce[:], sd.Sealed, d.b[:protocol.DataHeaderLen])
			if err != nil {
				t.Fatalf("%s: %v", d.label, err)
			}
			if v := book.check(sd.Block, sd.Shard, shard); v != shardSigned {
				t.Fatalf("%s: shard book says %v", d.label, v)
			}
			if verified[sd.Block] {
				continue
			}
			if _, err := asm[sd.Block].Add(int(sd.Shard), shard); err != nil {
				t.Fatalf("%s: %v", d.label, err)
			}
			continue
		}
		p, err := protocol.ParseSigned(d.b)
		if err != nil || !p.Verify() || p.Sender != teacher {
			t.Fatalf("%s: %v", d.label, err)
		}
		switch p.Type {
		case protocol.TypeAnnounce:
			if a, err = protocol.ParseAnnounce(p.Body); err != nil {
				t.Fatal(err)
			}
			announces[a.Session] = a
		case protocol.TypeGrant:
			g, err := protocol.ParseGrant(p.Body)
			if err != nil || !g.Fits(announces[g.Session]) {
				t.Fatalf("%s: %v", d.label, err)
			}
			key, err := openGrant(announces[g.Session].KeyMode, g, p.Envelope, me, []identity.Channel{class})
			if err == nil {
				keys[g.Session] = key
			} else if d.label != "grant_key_mode_2_index_0" { // laptop1 is in grant 1
				t.Fatalf("%s: %v", d.label, err)
			}
		case protocol.TypeManifest:
			c, err := protocol.ParseManifestChunk(p.Body)
			if err != nil {
				t.Fatal(err)
			}
			if plain == nil {
				sk = newSessionKeys(keys[a.Session])
				plain = make([]byte, a.ManifestLen)
				book = newShardBook()
			}
			off := int(c.Index) * protocol.ManifestChunkLen
			if _, err := openManifestChunk(sk, a.Session, c, plain[off:off]); err != nil {
				t.Fatalf("%s: %v", d.label, err)
			}
		case protocol.TypeHashes:
			if asm == nil {
				code, _ := fec.New(int(a.K), int(a.ShardSize))
				asm = append(asm, code.NewAssembler())
				last, _ := fec.New(fec.BlockK(int64(a.TotalSize), int(a.K), int(a.ShardSize), 1), int(a.ShardSize))
				asm = append(asm, last.NewAssembler())
			}
			done := func(b uint32) bool { return verified[b] }
			if v := book.onList(d.b, teacher, a.Session, a.Blocks, done); v != listStored {
				t.Fatalf("%s: list verdict %v", d.label, v)
			}
		}
		for b, as := range asm {
			if !verified[uint32(b)] && as.Done() {
				verified[uint32(b)] = true
				book.forget(uint32(b))
			}
		}
	}
	for name, session := range map[string]string{"open": "open.session_key", "channel": "channel.session_key", "lesson": "lesson.session_key"} {
		found := false
		for _, k := range keys {
			found = found || bytes.Equal(k[:], values[session])
		}
		if !found {
			t.Errorf("session %s: no grant opened to its key", name)
		}
	}
	if !bytes.Equal(plain, values["manifest.plaintext"]) {
		t.Fatal("manifest plaintext differs")
	}
	m, err := protocol.ParseManifest(plain, a.TotalSize, a.Blocks)
	if err != nil {
		t.Fatal(err)
	}
	l, err := newLayout(int64(a.TotalSize), int(a.K), int(a.ShardSize))
	if err != nil {
		t.Fatal(err)
	}
	for b, as := range asm {
		blk, err := as.Block()
		if err != nil {
			t.Fatalf("block %d: %v", b, err)
		}
		n := min(len(blk), int(a.TotalSize)-len(stream))
		if blockHash(l.code(b), blk[:n]) != m.Hashes[b] {
			t.Fatalf("block %d does not match the manifest", b)
		}
		stream = append(stream, blk[:n]...)
	}
	for i, f := range files {
		if m.Files[i].Path != f.path || int(m.Files[i].Size) != f.size || int(m.Files[i].Kind) != f.kind {
			t.Fatalf("file %d: manifest %+v, vector %+v", i, m.Files[i], f)
		}
		sum := sha256.Sum256(stream[:f.size])
		if hex.EncodeToString(sum[:]) != f.sum {
			t.Fatalf("%s: rebuilt content differs", f.path)
		}
		stream = stream[f.size:]
	}
}
