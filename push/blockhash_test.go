package push

import (
	"bytes"
	"crypto/sha256"
	"testing"

	"github.com/herald-lan/herald/fec"
)

// A block's hash is that of its data shards' SHA-256 (SPEC.md §6.4.1),
// the same whether taken from the bytes (manifest, resume) or from the
// sums the sender's lists are cut from; a short block is hashed as its
// code pads it, and the bytes given are left as they were.
func TestBlockHashOfShards(t *testing.T) {
	code, err := fec.New(3, 16)
	if err != nil {
		t.Fatal(err)
	}
	short := bytes.Repeat([]byte{0xa5}, 40) // shards of 16, 16 and 8 + 8 zero bytes
	orig := bytes.Clone(short)
	got := blockHash(code, short)
	if !bytes.Equal(short, orig) {
		t.Fatal("blockHash wrote into the block")
	}
	padded := append(bytes.Clone(short), make([]byte, 8)...)
	var want []byte
	for i := range 3 {
		sum := sha256.Sum256(padded[16*i : 16*(i+1)])
		want = append(want, sum[:]...)
	}
	if got != sha256.Sum256(want) {
		t.Fatalf("blockHash = %x, want SHA-256 over the padded shards' SHA-256", got)
	}
	shards, err := code.Split(nil, padded, len(short))
	if err != nil {
		t.Fatal(err)
	}
	if blockHashOfSums(appendShardSums(nil, shards)) != got {
		t.Fatal("the hash from the shards' sums differs from the hash of the bytes")
	}
	if sha256.Sum256(short) == got {
		t.Fatal("the block hash is the bytes' SHA-256")
	}
}
