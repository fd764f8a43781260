package identity

import (
	"crypto/ed25519"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

const (
	trustFile = "trust.json"
	trustV1   = 1
	// MaxPeers bounds the trust store: anyone can make keys, and every
	// new verified key is recorded. When full, the untrusted peer seen
	// longest ago is forgotten; trusted peers are never evicted.
	MaxPeers = 4096
)

// TrustStore is the trust-on-first-use record of peers, kept in
// trust.json in the home. A name is bound to the first key seen with it
// (names compare case-insensitively); another key under that name is
// refused until the user Forgets the old one. Safe for concurrent use
// within one process; two processes sharing a home overwrite each
// other's unsaved observations (last Save wins).
type TrustStore struct {
	path     string
	now      func() time.Time
	maxPeers int

	saveMu sync.Mutex // serializes file writes, taken before mu

	mu       sync.Mutex
	byKey    map[string]*Peer // key: string(SignPub)
	byName   map[string]*Peer // key: foldName(Name)
	gen      uint64           // bumped by every change
	savedGen uint64           // gen last written to disk
}

type trustFileV1 struct {
	Version int           `json:"version"`
	Peers   []trustPeerV1 `json:"peers"`
}

type trustPeerV1 struct {
	Name        string    `json:"name"`
	Fingerprint string    `json:"fingerprint"` // informational; recomputed on load
	SignPub     []byte    `json:"sign_pub"`
	BoxPub      []byte    `json:"box_pub"`
	Trusted     bool      `json:"trusted"`
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
}

// OpenTrustStore loads trust.json from home; a missing file is an empty
// store. A corrupt file is an error, never silently replaced.
func OpenTrustStore(home string) (*TrustStore, error) {
	if err := ensureHome(home); err != nil {
		return nil, err
	}
	s := &TrustStore{
		path:     filepath.Join(home, trustFile),
		now:      time.Now,
		maxPeers: MaxPeers,
		byKey:    make(map[string]*Peer),
		byName:   make(map[string]*Peer),
	}
	var f trustFileV1
	ok, err := loadJSON(s.path, &f)
	if err != nil || !ok {
		return s, err
	}
	if err := checkVersion(s.path, f.Version, trustV1); err != nil {
		return nil, err
	}
	for _, fp := range f.Peers {
		if err := s.load(fp); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, s.path, err)
		}
	}
	return s, nil
}

func (s *TrustStore) load(fp trustPeerV1) error {
	if err := ValidatePeerName(fp.Name); err != nil {
		return err
	}
	if len(fp.SignPub) != ed25519.PublicKeySize || len(fp.BoxPub) != 32 {
		return fmt.Errorf("peer %q: sign_pub and box_pub must be 32 bytes", fp.Name)
	}
	if _, dup := s.byKey[string(fp.SignPub)]; dup {
		return fmt.Errorf("peer %q: key listed twice", fp.Name)
	}
	if other, dup := s.byName[foldName(fp.Name)]; dup {
		return fmt.Errorf("name %q bound to two keys (%s and %s)", fp.Name, other.Fingerprint, Fingerprint(fp.SignPub))
	}
	p := &Peer{
		Name:        fp.Name,
		SignPub:     ed25519.PublicKey(fp.SignPub),
		Fingerprint: Fingerprint(fp.SignPub),
		Trusted:     fp.Trusted,
		FirstSeen:   fp.FirstSeen,
		LastSeen:    fp.LastSeen,
	}
	copy(p.BoxPub[:], fp.BoxPub)
	s.insert(p)
	return nil
}

func (s *TrustStore) insert(p *Peer) {
	s.byKey[string(p.SignPub)] = p
	s.byName[foldName(p.Name)] = p
}

func (s *TrustStore) remove(p *Peer) {
	delete(s.byKey, string(p.SignPub))
	delete(s.byName, foldName(p.Name))
}

