package identity

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"time"
)

// trust.json versions. Version 1 bound each name to the first key seen
// with it and listed every key seen; version 2 lists only trusted keys,
// by fingerprint, and names are labels.
const (
	trustV1 = 1
	trustV2 = 2
)

type trustFileV2 struct {
	Version int           `json:"version"`
	Peers   []trustPeerV2 `json:"peers"`
}

// trustPeerV2 is one trusted key. A fingerprint pinned before its key
// was seen has no sign_pub yet.
type trustPeerV2 struct {
	Fingerprint string    `json:"fingerprint"`
	Name        string    `json:"name,omitempty"`
	SignPub     []byte    `json:"sign_pub,omitempty"`
	BoxPub      []byte    `json:"box_pub,omitempty"`
	FirstSeen   time.Time `json:"first_seen,omitzero"`
	LastSeen    time.Time `json:"last_seen,omitzero"`
}

type trustFileV1 struct {
	Version int           `json:"version"`
	Peers   []trustPeerV1 `json:"peers"`
}

type trustPeerV1 struct {
	Name      string    `json:"name"`
	SignPub   []byte    `json:"sign_pub"`
	BoxPub    []byte    `json:"box_pub"`
	Trusted   bool      `json:"trusted"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// readTrustFile returns the trusted peers listed in path (none if it does
// not exist); v1 reports a version 1 file, which the caller rewrites.
func readTrustFile(path string) (trusted []Peer, v1 bool, err error) {
	var head struct {
		Version int             `json:"version"`
		Peers   json.RawMessage `json:"peers"`
	}
	ok, err := loadJSON(path, &head)
	if err != nil || !ok {
		return nil, false, err
	}
	switch head.Version {
	case trustV1:
		trusted, err = decodeTrustV1(path)
		return trusted, true, err
	case trustV2:
	default:
		return nil, false, checkVersion(path, head.Version, trustV2)
	}
	var f trustFileV2
	if _, err := loadJSON(path, &f); err != nil {
		return nil, false, err
	}
	if len(f.Peers) > MaxPeers {
		return nil, false, fmt.Errorf("%w: %s lists %d keys, at most %d", ErrCorrupt, path, len(f.Peers), MaxPeers)
	}
	seen := make(map[string]bool, len(f.Peers))
	for _, fp := range f.Peers {
		p, err := decodeTrusted(fp)
		if err == nil && seen[p.Fingerprint] {
			err = fmt.Errorf("%s listed twice", p.Fingerprint)
		}
		if err != nil {
			return nil, false, fmt.Errorf("%w: %s: %v", ErrCorrupt, path, err)
		}
		seen[p.Fingerprint] = true
		trusted = append(trusted, p)
	}
	return trusted, false, nil
}

func decodeTrusted(e trustPeerV2) (Peer, error) {
	fp, err := ParseFingerprint(e.Fingerprint)
	if err != nil {
		return Peer{}, err
	}
	p := Peer{Fingerprint: fp, Trusted: true, FirstSeen: e.FirstSeen, LastSeen: e.LastSeen}
	if e.Name != "" {
		if err := ValidatePeerName(e.Name); err != nil {
			return Peer{}, err
		}
		p.Name = e.Name
	}
	if e.SignPub != nil {
		if len(e.SignPub) != ed25519.PublicKeySize || (e.BoxPub != nil && len(e.BoxPub) != 32) {
			return Peer{}, fmt.Errorf("%s: sign_pub and box_pub must be 32 bytes", fp)
		}
		if got := Fingerprint(e.SignPub); got != fp {
			return Peer{}, fmt.Errorf("sign_pub has fingerprint %s, listed as %s", got, fp)
		}
		p.SignPub = ed25519.PublicKey(e.SignPub)
		copy(p.BoxPub[:], e.BoxPub)
	}
	return p, nil
}

func encodeTrusted(p Peer) trustPeerV2 {
	e := trustPeerV2{Fingerprint: p.Fingerprint, Name: p.Name, FirstSeen: p.FirstSeen, LastSeen: p.LastSeen}
	if p.SignPub != nil {
		e.SignPub = p.SignPub
		if p.BoxPub != [32]byte{} {
			e.BoxPub = p.BoxPub[:]
		}
	}
	return e
}

// decodeTrustV1 keeps the trusted peers of a version 1 file; the keys it
// merely saw (possibly thousands, from a flood) are dropped, and will be
// seen again on the LAN.
func decodeTrustV1(path string) ([]Peer, error) {
	var f trustFileV1
	if _, err := loadJSON(path, &f); err != nil {
		return nil, err
	}
	var trusted []Peer
	seen := map[string]bool{}
	for _, e := range f.Peers {
		if !e.Trusted {
			continue
		}
		if len(e.SignPub) != ed25519.PublicKeySize || len(e.BoxPub) != 32 || ValidatePeerName(e.Name) != nil {
			return nil, fmt.Errorf("%w: %s: peer %q: bad key or name", ErrCorrupt, path, e.Name)
		}
		p := Peer{Name: e.Name, SignPub: ed25519.PublicKey(e.SignPub), Fingerprint: Fingerprint(e.SignPub),
			Trusted: true, FirstSeen: e.FirstSeen, LastSeen: e.LastSeen}
		if seen[p.Fingerprint] {
			return nil, fmt.Errorf("%w: %s: key %s listed twice", ErrCorrupt, path, p.Fingerprint)
		}
		seen[p.Fingerprint] = true
		copy(p.BoxPub[:], e.BoxPub)
		trusted = append(trusted, p)
	}
	return trusted, nil
}
