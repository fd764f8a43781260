package push

import (
	"net/netip"
	"testing"
	"time"

	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/protocol"
)

// countingConn is a data socket that counts the batches it copies by
// unicast.
type countingConn struct {
	multicast.Conn
	unicast int
}

func (c *countingConn) WriteUnicastBatch(payloads [][]byte, _ netip.AddrPort) (int, error) {
	c.unicast++
	return len(payloads), nil
}

// During the first pass a unicast receiver gets about copyShareFirstPass
// of the windows; the others are noted for the unicast pass (in order,
// their NACKs waiting for it), batches outside windows always go, and
// after the first pass everything does.
func TestUnicastShareOfTheFirstPass(t *testing.T) {
	n, host := teacherNode(t, time.Now)
	data := netip.MustParseAddrPort("239.255.73.9:4772")
	group, err := host.Listen(netip.MustParseAddrPort("239.255.74.9:4772"))
	if err != nil {
		t.Fatal(err)
	}
	conn := &countingConn{Conn: group}
	m := newUnicastMirror(conn, n, data)
	shard := append(protocol.AppendDataHeader(nil, protocol.SessionID{1}, 0, 0), make([]byte, 64)...)
	const windows = 40
	const resumed = 5 // windows start after a resumed prefix, not at multiples of interleave

	// No unicast receiver yet: nothing is noted.
	m.startWindow(0, 1000)
	m.endWindow()
	if _, due := m.nextPassWindow(); due {
		t.Fatal("a window was noted for a unicast pass with no unicast receiver")
	}

	m.serve("FP", netip.MustParseAddrPort("198.18.0.9:4772"))
	for w := range windows {
		m.startWindow(resumed+w*interleave, 1000)
		m.WriteBatch([][]byte{shard}, data)
		m.endWindow()
	}
	if want := int(windows * copyShareFirstPass); conn.unicast < want-1 || conn.unicast > want+1 {
		t.Errorf("%d of %d first-pass windows copied, want about %d", conn.unicast, windows, want)
	}
	copied := conn.unicast
	m.WriteBatch([][]byte{shard}, data) // repair between windows
	if conn.unicast != copied+1 {
		t.Error("a batch outside a window was not copied")
	}
	pending := 0
	for w := range windows {
		first, last := resumed+w*interleave, resumed+w*interleave+interleave-1
		if m.passPending(first) != m.passPending(last) {
			t.Fatalf("window %d: its first and last blocks disagree on the unicast pass", w)
		}
		if m.passPending(last) {
			pending++
		}
	}
	if m.passPending(resumed - 1) {
		t.Error("a block of the resumed prefix waits for the unicast pass")
	}
	if pending+copied != windows {
		t.Errorf("%d windows copied and %d noted, want %d in all", copied, pending, windows)
	}
	m.endFirstPass()
	last := -1
	for range pending {
		w, ok := m.nextPassWindow()
		if !ok || w <= last {
			t.Fatalf("unicast pass: window %d after %d (ok %v), want the noted ones in order", w, last, ok)
		}
		last = w
	}
	if _, ok := m.nextPassWindow(); ok {
		t.Error("the unicast pass owes more windows than were noted")
	}
	before := conn.unicast
	m.startWindow(0, 1000)
	m.WriteBatch([][]byte{shard}, data)
	m.endWindow()
	if conn.unicast != before+1 {
		t.Error("after the first pass a window was not copied")
	}
}
