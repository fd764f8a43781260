package protocol

// Probe kinds (SPEC.md §5.3).
const (
	// ProbeData is one datagram of a probe burst; Padding fills it.
	ProbeData = 1
	// ProbeDone ends a burst on one path and asks for its report; Count
	// is how many ProbeData the prober sent on that path.
	ProbeDone = 2
	// ProbeReport answers ProbeDone: Count probes of the path arrived,
	// Bytes bytes of them, SpanMicros from the first to the last.
	ProbeReport = 3
)

// Probe paths.
const (
	ProbePathMulticast = 1
	ProbePathUnicast   = 2
)

// probeFixedLen is kind, path, session, target, count, span, bytes.
const probeFixedLen = 1 + 1 + 8 + 32 + 4 + 4 + 4

// Probe measures reach and rate between two nodes on one path (signed,
// control group or unicast). Target is the signing key of the probed
// node (the prober's for a report). Padding is ignored: it exists so a
// burst carries full-size datagrams.
type Probe struct {
	Kind, Path byte
	Session    [8]byte
	Target     [32]byte
	Count      uint32
	SpanMicros uint32
	Bytes      uint32
	Padding    []byte
}

func (Probe) Type() Type { return TypeProbe }
func (m Probe) Len() int { return probeFixedLen + len(m.Padding) }

func (m Probe) AppendBinary(b []byte) []byte {
	b = append(b, m.Kind, m.Path)
	b = append(b, m.Session[:]...)
	b = append(b, m.Target[:]...)
	b = appendU32(b, m.Count)
	b = appendU32(b, m.SpanMicros)
	b = appendU32(b, m.Bytes)
	return append(b, m.Padding...)
}

func appendU32(b []byte, v uint32) []byte {
	return append(b, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// ParseProbe parses a probe body without allocating; Padding is a
// sub-slice (any bytes after the fixed part, SPEC.md §5.3).
func ParseProbe(body []byte) (Probe, error) {
	r := reader{b: body}
	m := Probe{Kind: r.u8(), Path: r.u8(), Session: r.array8(), Target: r.array32(), Count: r.u32(), SpanMicros: r.u32(), Bytes: r.u32()}
	m.Padding = r.rest()
	if r.err != nil {
		return Probe{}, r.err
	}
	if m.Kind < ProbeData || m.Kind > ProbeReport || m.Path < ProbePathMulticast || m.Path > ProbePathUnicast {
		return Probe{}, ErrField
	}
	return m, nil
}
