package protocol

import "encoding/binary"

// Message sizes (SPEC.md §7). A message is cut into K equal fragments,
// N-K parity fragments are added (fec, any K of N rebuild it), and every
// fragment travels sealed in its own signed packet.
const (
	// MaxMessageLen is the largest message text, in bytes.
	MaxMessageLen = 64 << 10
	// FragmentHeaderLen is message id, K, N, index and message length.
	FragmentHeaderLen = 8 + 1 + 1 + 1 + 4
	// SealOverhead is what secretbox and box add to a sealed fragment.
	SealOverhead = 16
	// MaxFragments is the most fragments (data and parity) of a message.
	MaxFragments = 255

	groupFixedLen   = 8 + 1 + FragmentHeaderLen      // channel, flags, fragment
	privateFixedLen = 8 + 32 + 1 + FragmentHeaderLen // recipient, box key, kind, fragment
	// MaxFragmentSize is the largest fragment either message type carries
	// sealed in one datagram; the private body has the larger fixed part.
	MaxFragmentSize = MaxSignedBody - privateFixedLen - SealOverhead
	// MaxMessageK is how many data fragments a MaxMessageLen message needs.
	MaxMessageK = (MaxMessageLen + MaxFragmentSize - 1) / MaxFragmentSize
)

// MessageID names one message of one sender; the sender picks it at
// random. Every fragment, every repeat and every retained re-send of a
// message carries the same id, which is what receivers deduplicate on.
type MessageID [8]byte

// Fragment says where one fragment sits in its message. Fragments are
// all Size() bytes; data fragment i holds message bytes
// [i*Size(), (i+1)*Size()), the last one zero-padded, and index K..N-1
// are fec parity fragments over the K data fragments.
type Fragment struct {
	Message MessageID
	K       byte   // data fragments, 1..MaxMessageK
	N       byte   // data plus parity fragments, K..MaxFragments
	Index   byte   // 0..N-1
	Length  uint32 // message bytes, 1..MaxMessageLen
}

// Size is the length of every fragment of the message: ceil(Length/K).
func (f Fragment) Size() int {
	if f.K == 0 {
		return 0
	}
	return (int(f.Length) + int(f.K) - 1) / int(f.K)
}

// FragmentFor returns the fragment header of fragment index of a message
// of length bytes cut into the fewest fragments that fit a datagram.
// Index and N are left to the caller; length must be 1..MaxMessageLen.
func FragmentFor(id MessageID, length int) Fragment {
	k := max((length+MaxFragmentSize-1)/MaxFragmentSize, 1)
	return Fragment{Message: id, K: byte(k), N: byte(k), Length: uint32(length)}
}

// valid checks the numbers agree, so no receiver sizes a buffer from a
// field the others contradict: no fragment is pure padding, and none is
// larger than a datagram can carry.
func (f Fragment) valid() bool {
	if f.Length == 0 || f.Length > MaxMessageLen || f.K == 0 || f.K > MaxMessageK ||
		f.N < f.K || f.N > MaxFragments || f.Index >= f.N {
		return false
	}
	size := f.Size()
	return size <= MaxFragmentSize && (int(f.K)-1)*size < int(f.Length)
}

func (f Fragment) appendBinary(b []byte) []byte {
	b = append(b, f.Message[:]...)
	b = append(b, f.K, f.N, f.Index)
	return binary.BigEndian.AppendUint32(b, f.Length)
}

func readFragment(r *reader) Fragment {
	return Fragment{Message: MessageID(r.array8()), K: r.u8(), N: r.u8(), Index: r.u8(), Length: r.u32()}
}

// Group message flags.
const (
	// GroupAnnounce marks an announcement (herald announce); without it
	// the message is chat.
	GroupAnnounce = 1 << 0
	// GroupPriorityHigh asks receivers to make the message stand out.
	GroupPriorityHigh = 1 << 1
	// GroupRetained says the sender re-sends the message for a while so
	// late joiners get it; receivers show it once.
	GroupRetained = 1 << 2

	groupFlagsKnown = GroupAnnounce | GroupPriorityHigh | GroupRetained
)

// GroupMsg is one fragment of an announcement or chat line to a channel
// (signed, control group). Channel is the channel id, all zero for the
// open channel. Payload is the fragment in clear on the open channel and
// secretbox-sealed under the channel's message key with nonce
// Envelope.Nonce24(0) otherwise (SealOverhead bytes longer).
type GroupMsg struct {
	Channel [8]byte
	Flags   byte
	Fragment
	Payload []byte
}

// Open reports whether the message is on the open channel (unsealed).
func (m GroupMsg) Open() bool { return m.Channel == [8]byte{} }

func (GroupMsg) Type() Type { return TypeGroupMsg }
func (m GroupMsg) Len() int { return groupFixedLen + len(m.Payload) }

func (m GroupMsg) AppendBinary(b []byte) []byte {
	b = append(b, m.Channel[:]...)
	b = append(b, m.Flags)
	b = m.Fragment.appendBinary(b)
	return append(b, m.Payload...)
}

// ParseGroupMsg parses a group message body without allocating; Payload
// is a sub-slice. It checks the payload is exactly one fragment, sealed
// unless the channel is open.
func ParseGroupMsg(body []byte) (GroupMsg, error) {
	r := reader{b: body}
	m := GroupMsg{Channel: r.array8(), Flags: r.u8(), Fragment: readFragment(&r)}
	m.Payload = r.rest()
	if r.err != nil {
		return GroupMsg{}, r.err
	}
	want := m.Size()
	if !m.Open() {
		want += SealOverhead
	}
	if m.Flags&^groupFlagsKnown != 0 || !m.valid() || len(m.Payload) != want {
		return GroupMsg{}, ErrField
	}
	return m, nil
}
