package protocol

import "encoding/binary"

// Receiver states in Status (SPEC.md §6.6).
const (
	StateJoined    = 1 // accepted the announce, waiting or receiving
	StateReceiving = 2
	StateComplete  = 3 // every file verified and in place
	StateFailed    = 4 // gave up (disk full, write error); Reason says why
	StateRefused   = 5 // does not accept this sender or cannot decrypt
)

// Status sizes: Session, State, Reason, Have prefix, Complete, Loss,
// Received, Lost, Overflow, NACK count (SPEC.md §6.6).
const (
	NackLen     = 4 + 1 + 1
	statusFixed = 8 + 1 + 1 + 4 + 4 + 2 + 4 + 4 + 4 + 1
	MaxNacks    = 192
)

// Nack says block Block still lacks shards: the receiver holds Have
// distinct shards and has seen shard indexes up to MaxIndex.
type Nack struct {
	Block    uint32
	Have     byte
	MaxIndex byte
}

// Status is a receiver's feedback (signed, feedback group): register,
// progress, NACKs and completion in one packet.
type Status struct {
	Session    SessionID
	State      byte
	Reason     byte   // for StateFailed / StateRefused
	HavePrefix uint32 // blocks [0, HavePrefix) verified (resume)
	Complete   uint32 // blocks verified in total
	Loss       uint16 // per mille of shards lost in the last interval
	// Cumulative counts since the receiver joined, so a lost status loses
	// no information: data shards that arrived, shards missing from the
	// index sequence (of any cause), and datagrams the receiver's own
	// socket dropped because it did not read fast enough (overload, not
	// the network). Each wraps at 2^32.
	Received uint32
	Lost     uint32
	Overflow uint32
	Nacks    []Nack
}

func (Status) Type() Type { return TypeStatus }
func (m Status) Len() int { return statusFixed + len(m.Nacks)*NackLen }

func (m Status) AppendBinary(b []byte) []byte {
	b = append(b, m.Session[:]...)
	b = append(b, m.State, m.Reason)
	b = binary.BigEndian.AppendUint32(b, m.HavePrefix)
	b = binary.BigEndian.AppendUint32(b, m.Complete)
	b = binary.BigEndian.AppendUint16(b, m.Loss)
	b = binary.BigEndian.AppendUint32(b, m.Received)
	b = binary.BigEndian.AppendUint32(b, m.Lost)
	b = binary.BigEndian.AppendUint32(b, m.Overflow)
	b = append(b, byte(len(m.Nacks)))
	for _, n := range m.Nacks {
		b = binary.BigEndian.AppendUint32(b, n.Block)
		b = append(b, n.Have, n.MaxIndex)
	}
	return b
}

// StatusView is a parsed Status whose NACKs stay in the packet buffer.
type StatusView struct {
	Session    SessionID
	State      byte
	Reason     byte
	HavePrefix uint32
	Complete   uint32
	Loss       uint16
	Received   uint32
	Lost       uint32
	Overflow   uint32
	nacks      []byte
}

// NackCount is the number of NACK entries.
func (s StatusView) NackCount() int { return len(s.nacks) / NackLen }

// Nack returns entry i.
func (s StatusView) Nack(i int) Nack {
	e := s.nacks[i*NackLen:]
	return Nack{Block: binary.BigEndian.Uint32(e), Have: e[4], MaxIndex: e[5]}
}

// ParseStatus parses a Status body without allocating.
func ParseStatus(body []byte) (StatusView, error) {
	r := reader{b: body}
	s := StatusView{Session: SessionID(r.array8()), State: r.u8(), Reason: r.u8(),
		HavePrefix: r.u32(), Complete: r.u32(), Loss: r.u16(), Received: r.u32(), Lost: r.u32(), Overflow: r.u32()}
	n := int(r.u8())
	if r.err != nil {
		return StatusView{}, r.err
	}
	if s.State < StateJoined || s.State > StateRefused || n > MaxNacks || s.Loss > 1000 {
		return StatusView{}, ErrField
	}
	s.nacks = r.take(n * NackLen)
	if err := r.done(); err != nil {
		return StatusView{}, err
	}
	return s, nil
}

// End reasons.
const (
	EndComplete = 1 // every expected receiver completed (or carousel ended)
	EndAborted  = 2 // the sender stopped before the end
)

// End closes a session (signed, control group).
type End struct {
	Session SessionID
	Reason  byte
}

func (End) Type() Type { return TypeEnd }
func (End) Len() int   { return 9 }

func (m End) AppendBinary(b []byte) []byte { return append(append(b, m.Session[:]...), m.Reason) }

// ParseEnd parses an End body.
func ParseEnd(body []byte) (End, error) {
	r := reader{b: body}
	m := End{Session: SessionID(r.array8()), Reason: r.u8()}
	if err := r.done(); err != nil {
		return End{}, err
	}
	if m.Reason != EndComplete && m.Reason != EndAborted {
		return End{}, ErrField
	}
	return m, nil
}

// Reasons a receiver gives with StateFailed or StateRefused.
const (
	ReasonNone      = 0
	ReasonUntrusted = 1 // sender not trusted by this receiver
	ReasonNoKey     = 2 // no grant this receiver can open
	ReasonDiskFull  = 3 // not enough free space, or ENOSPC while writing
	ReasonWrite     = 4 // another local write error
	ReasonTooLarge  = 5 // exceeds this receiver's limits
	ReasonBusy      = 6 // too many sessions at once
)
