package protocol

import (
	"bytes"
	"errors"
	"testing"
)

func TestPrivateRejects(t *testing.T) {
	bodies := messageGoldenBodies()
	cases := []struct {
		name   string
		base   string
		mutate func(m *Private)
	}{
		{"unknown kind", "private", func(m *Private) { m.Kind = 3 }},
		{"kind zero", "private", func(m *Private) { m.Kind = 0 }},
		{"unsealed size", "private", func(m *Private) { m.Sealed = m.Sealed[:len(m.Sealed)-SealOverhead] }},
		{"index beyond n", "private", func(m *Private) { m.Index = m.N }},
		{"receipt with parity", "receipt", func(m *Private) { m.N = 2 }},
		{"receipt of wrong length", "receipt", func(m *Private) {
			m.Length = ReceiptLen + 1
			m.Sealed = make([]byte, ReceiptLen+1+SealOverhead)
		}},
		{"receipt in two fragments", "receipt", func(m *Private) {
			m.K, m.N, m.Length = 2, 2, 2*ReceiptLen
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := bodies[c.base].(Private)
			m.Sealed = bytes.Clone(m.Sealed)
			c.mutate(&m)
			if _, err := ParsePrivate(m.AppendBinary(nil)); !errors.Is(err, ErrField) {
				t.Fatalf("got %v, want ErrField", err)
			}
		})
	}
}

// TestPrivateFieldsAtFixedOffsets pins where the recipient sits, since a
// receiver drops packets for others by it before anything else.
func TestPrivateFieldsAtFixedOffsets(t *testing.T) {
	m := messageGoldenBodies()["private"].(Private)
	enc := m.AppendBinary(nil)
	if !bytes.Equal(enc[:8], m.Recipient[:]) || !bytes.Equal(enc[8:40], m.BoxKey[:]) || enc[40] != m.Kind {
		t.Fatalf("private body layout moved: %x", enc[:41])
	}
	if !bytes.Equal(enc[privateFixedLen:], m.Sealed) {
		t.Fatal("sealed fragment not right after the fixed part")
	}
}
