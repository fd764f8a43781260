//go:build unix

package push

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/herald-lan/herald/fec"
	"github.com/herald-lan/herald/protocol"
)

// The receiver's CPU per byte, in process: a 64 MB push with the default
// code (K=64, 1344-byte shards) goes through a receiving session's onData
// in the order a sender sends it (per window of interleave blocks, the
// signed hash lists twice, then the shards index-major across the
// window), batch by batch under the session lock as the socket reader
// delivers them, into a sink on tmpfs. No sockets: what it measures is
// the AEAD, the hashes, the decoder and the bookkeeping. BenchmarkReceiveFloor
// does only what no receiver can avoid (copy each shard once, write each
// block) over the same datagrams, for a ratio within one run.
//
//	go test ./push -run '^$' -bench 'Receive(Session|Floor)' -benchtime 5x -cpuprofile /tmp/rx.pprof

const benchPushBytes = 64 << 20

// benchPushes are built once per parity: building one seals 50 000 shards.
var benchPushes sync.Map // parity -> *testPush

func benchPush(b *testing.B, parity int) *testPush {
	if p, ok := benchPushes.Load(parity); ok {
		return p.(*testPush)
	}
	p := buildTestPush(b, fec.DefaultK, fec.DefaultShardSize, benchPushBytes, parity)
	benchPushes.Store(parity, p)
	return p
}

// senderOrder is the data group's datagrams as the sender's first pass
// sends them (with each window's list seal, or as a sender without them),
// less a loss of lossPermille of the shards (never more per block than
// its parity, so every block completes without repair).
func senderOrder(b *testing.B, p *testPush, lossPermille int, sealed bool) [][]byte {
	rng := rand.New(rand.NewPCG(5, 6))
	lister := newShardLister(p.signer, p.sid, int(p.announce.ShardSize))
	var out [][]byte
	blocks := len(p.byBlock)
	for w := 0; w < blocks; w += interleave {
		end := min(w+interleave, blocks)
		var lists [][]byte
		for b := w; b < end; b++ {
			lists = append(lists, p.listsOf[b]...)
		}
		if sealed {
			seals, err := lister.seals(lists)
			if err != nil {
				b.Fatal(err)
			}
			lists = append(seals, lists...)
		}
		out = append(append(out, lists...), lists...)
		lost := make([]int, end-w)
		parity := len(p.byBlock[w]) - int(p.announce.K)
		for idx := range fec.MaxShards {
			for b := w; b < end; b++ {
				if idx >= len(p.byBlock[b]) {
					continue
				}
				if lost[b-w] < parity && rng.IntN(1000) < lossPermille {
					lost[b-w]++
					continue
				}
				out = append(out, p.byBlock[b][idx])
			}
		}
	}
	return out
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchDir is a fresh folder on tmpfs when there is one, so the disk
// stays out of the figures.
func benchDir(b *testing.B) string {
	parent := "/dev/shm"
	if st, err := os.Stat(parent); err != nil || !st.IsDir() {
		parent = b.TempDir()
	}
	dir, err := os.MkdirTemp(parent, "herald-rxbench-")
	if err != nil {
		b.Fatal(err)
	}
	return dir
}

// reportPerByte adds ns/shard and the process's CPU seconds per GB
// (1 GB = 2^30 bytes, as the bench driver counts it) to the result.
func reportPerByte(b *testing.B, stream [][]byte, cpu time.Duration, bytes int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(stream)), "ns/datagram")
	b.ReportMetric(cpu.Seconds()/(float64(b.N)*float64(bytes)/(1<<30)), "CPU-s/GB")
}

func BenchmarkReceiveSession(b *testing.B) {
	for _, c := range []struct {
		name         string
		loss, parity int
		sealed       bool
	}{
		{"loss=0", 0, 0, true},
		{"loss=5%", 50, 6, true}, // the parity the sender adapts to at 5 % (sender_feedback.go)
		{"loss=0/unsealed", 0, 0, false},
	} {
		b.Run(c.name, func(b *testing.B) {
			p := benchPush(b, c.parity)
			stream := senderOrder(b, p, c.loss, c.sealed)
			lab := newRSessionLab(b, b.TempDir())
			b.SetBytes(benchPushBytes)
			b.ReportAllocs()
			var cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				dir := benchDir(b)
				s := lab.bareSession(b, p, dir)
				b.StartTimer()
				before := cpuTime(b)
				s.mu.Lock()
				for _, ch := range p.chunks {
					s.onData(ch, lab.src)
				}
				s.mu.Unlock()
				for i := 0; i < len(stream); i += readBatch {
					s.mu.Lock()
					for _, d := range stream[i:min(i+readBatch, len(stream))] {
						s.onData(d, lab.src)
					}
					s.mu.Unlock()
				}
				cpu += cpuTime(b) - before
				b.StopTimer()
				if s.phase != phaseDone || s.err != nil || s.badBlocks != 0 || s.rejected != 0 {
					b.Fatalf("push not received: phase %d, err %v, %d bad blocks, %d rejected", s.phase, s.err, s.badBlocks, s.rejected)
				}
				s.dataConn.Close()
				s.fbConn.Close()
				os.RemoveAll(dir)
				b.StartTimer()
			}
			reportPerByte(b, stream, cpu, benchPushBytes)
		})
	}
}

// BenchmarkReceiveFloor is the floor under BenchmarkReceiveSession: each
// data shard's sealed bytes copied once into its block (no AEAD, no hash,
// no decoder) and each block written to a file on tmpfs when its K data
// shards are in.
func BenchmarkReceiveFloor(b *testing.B) {
	p := benchPush(b, 0)
	stream := senderOrder(b, p, 0, true)
	shard := int(p.announce.ShardSize)
	bsize := int(p.announce.K) * shard
	b.SetBytes(benchPushBytes)
	b.ReportAllocs()
	var cpu time.Duration
	blocks := make([][]byte, interleave)
	for i := range blocks {
		blocks[i] = make([]byte, bsize)
	}
	have := make([]int, len(p.byBlock))
	for b.Loop() {
		b.StopTimer()
		dir := benchDir(b)
		f, err := os.Create(filepath.Join(dir, p.name))
		if err != nil {
			b.Fatal(err)
		}
		clear(have)
		b.StartTimer()
		before := cpuTime(b)
		for _, d := range stream {
			h, err := protocol.ParseHeader(d)
			if err != nil || h.Type != protocol.TypeData {
				continue
			}
			v, err := protocol.ParseData(d)
			if err != nil {
				b.Fatal(err)
			}
			blk := int(v.Block)
			buf := blocks[blk%interleave]
			copy(buf[int(v.Shard)*shard:], v.Sealed[:shard])
			if have[blk]++; have[blk] == len(p.byBlock[blk]) { // no parity: the block's K data shards
				n := min(bsize, benchPushBytes-blk*bsize)
				if _, err := f.WriteAt(buf[:n], int64(blk*bsize)); err != nil {
					b.Fatal(err)
				}
			}
		}
		cpu += cpuTime(b) - before
		b.StopTimer()
		f.Close()
		os.RemoveAll(dir)
		b.StartTimer()
	}
	reportPerByte(b, stream, cpu, benchPushBytes)
}
