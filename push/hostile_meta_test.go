package push

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/protocol"
)

// craftedPush is a push whose sender builds every packet itself, so its
// announce and manifest can say anything a signature can cover.
type craftedPush struct {
	sid      protocol.SessionID
	announce protocol.Announce
	chunks   [][]byte
}

// craft seals plain as the manifest of a public push of total bytes.
func craft(rg *rogue, plain []byte, total uint64, k byte, shard uint16) *craftedPush {
	c := &craftedPush{sid: protocol.SessionID(randomBytes(8))}
	keys := newSessionKeys([32]byte{}) // public mode: the key in the grant is zero
	c.chunks = sealManifest(rg.signer, c.sid, keys, plain)
	bs := uint64(k) * uint64(shard)
	c.announce = protocol.Announce{Session: c.sid, KeyMode: protocol.KeyModePublic, K: k, ShardSize: shard,
		Blocks: uint32((total + bs - 1) / bs), TotalSize: total, ManifestLen: uint32(len(plain)),
		ManifestParts: uint32(len(c.chunks)), Grants: 1}
	return c
}

// run sends announce, grant and manifest every 20 ms until stopped.
func (c *craftedPush) run(t *testing.T, rg *rogue) (stop func()) {
	conn := rg.listen(rg.ctl)
	data, _ := rg.groups(c.sid)
	return every(t, 20*time.Millisecond, func() {
		a, _ := rg.signer.Append(nil, c.announce)
		g, _ := rg.signer.Append(nil, protocol.Grant{Session: c.sid, Entries: []protocol.GrantEntry{{}}})
		conn.WriteBatch([][]byte{a, g}, rg.ctl)
		for i := 0; i < len(c.chunks); i += 32 {
			conn.WriteBatch(c.chunks[i:min(i+32, len(c.chunks))], data)
		}
	})
}

// manifestOf encodes files (sizes summing to the push's total) with one
// zero hash per block of blockSize bytes.
func manifestOf(blockSize uint64, files ...protocol.FileEntry) ([]byte, uint64) {
	m := &protocol.Manifest{Files: files}
	var total uint64
	for _, f := range m.Files {
		total += f.Size
	}
	m.Hashes = make([][protocol.HashLen]byte, (total+blockSize-1)/blockSize)
	return m.AppendBinary(nil), total
}

func file(path string, size uint64) protocol.FileEntry {
	return protocol.FileEntry{Kind: protocol.KindFile, Mode: 0o644, Size: size, Path: path}
}

