package identity

import (
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestChannelDerivationGolden(t *testing.T) {
	v := loadVectors(t)
	c := vectorChannel(t, v)
	id := c.ID()
	openID := OpenChannel().ID()
	msg, push := c.Key(PurposeMessage), c.Key(PurposePush)
	for _, tc := range []struct{ name, got, want string }{
		{"id", hex.EncodeToString(id[:]), v.ChannelID},
		{"message key", hex.EncodeToString(msg[:]), v.ChannelKeyMessage},
		{"push key", hex.EncodeToString(push[:]), v.ChannelKeyPush},
		{"open channel id", hex.EncodeToString(openID[:]), v.OpenChannelID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Fatalf("got %s, want %s", tc.got, tc.want)
			}
		})
	}
}

// TestChannelFromPassphraseGolden runs the documented argon2id
// parameters once (64 MiB): a cheaper test path would not prove them.
func TestChannelFromPassphraseGolden(t *testing.T) {
	v := loadVectors(t)
	c := ChannelFromPassphrase(strings.ToUpper(v.PassphraseName), v.Passphrase)
	if c.Name != v.PassphraseName {
		t.Errorf("name %q, want it lower-cased to %q", c.Name, v.PassphraseName)
	}
	if got := hex.EncodeToString(c.Secret[:]); got != v.PassphraseSecret {
		t.Fatalf("secret %s, want %s", got, v.PassphraseSecret)
	}
	if back, err := ParseJoinCode(c.JoinCode()); err != nil || back.Name != c.Name || back.Secret != c.Secret {
		t.Fatalf("passphrase channel join code does not round-trip: %v", err)
	}
}

func TestNewChannel(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		err      error
	}{
		{"lab1", "lab1", nil},
		{"Lab_1", "lab_1", nil},
		{strings.Repeat("a", MaxChannelNameLen), strings.Repeat("a", MaxChannelNameLen), nil},
		{strings.Repeat("a", MaxChannelNameLen+1), "", ErrBadName},
		{"", "", ErrBadName},
		{"lab-1", "", ErrBadName},
		{"lab 1", "", ErrBadName},
		{"café", "", ErrBadName},
		{"open", "", ErrBadName},
		{"OPEN", "", ErrBadName},
	} {
		t.Run(tc.in, func(t *testing.T) {
			c, err := NewChannel(tc.in, "")
			if !errors.Is(err, tc.err) || c.Name != tc.want {
				t.Fatalf("NewChannel(%q) = %q, %v; want %q, %v", tc.in, c.Name, err, tc.want, tc.err)
			}
			if err == nil && c.IsOpen() {
				t.Fatal("new channel has the zero secret")
			}
		})
	}
	a, _ := NewChannel("x", "")
	b, _ := NewChannel("x", "")
	if a.Secret == b.Secret {
		t.Fatal("two new channels share a secret")
	}
}

func TestChannelKeysAreSeparated(t *testing.T) {
	a, _ := NewChannel("a", "")
	b := a
	b.Name = "b"
	if a.ID() != b.ID() {
		t.Error("ID depends on the name; it must depend on the secret only")
	}
	keys := map[[32]byte]string{}
	for _, c := range []Channel{a, OpenChannel()} {
		for _, p := range []string{PurposeMessage, PurposePush} {
			k := c.Key(p)
			if prev, dup := keys[k]; dup {
				t.Fatalf("%s/%s repeats the key of %s", c.Name, p, prev)
			}
			keys[k] = c.Name + "/" + p
		}
	}
}

func TestOpenChannel(t *testing.T) {
	o := OpenChannel()
	if !o.IsOpen() || o.Name != "open" {
		t.Fatalf("OpenChannel() = %+v", o)
	}
	if (Channel{Name: "lab"}).IsOpen() != true {
		t.Fatal("a zero secret must count as open whatever the name")
	}
	if back, err := ParseJoinCode(o.JoinCode()); err != nil || !sameChannel(back, o) {
		t.Fatalf("open channel join code: %+v %v", back, err)
	}
}

func BenchmarkChannelKey(b *testing.B) {
	c, _ := NewChannel("bench", "")
	b.ReportAllocs()
	for b.Loop() {
		c.Key(PurposeMessage)
	}
}

func sameChannel(a, b Channel) bool {
	return a.Name == b.Name && a.Secret == b.Secret && a.Seed == b.Seed && slices.Equal(a.Owners, b.Owners)
}
