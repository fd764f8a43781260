package identity

// labelSeparator joins a name and a short fingerprint: "root@vm·K7QF".
const labelSeparator = "·"

// Label is how every printer shows a key to a person: its name, followed
// by the first group of its fingerprint when the name alone would not
// say which key it is (another key uses the same name, or the key claims
// a trusted peer's name). A key with no name is shown by fingerprint.
// Names are labels, keys are identities: callers never print a bare
// peer name themselves.
func Label(name, fingerprint string, ambiguous bool) string {
	switch {
	case name == "":
		return fingerprint
	case ambiguous:
		return name + labelSeparator + shortFingerprint(fingerprint)
	}
	return name
}
