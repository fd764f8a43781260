package identity

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// vectorChannelV2 is the version-2 channel of the golden vectors.
func vectorChannelV2(t testing.TB, v vectors) Channel {
	t.Helper()
	c := channelFromSeed(v.ChannelName, [SeedLen]byte(unhex(t, v.V2Seed)))
	c.Owners = []string{v.V2Owner}
	return c
}

func TestJoinCodeV2Golden(t *testing.T) {
	v := loadVectors(t)
	c := vectorChannelV2(t, v)
	if got := hex.EncodeToString(c.Secret[:]); got != v.V2Secret {
		t.Fatalf("secret from seed %s, want %s", got, v.V2Secret)
	}
	if got := c.JoinCode(); got != v.V2JoinCode {
		t.Fatalf("JoinCode = %s, want %s", got, v.V2JoinCode)
	}
	if !strings.Contains(v.V2JoinCode, v.V2Owner) {
		t.Fatalf("code %s does not show the owner's fingerprint %s", v.V2JoinCode, v.V2Owner)
	}
	for _, code := range []string{v.V2JoinCode, strings.ToLower(v.V2JoinCode), strings.ReplaceAll(v.V2JoinCode, "-", ""), strings.ReplaceAll(v.V2JoinCode, "-", " ")} {
		got, err := ParseJoinCode(code)
		if err != nil || !sameChannel(got, c) {
			t.Fatalf("ParseJoinCode(%q) = %+v, %v", code, got, err)
		}
	}
}

// One character off: the error names the group that is wrong (issue 13,
// bad input), for every position of the code.
func TestJoinCodeV2TypoNamesTheGroup(t *testing.T) {
	v := loadVectors(t)
	code := v.V2JoinCode
	groups := strings.Split(code, "-")[1:]
	named := 0
	for g, group := range groups {
		for i := range len(group) {
			typo := []byte(group)
			typo[i] = crockfordAlphabet[(strings.IndexByte(crockfordAlphabet, typo[i])+7)%32]
			bad := append([]string{v.ChannelName}, groups...)
			bad[g+1] = string(typo)
			_, err := ParseJoinCode(strings.Join(bad, "-"))
			if !errors.Is(err, ErrBadJoinCode) {
				t.Fatalf("typo in group %d accepted", g+1)
			}
			if strings.Contains(err.Error(), fmt.Sprintf("group %d (%s)", g+1, typo)) && strings.Contains(err.Error(), group) {
				named++
			} else {
				t.Errorf("typo in group %d: %v", g+1, err)
			}
		}
	}
	t.Logf("%d single-character typos, each named its group", named)
}

func TestJoinCodeV2Rejects(t *testing.T) {
	v := loadVectors(t)
	code := v.V2JoinCode
	for _, tc := range []struct{ name, code, says string }{
		{"truncated", code[:len(code)-1], "51"},
		{"last group missing", code[:strings.LastIndexByte(code, '-')], "a group is missing"},
		{"group too many", code + "-ABCD", "a group is missing or too long"},
		{"owner swapped for another key", strings.Replace(code, v.V2Owner, "K7QF-2MXA-9D3B-WZ4E-H6TN", 1), "checksum"},
		{"other name", "lab2" + code[4:], ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseJoinCode(tc.code)
			if !errors.Is(err, ErrBadJoinCode) || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("ParseJoinCode(%q) = %+v, %v; want an error saying %q", tc.code, c, err, tc.says)
			}
		})
	}
}

func TestNewChannelIsOwnedAndRoundTrips(t *testing.T) {
	c, err := NewChannel("class", fpOf(1))
	if err != nil {
		t.Fatal(err)
	}
	if !c.HasSeed() || !c.IsOwner(fpOf(1)) || c.IsOwner(fpOf(2)) {
		t.Fatalf("new channel %+v", c)
	}
	got, err := ParseJoinCode(c.JoinCode())
	if err != nil || !sameChannel(got, c) {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	if _, err := NewChannel("class", "K7QF"); !errors.Is(err, ErrBadFingerprint) {
		t.Errorf("owner given as a prefix: %v", err)
	}
}

func FuzzParseJoinCodeV2(f *testing.F) {
	v := loadVectors(f)
	f.Add(v.V2JoinCode)
	f.Add(strings.ReplaceAll(v.V2JoinCode, "-", ""))
	f.Fuzz(func(t *testing.T, code string) {
		c, err := ParseJoinCode(code)
		if err != nil {
			if !errors.Is(err, ErrBadJoinCode) {
				t.Fatalf("error %v does not match ErrBadJoinCode", err)
			}
			return
		}
		again, err := ParseJoinCode(c.JoinCode())
		if err != nil || !sameChannel(again, c) {
			t.Fatalf("re-encoding %q does not round-trip: %v", code, err)
		}
	})
}
