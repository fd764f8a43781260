package fec

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// goldenFile is cited by SPEC.md: a reimplementation encodes its data
// shards and must produce its parity bytes exactly.
const goldenFile = "testdata/golden_k4_s8.hex"

var update = flag.Bool("update", false, "rewrite "+goldenFile+" from the scalar reference")

// goldenShards reads "shard INDEX HEX" lines; '#' starts a comment.
func goldenShards(t *testing.T) (k, size int, shards map[int][]byte) {
	t.Helper()
	f, err := os.Open(goldenFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	shards = make(map[int][]byte)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		var val int
		if len(fields) > 1 && fields[0] != "shard" {
			val, err = strconv.Atoi(fields[1])
		}
		switch {
		case err != nil:
			t.Fatalf("%s: %q: %v", goldenFile, line, err)
		case fields[0] == "k" && len(fields) == 2:
			k = val
		case fields[0] == "shard_size" && len(fields) == 2:
			size = val
		case fields[0] == "shard" && len(fields) == 3:
			index, err1 := strconv.Atoi(fields[1])
			b, err2 := hex.DecodeString(fields[2])
			if err1 != nil || err2 != nil {
				t.Fatalf("%s: bad line %q", goldenFile, line)
			}
			shards[index] = b
		default:
			t.Fatalf("%s: bad line %q", goldenFile, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return k, size, shards
}

func writeGolden(t *testing.T) {
	const k, size = 4, 8
	data := make([][]byte, k)
	for c := range data {
		data[c] = make([]byte, size)
		for i := range data[c] {
			data[c][i] = byte(c*size + i)
		}
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# herald FEC golden vector (SPEC.md, FEC). GF(2^8), polynomial 0x11D;\n")
	fmt.Fprintf(&b, "# parity shard r, data column c: coefficient 1/(r XOR c). Data byte i of\n")
	fmt.Fprintf(&b, "# shard c is c*%d+i. Lines: shard INDEX HEX (0..k-1 data, k.. parity).\n", size)
	fmt.Fprintf(&b, "k %d\nshard_size %d\n", k, size)
	for c := range k {
		fmt.Fprintf(&b, "shard %d %x\n", c, data[c])
	}
	for r := k; r < 2*k; r++ {
		fmt.Fprintf(&b, "shard %d %x\n", r, referenceParity(data, r))
	}
	if err := os.WriteFile(goldenFile, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestGoldenVector(t *testing.T) {
	if *update {
		writeGolden(t)
	}
	k, size, shards := goldenShards(t)
	if k != 4 || size != 8 || len(shards) != 2*k {
		t.Fatalf("%s: k=%d shard_size=%d with %d shards, want 4, 8, 8", goldenFile, k, size, len(shards))
	}
	c := mustNew(t, k, size)
	data := make([][]byte, k)
	for i := range data {
		data[i] = shards[i]
	}
	parity := make2(k, size)
	if err := c.Parity(data, k, parity); err != nil {
		t.Fatal(err)
	}
	for i, got := range parity {
		if want := shards[k+i]; !bytes.Equal(got, want) {
			t.Errorf("parity shard %d = %x, golden %x", k+i, got, want)
		}
	}

	// And back: the four golden parity shards alone rebuild the data.
	a := c.NewAssembler()
	for r := 2*k - 1; r >= k; r-- {
		if _, err := a.Add(r, shards[r]); err != nil {
			t.Fatal(err)
		}
	}
	got, err := a.Reconstruct()
	if err != nil {
		t.Fatal(err)
	}
	for i := range data {
		if !bytes.Equal(got[i], data[i]) {
			t.Errorf("rebuilt data shard %d = %x, golden %x", i, got[i], data[i])
		}
	}
}
