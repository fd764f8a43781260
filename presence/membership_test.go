package presence

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/protocol"
)

func mustChannel(t *testing.T, name string) identity.Channel {
	t.Helper()
	c, err := identity.NewChannel(name, "")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (m *member) join(t *testing.T, c identity.Channel) {
	t.Helper()
	if err := m.node.Channels.Add(c); err != nil {
		t.Fatal(err)
	}
}

// TestMembershipShowsWhoHoldsAChannel: a peer is listed as holding a
// channel exactly when it proved it, and only to members of it.
func TestMembershipShowsWhoHoldsAChannel(t *testing.T) {
	memnet := multicast.NewMemNet(3)
	class, other := mustChannel(t, "class"), mustChannel(t, "other")
	teacher := newMember(t, memnet, "teacher", protocol.OfferPush)
	student := newMember(t, memnet, "student", protocol.OfferReceive)
	outsider := newMember(t, memnet, "outsider", protocol.OfferReceive)
	teacher.join(t, class)
	teacher.join(t, other)
	student.join(t, class)
	outsider.join(t, mustChannel(t, "class")) // same name, another secret: not the class
	for _, m := range []*member{teacher, student, outsider} {
		m.start(t)
	}

	holds := func(seer, seen *member) []string {
		info, ok := seer.p.Lookup(seen.node.ID.SignPub)
		if !ok {
			return nil
		}
		return info.Channels
	}
	waitFor(t, "teacher to see the student in class", func() bool { return slices.Equal(holds(teacher, student), []string{"class"}) })
	waitFor(t, "the student to see the teacher in class", func() bool { return slices.Equal(holds(student, teacher), []string{"class"}) })
	waitFor(t, "teacher to see the outsider", func() bool { _, ok := teacher.p.Lookup(outsider.node.ID.SignPub); return ok })
	// Several rounds of Membership have passed by now.
	time.Sleep(3 * fast.interval)
	if got := holds(teacher, outsider); len(got) != 0 {
		t.Errorf("a key holding another channel named class is listed in %v", got)
	}
	if got := holds(outsider, teacher); len(got) != 0 {
		t.Errorf("the outsider learns the teacher holds %v", got)
	}
	if got := holds(student, teacher); slices.Contains(got, "other") {
		t.Errorf("the student, no member of other, sees %v", got)
	}
	info, _ := teacher.p.Lookup(student.node.ID.SignPub)
	if !info.Holds("class") || !info.Holds("open") || info.Holds("other") {
		t.Errorf("Holds disagrees with Channels %v", info.Channels)
	}

	// Leaving the channel stops the proof; the listing expires.
	if err := student.node.Channels.Remove("class"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the student to drop out of class", func() bool { return len(holds(teacher, student)) == 0 })
}

// TestMembershipCannotBeClaimed: a key that does not hold the channel
// cannot make it listed: not with random tags, not with a member's tags
// copied into its own packet.
func TestMembershipCannotBeClaimed(t *testing.T) {
	memnet := multicast.NewMemNet(4)
	class := mustChannel(t, "class")
	teacher := newMember(t, memnet, "teacher", protocol.OfferPush)
	teacher.join(t, class)
	teacher.start(t)
	in := newInjector(t, memnet, teacher.node.Control)
	mallory := newStranger(t)
	in.beacon(mallory, protocol.Beacon{Name: "mallory"})
	waitFor(t, "mallory in the table", func() bool { _, ok := teacher.p.Lookup(mallory.pub); return ok })

	// A member's genuine tag, made for the member's own envelope.
	key := class.Key(identity.PurposePresence)
	member := newStranger(t)
	stolen := protocol.MembershipTag(&key, member.signer.Next())
	// A tag made with the channel ID instead of the secret's presence key.
	var guessed [32]byte
	id := class.ID()
	copy(guessed[:], id[:])
	for i, tags := range [][][protocol.MembershipTagLen]byte{
		{stolen, {}, {}, {}},
		{protocol.MembershipTag(&guessed, mallory.signer.Next())},
	} {
		pkt, _ := mallory.signer.Append(nil, protocol.Membership{Tags: tags})
		if _, err := in.conn.WriteBatch([][]byte{pkt}, in.group); err != nil {
			t.Fatal(err)
		}
		in.beacon(mallory, protocol.Beacon{Name: fmt.Sprint("mallory", i)})
	}
	// A right tag from a key not in the table yet is ignored, even once
	// its beacon follows.
	early := newStranger(t)
	eenv := early.signer.Next()
	first := protocol.Membership{Tags: [][protocol.MembershipTagLen]byte{protocol.MembershipTag(&key, eenv)}}
	if _, err := in.conn.WriteBatch([][]byte{early.signer.AppendWith(nil, eenv, first)}, in.group); err != nil {
		t.Fatal(err)
	}
	in.beacon(early, protocol.Beacon{Name: "early"})
	// The control: a right tag on the same path is listed. It is sent
	// after mallory's packets, so once it shows they were handled.
	honest := newStranger(t)
	in.beacon(honest, protocol.Beacon{Name: "honest"})
	waitFor(t, "honest in the table", func() bool { _, ok := teacher.p.Lookup(honest.pub); return ok })
	henv := honest.signer.Next()
	right := protocol.Membership{Tags: [][protocol.MembershipTagLen]byte{protocol.MembershipTag(&key, henv)}}
	if _, err := in.conn.WriteBatch([][]byte{honest.signer.AppendWith(nil, henv, right)}, in.group); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a member with a right tag to be listed", func() bool {
		info, _ := teacher.p.Lookup(honest.pub)
		return info.Holds("class")
	})
	if info, _ := teacher.p.Lookup(mallory.pub); info.Holds("class") {
		t.Fatalf("mallory, no member, is listed in class")
	}
	if info, ok := teacher.p.Lookup(early.pub); !ok || info.Holds("class") {
		t.Fatalf("a Membership sent before its sender's beacon was used (or the beacon lost): %+v", info)
	}
}

func TestPadded(t *testing.T) {
	for n, want := range map[int]int{1: 4, 4: 4, 5: 8, 64: 64} {
		if got := padded(n); got != want {
			t.Errorf("padded(%d) = %d, want %d", n, got, want)
		}
	}
}