// A sender that writes its own announce and manifest: every path or size
// a receiver must not act on is refused before a byte is written, and a
// real push beside it completes.
func TestHostileManifest(t *testing.T) {
	const k, shard = 4, 64
	bs := uint64(k * shard)
	isErr := func(target error) func(error) bool { return func(err error) bool { return errors.Is(err, target) } }
	says := func(s string) func(error) bool {
		return func(err error) bool { return err != nil && strings.Contains(err.Error(), s) }
	}
	type outcome int
	const (
		failed  outcome = iota + 1 // session opened, then failed on the manifest
		refused                    // announce refused
		ignored                    // announce dropped as malformed: no event at all
	)
	cases := []struct {
		name   string
		files  []protocol.FileEntry
		plain  []byte // raw manifest instead of files
		total  uint64
		edit   func(*protocol.Announce)
		want   outcome
		reason func(error) bool
	}{
		{name: "parent escape", files: []protocol.FileEntry{file("../escape.txt", 10)}, want: failed, reason: isErr(ErrUnsafePath)},
		{name: "deep parent escape", files: []protocol.FileEntry{file("a/../../escape.txt", 10)}, want: failed, reason: isErr(ErrUnsafePath)},
		{name: "absolute path", files: []protocol.FileEntry{file("/tmp/escape.txt", 10)}, want: failed, reason: isErr(ErrUnsafePath)},
		{name: "backslash", files: []protocol.FileEntry{file(`..\escape.txt`, 10)}, want: failed, reason: isErr(ErrUnsafePath)},
		{name: "NUL byte", files: []protocol.FileEntry{file("a\x00b", 10)}, want: failed, reason: isErr(protocol.ErrField)},
		{name: "control character", files: []protocol.FileEntry{file("bell\x07.txt", 10)}, want: failed, reason: isErr(ErrUnsafePath)},
		{name: "invalid UTF-8", files: []protocol.FileEntry{file("bad\xff.txt", 10)}, want: failed, reason: isErr(ErrUnsafePath)},
		{name: "reserved device name", files: []protocol.FileEntry{file("dir/LPT1.log", 10)}, want: failed, reason: isErr(ErrUnsafePath)},
		{name: "staging name", files: []protocol.FileEntry{file(".herald-0011223344556677/x", 10)}, want: failed, reason: isErr(ErrUnsafePath)},
		{name: "duplicate path", files: []protocol.FileEntry{file("twice.txt", 5), file("twice.txt", 5)}, want: failed, reason: isErr(ErrUnsafePath)},
		{name: "directory with a size", files: []protocol.FileEntry{{Kind: protocol.KindDir, Mode: 0o755, Size: 10, Path: "d"}}, want: failed, reason: isErr(protocol.ErrField)},
		{name: "a million files claimed", plain: binary.BigEndian.AppendUint32(make([]byte, 0, 200), 1_000_000)[:200], total: 10,
			want: failed, reason: isErr(protocol.ErrField)},
		{name: "more bytes than free space", files: []protocol.FileEntry{file("huge.bin", 10)},
			edit: func(a *protocol.Announce) {
				a.K, a.ShardSize, a.TotalSize = 128, 1344, 1<<45
				a.Blocks = uint32((1<<45 + 172031) / 172032)
			},
			want: refused, reason: says("free")},
		{name: "manifest over the receiver's limit", files: []protocol.FileEntry{file("x", 10)},
			edit: func(a *protocol.Announce) { a.ManifestLen, a.ManifestParts = 20<<20, 20<<10 },
			want: refused, reason: says("exceeds")},
		{name: "manifest over the protocol limit", files: []protocol.FileEntry{file("x", 10)},
			edit: func(a *protocol.Announce) {
				a.ManifestLen, a.ManifestParts = protocol.MaxManifestLen+1, protocol.MaxManifestLen/1024+1
			},
			want: ignored},
	}
	l := newMemLab(t, 2, multicast.Link{})
	// Failing hostile sessions come back every 20 ms; room for them keeps
	// the real pushes from waiting on "busy" (tested in the flood tests).
	logs := serve(t, l, func(_ int, c *ReceiveConfig) { c.MaxSessions = 16 })
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rg := newRogue(t, l)
			plain, total := c.plain, c.total
			if plain == nil {
				plain, total = manifestOf(bs, c.files...)
			}
			cp := craft(rg, plain, total, k, shard)
			if c.edit != nil {
				c.edit(&cp.announce)
			}
			p := startPush(t, l, 64<<10, nil)
			stop := cp.run(t, rg)
			sid := cp.sid.String()
			for i, lg := range logs {
				// A receiver busy with earlier sessions refuses "busy" first
				// and looks again a second later: wait for the real reason.
				kind := map[outcome]EventKind{failed: EventFailed, refused: EventRefused}[c.want]
				if kind != 0 {
					lg.waitFor(t, fmt.Sprintf("receiver %d %v", i, kind), 10*time.Second, func(e Event) bool {
						return e.Kind == kind && e.Session == sid && c.reason(e.Err)
					})
				}
			}
			p.check(t, l, logs, 0, 1)
			stop()
			for i, lg := range logs {
				if c.want == ignored && lg.count(kindIs(EventOffered, sid)) != 0 {
					t.Errorf("receiver %d acted on an announce outside the protocol's limits", i)
				}
				if n := lg.count(kindIs(EventFailed, sid)); n > 1 {
					t.Errorf("receiver %d took the failing push %d times", i, n)
				}
				if lg.count(kindIs(EventComplete, sid)) != 0 {
					t.Errorf("receiver %d completed the hostile push", i)
				}
				entries, _ := os.ReadDir(l.dirs[i])
				for _, e := range entries {
					if !strings.HasPrefix(e.Name(), "lesson") {
						t.Errorf("receiver %d: %s appeared in the target folder", i, e.Name())
					}
				}
				if _, err := os.Stat(filepath.Join(l.dirs[i], "..", "escape.txt")); err == nil {
					t.Errorf("receiver %d wrote outside its folder", i)
				}
			}
		})
	}
}
