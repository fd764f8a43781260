package protocol_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/protocol"
	"github.com/herald-lan/herald/protocol/internal/vectorgen"
)

// TestChainedVectors: the committed chained vectors (SPEC.md §11.1) are
// exactly what the generator writes, so they cannot drift from the code.
// `go generate ./protocol` (or -update) rewrites them.
func TestChainedVectors(t *testing.T) {
	update := flag.Lookup("update").Value.(flag.Getter).Get().(bool)
	for name, gen := range map[string]func() []byte{"chain-push.txt": vectorgen.Push, "chain-message.txt": vectorgen.Message} {
		t.Run(name, func(t *testing.T) {
			got := gen()
			if !bytes.Equal(got, gen()) {
				t.Fatal("the generator is not deterministic")
			}
			path := filepath.Join("testdata", name)
			if update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go generate ./protocol)", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s differs from what protocol/internal/vectorgen writes: run go generate ./protocol and review the diff", path)
			}
		})
	}
}

// TestExcerptVectors: the one-datagram vectors SPEC.md §11 lists are
// excerpts of the chained push, so they describe each other (the
// announce's sizes are the manifest's, the data shard opens under the
// key the grant carries). Each is written by -update and must parse.
func TestExcerptVectors(t *testing.T) {
	update := flag.Lookup("update").Value.(flag.Getter).Get().(bool)
	chain, err := vectorgen.Parse(vectorgen.Push())
	if err != nil {
		t.Fatal(err)
	}
	messages, err := vectorgen.Parse(vectorgen.Message())
	if err != nil {
		t.Fatal(err)
	}
	excerpts := []struct {
		file, from, label string
		chain             *vectorgen.Chain
	}{
		{"beacon", "teacher", "beacon", chain},
		{"membership", "alice", "membership", messages},
		{"announce", "teacher", "announce_key_mode_2", chain},
		{"grant", "teacher", "grant_key_mode_2_index_1", chain},
		{"manifest", "teacher", "manifest_chunk_0", chain},
		{"status", "laptop1", "status_nack_block_1", chain},
		{"end", "teacher", "end_complete", chain},
		{"hashes", "teacher", "shard_hashes_block_1", chain},
		{"data", "teacher", "shard_block_1_index_24", chain},
	}
	for _, e := range excerpts {
		t.Run(e.file, func(t *testing.T) {
			d, ok := e.chain.Find(e.from, e.label)
			if !ok {
				t.Fatalf("no datagram %s from %s in the chain", e.label, e.from)
			}
			if err := parseAny(d.Bytes); err != nil {
				t.Fatalf("%s does not parse: %v", e.label, err)
			}
			checkHex(t, e.file, d.Bytes, update)
		})
	}
	checkHex(t, "manifest-plain", chain.Values["manifest.plaintext"], update)
}

func parseAny(b []byte) error {
	if d, err := protocol.ParseData(b); err == nil {
		if len(d.Sealed) != 64+protocol.DataTagLen {
			return errors.New("data shard of the wrong size")
		}
		return nil
	}
	s, err := protocol.ParseSigned(b)
	if err != nil {
		return err
	}
	if !s.Verify() {
		return protocol.ErrBadSignature
	}
	switch s.Type {
	case protocol.TypeBeacon:
		_, err = protocol.ParseBeacon(s.Body)
	case protocol.TypeAnnounce:
		_, err = protocol.ParseAnnounce(s.Body)
	case protocol.TypeGrant:
		_, err = protocol.ParseGrant(s.Body)
	case protocol.TypeManifest:
		_, err = protocol.ParseManifestChunk(s.Body)
	case protocol.TypeStatus:
		_, err = protocol.ParseStatus(s.Body)
	case protocol.TypeEnd:
		_, err = protocol.ParseEnd(s.Body)
	case protocol.TypeHashes:
		_, err = protocol.ParseShardHashes(s.Body)
	case protocol.TypeMembership:
		_, err = protocol.ParseMembership(s.Body)
	default:
		err = errors.New("unexpected type " + s.Type.String())
	}
	return err
}

func checkHex(t *testing.T, name string, got []byte, update bool) {
	t.Helper()
	path := filepath.Join("testdata", name+".hex")
	line := []byte(hex.EncodeToString(got) + "\n")
	if update {
		if err := os.WriteFile(path, line, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(want, line) {
		t.Fatalf("%s is not the chain's datagram (run go generate ./protocol): %v", path, err)
	}
}

// TestMembershipVector: alice's Membership in chain-message.txt carries
// the tag of channel class that identity's presence key and
// protocol.MembershipTag compute for its envelope, and no tag of a
// channel with another secret.
func TestMembershipVector(t *testing.T) {
	chain, err := vectorgen.Parse(vectorgen.Message())
	if err != nil {
		t.Fatal(err)
	}
	d, ok := chain.Find("alice", "membership")
	if !ok {
		t.Fatal("no membership in chain-message.txt")
	}
	s, err := protocol.ParseSigned(d.Bytes)
	if err != nil || !s.Verify() {
		t.Fatalf("membership does not verify: %v", err)
	}
	v, err := protocol.ParseMembership(s.Body)
	if err != nil || v.Count() != protocol.MembershipPad {
		t.Fatalf("membership: %d tags, %v", v.Count(), err)
	}
	class := identity.Channel{Name: "class", Secret: [32]byte(chain.Values["channel.secret"])}
	key := class.Key(identity.PurposePresence)
	if !bytes.Equal(key[:], chain.Values["channel.presence_key"]) {
		t.Fatalf("identity's presence key %x differs from the vector's", key)
	}
	tag := protocol.MembershipTag(&key, s.Envelope)
	if !bytes.Equal(tag[:], chain.Values["alice.membership_tag_class"]) || !v.Holds(tag) {
		t.Fatalf("MembershipTag %x is not the vector's tag", tag)
	}
	other := identity.Channel{Name: "class", Secret: [32]byte{7}}.Key(identity.PurposePresence)
	if v.Holds(protocol.MembershipTag(&other, s.Envelope)) {
		t.Fatal("a channel with another secret is held")
	}
	s.Envelope.Counter++
	if v.Holds(protocol.MembershipTag(&key, s.Envelope)) {
		t.Fatal("the tag verifies for another envelope")
	}
}

// TestChainParses: every datagram of both chains parses and verifies,
// and every parser agrees with the generator on every byte.
func TestChainParses(t *testing.T) {
	for name, gen := range map[string]func() []byte{"push": vectorgen.Push, "message": vectorgen.Message} {
		chain, err := vectorgen.Parse(gen())
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range chain.Datagrams {
			if s, err := protocol.ParseSigned(d.Bytes); err == nil && (s.Type == protocol.TypeGroupMsg || s.Type == protocol.TypePrivate) {
				if !s.Verify() {
					t.Errorf("%s %d %s: bad signature", name, d.Seq, d.Label)
				}
				if s.Type == protocol.TypeGroupMsg {
					_, err = protocol.ParseGroupMsg(s.Body)
				} else {
					_, err = protocol.ParsePrivate(s.Body)
				}
				if err != nil {
					t.Errorf("%s %d %s: %v", name, d.Seq, d.Label, err)
				}
				continue
			}
			if err := parseAny(d.Bytes); err != nil {
				t.Errorf("%s %d %s: %v", name, d.Seq, d.Label, err)
			}
		}
	}
}
