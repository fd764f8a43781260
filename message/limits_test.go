package message

import (
	"testing"
	"time"

	"github.com/herald-lan/herald/protocol"
)

var t0 = time.Unix(1_790_000_000, 0)

func TestRateLimiter(t *testing.T) {
	a, b := [protocol.SenderLen]byte{1}, [protocol.SenderLen]byte{2}
	l := newRateLimiter(20, 50)
	for i := range 50 {
		if !l.allow(a, t0) {
			t.Fatalf("message %d of the burst refused", i)
		}
	}
	if l.allow(a, t0) {
		t.Fatal("51st message in the same instant allowed")
	}
	if !l.allow(b, t0) {
		t.Fatal("another sender paid for the first one's flood")
	}
	if !l.allow(a, t0.Add(50*time.Millisecond)) || l.allow(a, t0.Add(50*time.Millisecond)) {
		t.Fatal("50 ms at 20/s should refill exactly one token")
	}
	if l.allow(a, t0.Add(-time.Second)) {
		t.Fatal("a clock step backwards refilled the bucket")
	}

	t.Run("sender table bounded", func(t *testing.T) {
		l := newRateLimiter(20, 50)
		l.maxSenders = 2
		l.allow(a, t0)
		l.allow(b, t0)
		if l.allow([protocol.SenderLen]byte{3}, t0) {
			t.Fatal("third sender admitted while two are busy")
		}
		if !l.allow([protocol.SenderLen]byte{3}, t0.Add(time.Minute)) {
			t.Fatal("third sender refused although the others went idle")
		}
		if len(l.buckets) > 2 {
			t.Fatalf("%d buckets kept, bound is 2", len(l.buckets))
		}
	})
}

func testShape(k byte) shape {
	return shape{frag: protocol.Fragment{K: k, N: k + 1, Length: uint32(k) * 100}, typ: protocol.TypeGroupMsg}
}

func TestReassemblyBounds(t *testing.T) {
	r := newReassembly()
	r.maxSender, r.maxTotal = 2, 3
	a, b := [protocol.SenderLen]byte{1}, [protocol.SenderLen]byte{2}
	key := func(s [protocol.SenderLen]byte, n byte) msgKey { return msgKey{s, protocol.MessageID{n}} }

	if _, ev, ok := r.start(key(a, 1), testShape(2), t0, 0); !ok || ev {
		t.Fatal("first partial refused")
	}
	r.start(key(a, 2), testShape(2), t0.Add(time.Second), 0)
	if _, ev, ok := r.start(key(a, 3), testShape(2), t0.Add(2*time.Second), 0); !ok || !ev {
		t.Fatal("a sender at its bound should lose its own oldest partial")
	}
	if _, gone := r.partials[key(a, 1)]; gone {
		t.Fatal("the oldest partial of the sender was not the one evicted")
	}
	r.start(key(b, 1), testShape(2), t0, 0)
	if _, _, ok := r.start(key(b, 2), testShape(2), t0, 0); ok {
		t.Fatal("total bound of 3 exceeded")
	}
	if n := r.expire(t0.Add(ReassemblyTimeout + time.Second)); n != 2 {
		t.Fatalf("expired %d partials, want the 2 started at least %v before", n, ReassemblyTimeout)
	}
	if len(r.partials) != 1 || r.perSender[b] != 0 || r.perSender[a] != 1 {
		t.Fatalf("after expiry: %d partials, per sender %v", len(r.partials), r.perSender)
	}
}

func TestDoneSet(t *testing.T) {
	d := newDoneSet(3)
	k := func(n byte) msgKey { return msgKey{id: protocol.MessageID{n}} }
	for i := range byte(4) {
		d.add(k(i), t0)
	}
	if d.has(k(0)) || !d.has(k(1)) || !d.has(k(3)) || len(d.last) != 3 {
		t.Fatal("done set is not a FIFO of 3")
	}
	d.add(k(3), t0) // already there: must not evict anything
	if !d.has(k(1)) {
		t.Fatal("re-adding a known key evicted another")
	}
	if d.receiptDue(k(3), t0.Add(receiptGap/2)) {
		t.Fatal("receipt due again within receiptGap")
	}
	if !d.receiptDue(k(3), t0.Add(receiptGap)) || d.receiptDue(k(3), t0.Add(receiptGap)) {
		t.Fatal("one receipt per receiptGap")
	}
	if d.receiptDue(k(9), t0) {
		t.Fatal("receipt for a message never completed")
	}
}
