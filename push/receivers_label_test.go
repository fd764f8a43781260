package push

import (
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/protocol"
)

// Receivers are named as their presence beacons claim, read again at
// report time, and cloned machines sharing one default name read apart
// (name and short fingerprint); a receiver never heard shows by its
// fingerprint.
func TestReportLabelsTellClonesApart(t *testing.T) {
	n, _ := teacherNode(t, time.Now)
	s := newBareSender(t, n, 4, 4)
	keys := [][32]byte{{1}, {2}, {3}, {4}}
	names := map[[32]byte]string{keys[0]: "root@vm", keys[1]: "root@vm", keys[2]: "lab-7"}
	s.table.nameOf = func(pub ed25519.PublicKey) string { return names[[32]byte(pub)] }
	for _, k := range keys {
		s.table.apply(n.Now(), statusMsg{from: k, state: protocol.StateReceiving})
	}
	names[keys[3]] = "late" // its beacon came after it joined
	rs, _ := s.table.receiverReports(n.Now(), n.Now())
	got := map[string]string{}
	for _, r := range rs {
		got[r.Fingerprint] = r.Name
	}
	fp := func(i int) string { return identity.Fingerprint(keys[i][:]) }
	if a, b := got[fp(0)], got[fp(1)]; a == b || !strings.HasPrefix(a, "root@vm") || !strings.HasPrefix(b, "root@vm") {
		t.Errorf("two receivers named root@vm read %q and %q, want both named and told apart", a, b)
	}
	if got[fp(2)] != "lab-7" || got[fp(3)] != "late" {
		t.Errorf("labels %q and %q, want lab-7 and late", got[fp(2)], got[fp(3)])
	}
}