// Observe records that a verified packet came from signPub calling
// itself name, with box key boxPub (which the caller MUST have checked
// with VerifyBoxKey). It returns Unknown for a key seen the first time
// (now recorded), Seen or Trusted for a known key, and Changed with an
// error matching ErrKeyChanged when name is bound to another key; the
// packet must then be refused, and nothing is recorded. A known key
// presenting a new name keeps the name it was first seen with. A new
// key arriving when MaxPeers peers are stored and all are trusted gets
// ErrStoreFull and is not recorded. Changes reach the disk on the next
// Save.
func (s *TrustStore) Observe(name string, signPub ed25519.PublicKey, boxPub [32]byte) (TrustState, error) {
	if err := ValidatePeerName(name); err != nil {
		return Unknown, err
	}
	if len(signPub) != ed25519.PublicKeySize {
		return Unknown, fmt.Errorf("%w: signing key is %d bytes", ErrBadKey, len(signPub))
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if bound, ok := s.byName[foldName(name)]; ok && !bound.SignPub.Equal(signPub) {
		return Changed, fmt.Errorf("%w: %q is %s, now presented with %s",
			ErrKeyChanged, bound.Name, bound.Fingerprint, Fingerprint(signPub))
	}
	if p, ok := s.byKey[string(signPub)]; ok {
		p.LastSeen = now
		p.BoxPub = boxPub
		s.gen++
		return p.State(), nil
	}
	if len(s.byKey) >= s.maxPeers && !s.evictOne() {
		return Unknown, fmt.Errorf("%w: %d peers, all trusted", ErrStoreFull, len(s.byKey))
	}
	s.insert(&Peer{
		Name:        name,
		SignPub:     slices.Clone(signPub),
		BoxPub:      boxPub,
		Fingerprint: Fingerprint(signPub),
		FirstSeen:   now,
		LastSeen:    now,
	})
	s.gen++
	return Unknown, nil
}

// evictOne forgets the untrusted peer seen longest ago. Linear, but only
// runs when a new key arrives at a full store.
func (s *TrustStore) evictOne() bool {
	var oldest *Peer
	for _, p := range s.byKey {
		if !p.Trusted && (oldest == nil || p.LastSeen.Before(oldest.LastSeen)) {
			oldest = p
		}
	}
	if oldest == nil {
		return false
	}
	s.remove(oldest)
	return true
}

// Lookup returns the peer recorded for signPub.
func (s *TrustStore) Lookup(signPub ed25519.PublicKey) (Peer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.byKey[string(signPub)]
	if !ok {
		return Peer{}, false
	}
	return p.copy(), true
}

func (p *Peer) copy() Peer {
	c := *p
	c.SignPub = slices.Clone(p.SignPub)
	return c
}

// Resolve finds the peer a person means by ref: a full fingerprint (any
// case, dashes optional), a unique fingerprint prefix of at least 4
// characters, or a name (case-insensitive). A full fingerprint wins
// outright; otherwise more than one match is ErrAmbiguous, so a peer
// naming itself like another's fingerprint cannot capture a reference.
func (s *TrustStore) Resolve(ref string) (Peer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.resolve(ref)
	if err != nil {
		return Peer{}, err
	}
	return p.copy(), nil
}

func (s *TrustStore) resolve(ref string) (*Peer, error) {
	var matches []*Peer
	if symbols, ok := fingerprintSymbols(ref); ok && len(symbols) >= minFingerprintPrefix {
		for _, p := range s.byKey {
			fp := strings.ReplaceAll(p.Fingerprint, "-", "")
			if fp == symbols {
				return p, nil
			}
			if strings.HasPrefix(fp, symbols) {
				matches = append(matches, p)
			}
		}
	}
	if p, ok := s.byName[foldName(strings.TrimSpace(ref))]; ok && !slices.Contains(matches, p) {
		matches = append(matches, p)
	}
	switch len(matches) {
	case 0:
		return nil, fmt.Errorf("%w: %q matches no name or fingerprint", ErrUnknownPeer, ref)
	case 1:
		return matches[0], nil
	}
	names := make([]string, len(matches))
	for i, p := range matches {
		names[i] = fmt.Sprintf("%s (%s)", p.Name, p.Fingerprint)
	}
	slices.Sort(names)
	return nil, fmt.Errorf("%w: %q matches %s; give the full fingerprint", ErrAmbiguous, ref, strings.Join(names, ", "))
}

// Trust marks the peer ref resolves to as trusted and saves at once.
func (s *TrustStore) Trust(ref string) (Peer, error) { return s.setTrusted(ref, true) }

// Untrust clears the trusted mark of the peer ref resolves to and saves
// at once. The name stays bound to its key.
func (s *TrustStore) Untrust(ref string) (Peer, error) { return s.setTrusted(ref, false) }

func (s *TrustStore) setTrusted(ref string, trusted bool) (Peer, error) {
	s.mu.Lock()
	p, err := s.resolve(ref)
	if err != nil {
		s.mu.Unlock()
		return Peer{}, err
	}
	p.Trusted = trusted
	s.gen++
	c := p.copy()
	s.mu.Unlock()
	return c, s.Save()
}

// Forget removes the peer ref resolves to and saves at once, releasing
// its name: the next key observed under that name is recorded as new.
// This is how a user accepts a peer's new key after a Changed warning.
func (s *TrustStore) Forget(ref string) (Peer, error) {
	s.mu.Lock()
	p, err := s.resolve(ref)
	if err != nil {
		s.mu.Unlock()
		return Peer{}, err
	}
	s.remove(p)
	s.gen++
	s.mu.Unlock()
	return p.copy(), s.Save()
}

// List returns all peers sorted by name.
func (s *TrustStore) List() []Peer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sortedLocked()
}

func (s *TrustStore) sortedLocked() []Peer {
	peers := make([]Peer, 0, len(s.byKey))
	for _, p := range s.byKey {
		peers = append(peers, p.copy())
	}
	slices.SortFunc(peers, func(a, b Peer) int {
		return strings.Compare(foldName(a.Name), foldName(b.Name))
	})
	return peers
}

// Save writes the store if anything changed since the last Save.
// Observe only changes memory, so owners call Save periodically and
// before exit.
func (s *TrustStore) Save() error {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	s.mu.Lock()
	if s.gen == s.savedGen {
		s.mu.Unlock()
		return nil
	}
	gen := s.gen
	f := trustFileV1{Version: trustV1}
	for _, p := range s.sortedLocked() {
		f.Peers = append(f.Peers, trustPeerV1{
			Name: p.Name, Fingerprint: p.Fingerprint,
			SignPub: p.SignPub, BoxPub: p.BoxPub[:],
			Trusted: p.Trusted, FirstSeen: p.FirstSeen, LastSeen: p.LastSeen,
		})
	}
	s.mu.Unlock()
	if err := saveJSON(s.path, f, true); err != nil {
		return fmt.Errorf("identity: save trust store %s: %w", s.path, err)
	}
	s.mu.Lock()
	s.savedGen = gen
	s.mu.Unlock()
	return nil
}
