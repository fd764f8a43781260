package protocol

import (
	"bytes"
	"errors"
	"testing"
)

var testMessageID = MessageID{0x6d, 0x73, 0x67, 0, 0, 0, 0, 1}

// messageGoldenBodies are the message packets whose bytes SPEC.md §7 cites.
func messageGoldenBodies() map[string]Body {
	text := []byte("hello, class")
	frag := FragmentFor(testMessageID, len(text))
	frag.N = 2
	sealed := bytes.Repeat([]byte{0x5e}, len(text)+SealOverhead)
	return map[string]Body{
		"groupmsg-open": GroupMsg{Flags: GroupAnnounce | GroupPriorityHigh, Fragment: frag, Payload: text},
		"groupmsg-channel": GroupMsg{Channel: [8]byte{9, 9}, Flags: GroupRetained,
			Fragment: Fragment{Message: testMessageID, K: 2, N: 3, Index: 2, Length: 2000},
			Payload:  bytes.Repeat([]byte{0xc1}, 1000+SealOverhead)},
		"private": Private{Recipient: [8]byte{1, 1, 1, 1, 1, 1, 1, 1}, BoxKey: [32]byte{7}, Kind: PrivateMessage,
			Fragment: frag, Sealed: sealed},
		"receipt": Private{Recipient: [8]byte{2, 2}, BoxKey: [32]byte{8}, Kind: PrivateReceipt,
			Fragment: Fragment{Message: testMessageID, K: 1, N: 1, Length: ReceiptLen},
			Sealed:   bytes.Repeat([]byte{0xa5}, ReceiptLen+SealOverhead)},
	}
}

// reparseMessage parses body as a message type and re-encodes it.
func reparseMessage(t Type, body []byte) ([]byte, error) {
	switch t {
	case TypeGroupMsg:
		m, err := ParseGroupMsg(body)
		if err != nil {
			return nil, err
		}
		return m.AppendBinary(nil), nil
	case TypePrivate:
		m, err := ParsePrivate(body)
		if err != nil {
			return nil, err
		}
		return m.AppendBinary(nil), nil
	}
	return nil, errors.New("no message parser for " + t.String())
}

func TestMessageGoldenVectors(t *testing.T) {
	for name, body := range messageGoldenBodies() {
		t.Run(name, func(t *testing.T) {
			pkt, _ := testSigner().Append(nil, body)
			if len(pkt) != SignedLen(body) || len(body.AppendBinary(nil)) != body.Len() {
				t.Fatal("Len disagrees with encoding")
			}
			checkGolden(t, name, pkt)
			s, err := ParseSigned(pkt)
			if err != nil || !s.Verify() || s.Type != body.Type() {
				t.Fatalf("parse/verify: %v", err)
			}
			enc, err := reparseMessage(s.Type, s.Body)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(enc, body.AppendBinary(nil)) {
				t.Fatal("round trip changed the body")
			}
		})
	}
}

// TestMessageTruncated tries every prefix of every message body: each
// fails, so a receiver never reads past what arrived.
func TestMessageTruncated(t *testing.T) {
	for name, body := range messageGoldenBodies() {
		t.Run(name, func(t *testing.T) {
			enc := body.AppendBinary(nil)
			for n := range len(enc) {
				if _, err := reparseMessage(body.Type(), enc[:n]); err == nil {
					t.Fatalf("prefix %d of %d parsed", n, len(enc))
				}
			}
			if _, err := reparseMessage(body.Type(), append(enc, 0)); !errors.Is(err, ErrField) {
				t.Fatalf("trailing byte: got %v, want ErrField", err)
			}
		})
	}
}

