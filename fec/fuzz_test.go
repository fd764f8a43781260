package fec

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// FuzzAssembler feeds an Assembler a fuzzer-chosen stream of genuine,
// forged, mis-sized and out-of-range shards with Resets in between, some
// through Add and some written in place (Slot, and Keep for genuine ones). It must
// never panic, must keep Have <= k, and whenever only genuine shards were
// kept, Reconstruct must return the original data.
func FuzzAssembler(f *testing.F) {
	f.Add([]byte{3, 8, 0, 2, 1, 2, 2, 2, 3, 2})
	f.Add([]byte{7, 1, 200, 2, 9, 2, 0, 0, 255, 2, 17, 2, 5, 2, 6, 2, 7, 2, 100, 2, 101, 2})
	f.Add([]byte{0, 16, 5, 7, 5, 1, 5, 2, 0, 255, 1, 2})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) < 2 {
			return
		}
		k, size := 1+int(ops[0])%8, 1+int(ops[1])%16
		c := mustNew(t, k, size)
		rng := rand.New(rand.NewPCG(uint64(k), uint64(size)))
		data := randomShards(rng, k, size)
		all := allShards(t, c, data)
		a := c.NewAssembler()
		forged := false

		check := func() {
			if a.Have() > k || a.Done() != (a.Have() == k) {
				t.Fatalf("Have=%d Done=%v with k=%d", a.Have(), a.Done(), k)
			}
			got, err := a.Reconstruct()
			if !a.Done() {
				if err == nil {
					t.Fatal("Reconstruct succeeded before Done")
				}
				return
			}
			if err != nil {
				t.Fatalf("Reconstruct after Done: %v", err)
			}
			if forged {
				return
			}
			for i := range data {
				if !bytes.Equal(got[i], data[i]) {
					t.Fatalf("genuine shards rebuilt a wrong data shard %d", i)
				}
			}
		}

		for op := ops[2:]; len(op) >= 2; op = op[2:] {
			index, mode := int(op[0]), op[1]
			var shard []byte
			switch mode % 8 {
			case 0:
				shard = bytes.Repeat([]byte{mode}, size) // forged
			case 1:
				shard = make([]byte, int(mode)%(2*size+1)) // usually mis-sized
			case 2, 3:
				shard = all[index]
			case 4, 5: // written in place: genuine and kept, or forged and not kept
				buf, err := a.Slot(index)
				if err != nil || buf == nil {
					continue
				}
				if mode%8 == 5 {
					copy(buf, bytes.Repeat([]byte{mode}, size))
					continue
				}
				copy(buf, all[index])
				if !a.Keep(index) {
					t.Fatalf("Keep(%d) right after its Slot refused", index)
				}
				continue
			case 6:
				check()
				a.Reset()
				forged = false
				continue
			case 7:
				index += MaxShards // out of range
				shard = all[0]
			}
			added, err := a.Add(index, shard)
			if err != nil && added {
				t.Fatalf("Add(%d) returned added with error %v", index, err)
			}
			if added && !bytes.Equal(shard, all[index]) {
				forged = true
			}
		}
		check()
	})
}
