package identity

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"
)

// vectors are golden values computed independently (Python
// "cryptography"), stored in testdata/vectors.json and cited by SPEC.md.
type vectors struct {
	SignSeed          string `json:"sign_seed"`
	SignPub           string `json:"sign_pub"`
	KeyID             string `json:"key_id"`
	Fingerprint       string `json:"fingerprint"`
	BoxKey            string `json:"box_key"`
	BoxPub            string `json:"box_pub"`
	ChannelName       string `json:"channel_name"`
	ChannelSecret     string `json:"channel_secret"`
	ChannelID         string `json:"channel_id"`
	ChannelKeyMessage string `json:"channel_key_message"`
	ChannelKeyPush    string `json:"channel_key_push"`
	OpenChannelID     string `json:"open_channel_id"`
	JoinCode          string `json:"join_code"`
	V2Seed            string `json:"v2_seed"`
	V2Secret          string `json:"v2_secret"`
	V2Owner           string `json:"v2_owner"`
	V2JoinCode        string `json:"v2_join_code"`
	PassphraseName    string `json:"passphrase_name"`
	Passphrase        string `json:"passphrase"`
	PassphraseSecret  string `json:"passphrase_secret"`
}

func loadVectors(t testing.TB) vectors {
	t.Helper()
	data, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// vectorChannel is the channel of the golden vectors.
func vectorChannel(t testing.TB, v vectors) Channel {
	c := Channel{Name: v.ChannelName}
	copy(c.Secret[:], unhex(t, v.ChannelSecret))
	return c
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