func TestGroupMsgRejects(t *testing.T) {
	good := messageGoldenBodies()["groupmsg-open"].(GroupMsg)
	cases := []struct {
		name   string
		mutate func(m *GroupMsg)
	}{
		{"unknown flag", func(m *GroupMsg) { m.Flags |= 1 << 7 }},
		{"zero length", func(m *GroupMsg) { m.Length = 0 }},
		{"too long", func(m *GroupMsg) { m.Length = MaxMessageLen + 1 }},
		{"k zero", func(m *GroupMsg) { m.K = 0 }},
		{"n below k", func(m *GroupMsg) { m.K, m.N = 3, 2 }},
		{"index beyond n", func(m *GroupMsg) { m.Index = m.N }},
		{"k too large", func(m *GroupMsg) { m.K, m.N = MaxMessageK+1, MaxMessageK+1 }},
		{"fragment too large", func(m *GroupMsg) { m.Length = MaxFragmentSize + 1 }},
		{"pure padding fragment", func(m *GroupMsg) { m.K, m.N, m.Length = 4, 4, 5 }},
		{"sealed size on open channel", func(m *GroupMsg) { m.Payload = append(m.Payload, make([]byte, SealOverhead)...) }},
		{"clear size on a channel", func(m *GroupMsg) { m.Channel[0] = 1 }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := good
			m.Payload = bytes.Clone(good.Payload)
			c.mutate(&m)
			if _, err := ParseGroupMsg(m.AppendBinary(nil)); !errors.Is(err, ErrField) {
				t.Fatalf("got %v, want ErrField", err)
			}
		})
	}
}

// TestFragmentFor checks every message length gets a valid, tight cut.
func TestFragmentFor(t *testing.T) {
	for length := 1; length <= MaxMessageLen; length++ {
		f := FragmentFor(MessageID{}, length)
		if !f.valid() {
			t.Fatalf("length %d: invalid %+v", length, f)
		}
		if f.K > 1 && (int(f.K)-1)*MaxFragmentSize >= length {
			t.Fatalf("length %d: %d fragments where fewer fit", length, f.K)
		}
	}
	if FragmentFor(MessageID{}, MaxMessageLen).K != MaxMessageK {
		t.Fatal("MaxMessageK disagrees with FragmentFor")
	}
}

func TestMessageSizesAddUp(t *testing.T) {
	if FragmentHeaderLen != 15 || MaxFragmentSize != 1202 || MaxMessageK != 55 {
		t.Fatalf("constants moved: fragment header %d, max fragment %d, max k %d", FragmentHeaderLen, MaxFragmentSize, MaxMessageK)
	}
	full := Fragment{K: 1, N: 1, Length: MaxFragmentSize}
	for _, body := range []Body{
		GroupMsg{Channel: [8]byte{1}, Fragment: full, Payload: make([]byte, MaxFragmentSize+SealOverhead)},
		Private{Kind: PrivateMessage, Fragment: full, Sealed: make([]byte, MaxFragmentSize+SealOverhead)},
	} {
		if SignedLen(body) > MaxDatagram {
			t.Fatalf("%v with a full fragment is %d bytes > MaxDatagram", body.Type(), SignedLen(body))
		}
	}
	if MaxMessageK > MaxFragments || MaxFragments >= 256 {
		t.Fatal("fragment indices do not fit a byte")
	}
}

func TestMessageParseAllocatesNothing(t *testing.T) {
	bodies := messageGoldenBodies()
	group, _ := testSigner().Append(nil, bodies["groupmsg-channel"])
	private, _ := testSigner().Append(nil, bodies["private"])
	n := testing.AllocsPerRun(100, func() {
		s, _ := ParseSigned(group)
		_, _ = ParseGroupMsg(s.Body)
		s, _ = ParseSigned(private)
		_, _ = ParsePrivate(s.Body)
	})
	if n != 0 {
		t.Fatalf("parsing allocated %v times", n)
	}
}

// FuzzParseMessage feeds any datagram to the message parsers: none may
// panic, every body that parses re-encodes to the same bytes, and every
// parsed fragment is one a receiver can size safely.
func FuzzParseMessage(f *testing.F) {
	for _, body := range messageGoldenBodies() {
		pkt, _ := testSigner().Append(nil, body)
		f.Add(pkt)
	}
	f.Fuzz(func(t *testing.T, pkt []byte) {
		s, err := ParseSigned(pkt)
		if err != nil {
			return
		}
		enc, err := reparseMessage(s.Type, s.Body)
		if err != nil {
			return
		}
		if !bytes.Equal(enc, s.Body) {
			t.Fatalf("%v: round trip changed the body\n in %x\nout %x", s.Type, s.Body, enc)
		}
		var frag Fragment
		if s.Type == TypeGroupMsg {
			m, _ := ParseGroupMsg(s.Body)
			frag = m.Fragment
		} else {
			m, _ := ParsePrivate(s.Body)
			frag = m.Fragment
		}
		if frag.Size() > MaxFragmentSize || int(frag.K)*frag.Size() > MaxMessageK*MaxFragmentSize {
			t.Fatalf("parsed fragment %+v is oversized", frag)
		}
	})
}
