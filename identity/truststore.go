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
	trustLock = ".trust.lock"
	// MaxPeers bounds the trusted keys (trust.json); only the user adds
	// them.
	MaxPeers = 4096
	// MaxSeen bounds the untrusted keys remembered in memory: anyone can
	// make keys, so beyond it those seen longest ago are forgotten (down
	// to 7/8 of it). They never reach trust.json.
	MaxSeen = 1024
)

// TrustStore knows every key this node has heard of, by fingerprint.
// trust.json holds only the keys the user trusts (or pinned by
// fingerprint before seeing them); keys merely seen stay in memory,
// bounded by MaxSeen, so a flood of fresh keys costs nothing on disk.
// Names are labels: any number of keys may use one, and "changed" means
// only that an untrusted key claims a trusted peer's name.
//
// Several processes share one trust.json: every write takes a lock file,
// re-reads the file, applies its one change and writes it back, so no
// process writes a stale copy; each process re-reads the file within
// reloadEvery of another's change. Safe for concurrent use.
type TrustStore struct {
	lockPath string
	now      func() time.Time
	maxSeen  int

	writeMu sync.Mutex // serializes this process's writes; taken before mu

	mu    sync.Mutex
	peers map[string]*Peer // by Fingerprint
	names map[string]int   // foldName(Name) -> how many known keys use it
	seen  int              // peers in memory that are not trusted
	dirty bool             // a trusted peer learned its key, name or box key since the last write
	file  watchedFile      // trust.json: the version memory reflects
}

// OpenTrustStore loads trust.json from home; a missing file is an empty
// store, a version 1 file (names bound to keys, every key seen) is
// migrated: its trusted peers are kept, the rest dropped. A corrupt file
// is an error, never silently replaced.
func OpenTrustStore(home string) (*TrustStore, error) {
	if err := ensureHome(home); err != nil {
		return nil, err
	}
	s := &TrustStore{
		lockPath: filepath.Join(home, trustLock),
		now:      time.Now,
		maxSeen:  MaxSeen,
		file:     watchedFile{path: filepath.Join(home, trustFile), every: reloadEvery},
		peers:    make(map[string]*Peer),
		names:    make(map[string]int),
	}
	if _, migrated, err := readTrustFile(s.file.path); err != nil {
		return nil, err
	} else if migrated {
		if err := s.write(nil); err != nil {
			return nil, err
		}
		return s, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.reloadLocked(true); err != nil {
		return nil, err
	}
	return s, nil
}

// refreshLocked re-reads the file if another process changed it, at most
// once per reloadEvery. A file that became unreadable keeps the last
// good state in memory (a write will report the problem).
func (s *TrustStore) refreshLocked() { _ = s.reloadLocked(false) }

// reloadLocked makes memory agree with the file: its entries are the
// trusted keys, nothing else is.
func (s *TrustStore) reloadLocked(force bool) error {
	stamp, due := s.file.look(force)
	if !due {
		return nil
	}
	trusted, _, err := readTrustFile(s.file.path)
	if err != nil {
		return err
	}
	s.file.stamp = stamp
	inFile := make(map[string]bool, len(trusted))
	for _, t := range trusted {
		inFile[t.Fingerprint] = true
		p, ok := s.peers[t.Fingerprint]
		if !ok {
			t := t
			s.insertLocked(&t)
			continue
		}
		if !p.Trusted {
			p.Trusted = true
			s.seen--
		}
		p.Impostor = false
		if p.SignPub == nil && t.SignPub != nil {
			p.SignPub, p.BoxPub = t.SignPub, t.BoxPub
		}
		if p.Name == "" {
			s.renameLocked(p, t.Name)
		}
		if p.FirstSeen.IsZero() {
			p.FirstSeen = t.FirstSeen
		}
		if t.LastSeen.After(p.LastSeen) {
			p.LastSeen = t.LastSeen
		}
	}
	for fp, p := range s.peers {
		if p.Trusted && !inFile[fp] { // untrusted or forgotten elsewhere
			if p.SignPub == nil {
				s.removeLocked(p)
				continue
			}
			p.Trusted = false
			s.seen++
		}
	}
	s.evictLocked()
	return nil
}

func (s *TrustStore) insertLocked(p *Peer) {
	s.peers[p.Fingerprint] = p
	if p.Name != "" {
		s.names[foldName(p.Name)]++
	}
	if !p.Trusted {
		s.seen++
	}
}

func (s *TrustStore) removeLocked(p *Peer) {
	delete(s.peers, p.Fingerprint)
	s.renameLocked(p, "")
	if !p.Trusted {
		s.seen--
	}
}

// renameLocked keeps the per-name key count right when p's name changes.
func (s *TrustStore) renameLocked(p *Peer, name string) {
	if p.Name == name {
		return
	}
	if p.Name != "" {
		old := foldName(p.Name)
		if s.names[old]--; s.names[old] <= 0 {
			delete(s.names, old)
		}
	}
	p.Name = name
	if name != "" {
		s.names[foldName(name)]++
	}
}

// evictLocked forgets the untrusted keys seen longest ago once there are
// more than maxSeen: down to 7/8 of maxSeen in one pass, so a flood of
// fresh keys costs one sort per maxSeen/8 keys, not a scan per key.
func (s *TrustStore) evictLocked() {
	if s.seen <= s.maxSeen {
		return
	}
	untrusted := make([]*Peer, 0, s.seen)
	for _, p := range s.peers {
		if !p.Trusted {
			untrusted = append(untrusted, p)
		}
	}
	slices.SortFunc(untrusted, func(a, b *Peer) int { return a.LastSeen.Compare(b.LastSeen) })
	for _, p := range untrusted[:len(untrusted)-s.maxSeen*7/8] {
		s.removeLocked(p)
	}
}

// trustedNameLocked returns a trusted peer, other than the key with
// fingerprint fp, that uses name.
func (s *TrustStore) trustedNameLocked(name, fp string) (*Peer, bool) {
	folded := foldName(name)
	if s.names[folded] == 0 {
		return nil, false
	}
	for _, p := range s.peers {
		if p.Trusted && p.Fingerprint != fp && foldName(p.Name) == folded {
			return p, true
		}
	}
	return nil, false
}

// Observe records that a verified packet came from signPub calling
// itself name, with box key boxPub (signed with the rest of the packet,
// SPEC.md §8). It returns Unknown for a key seen the first time, Seen or
// Trusted for a known key, and Changed, with an error matching
// ErrKeyChanged, when an untrusted key claims a trusted peer's name: the
// key is remembered as an impostor and never shown as that peer. A
// fingerprint pinned before its key was seen becomes that key now. Names
// follow the key's latest claim. Only trusted keys reach trust.json (on
// the next Save); others stay in memory.
func (s *TrustStore) Observe(name string, signPub ed25519.PublicKey, boxPub [32]byte) (TrustState, error) {
	if err := ValidatePeerName(name); err != nil {
		return Unknown, err
	}
	if len(signPub) != ed25519.PublicKeySize {
		return Unknown, fmt.Errorf("%w: signing key is %d bytes", ErrBadKey, len(signPub))
	}
	fp := Fingerprint(signPub)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refreshLocked()
	p, known := s.peers[fp]
	if !known {
		p = &Peer{SignPub: slices.Clone(signPub), Fingerprint: fp, FirstSeen: now}
		s.insertLocked(p)
	}
	if p.SignPub == nil { // a pinned fingerprint shows its key
		p.SignPub = slices.Clone(signPub)
		s.dirty = true
	}
	if p.Trusted && (p.Name != name || p.BoxPub != boxPub) {
		s.dirty = true
	}
	p.LastSeen, p.BoxPub = now, boxPub
	if bound, ok := s.trustedNameLocked(name, fp); ok && !p.Trusted {
		p.Impostor = true
		s.renameLocked(p, name)
		return Changed, fmt.Errorf("%w: %q is trusted as %s, now claimed by %s",
			ErrKeyChanged, bound.Name, bound.Fingerprint, fp)
	}
	s.renameLocked(p, name)
	if !known {
		s.evictLocked()
		return Unknown, nil
	}
	return p.State(), nil
}

// Lookup returns the peer recorded for signPub.
func (s *TrustStore) Lookup(signPub ed25519.PublicKey) (Peer, bool) {
	if len(signPub) != ed25519.PublicKeySize {
		return Peer{}, false
	}
	return s.LookupFingerprint(Fingerprint(signPub))
}

// LookupFingerprint returns the peer with canonical fingerprint fp (as
// ParseFingerprint returns it), pending or not.
func (s *TrustStore) LookupFingerprint(fp string) (Peer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refreshLocked()
	p, ok := s.peers[fp]
	if !ok {
		return Peer{}, false
	}
	return p.copy(), true
}

// Label is how a person sees signPub (see Label): the name it claims,
// with a short fingerprint when another known key uses the same name or
// it is an impostor. A key the store does not know shows as claimed (a
// name from elsewhere, "" for none: then the fingerprint), disambiguated
// if a known key uses that name.
func (s *TrustStore) Label(signPub ed25519.PublicKey, claimed string) string {
	if len(signPub) != ed25519.PublicKeySize {
		return claimed
	}
	fp := Fingerprint(signPub)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refreshLocked()
	if p, ok := s.peers[fp]; ok && p.Name != "" {
		return Label(p.Name, fp, p.Impostor || s.names[foldName(p.Name)] > 1)
	}
	return Label(claimed, fp, claimed != "" && s.names[foldName(claimed)] > 0)
}

func (p *Peer) copy() Peer {
	c := *p
	c.SignPub = slices.Clone(p.SignPub)
	return c
}

// Resolve finds the peer a person means by ref: a full fingerprint (any
// case, dashes optional), a unique fingerprint prefix of at least 4
// characters, or a name (case-insensitive). A full fingerprint wins
// outright; otherwise more than one match is ErrAmbiguous, which lists
// the fingerprints, so neither a shared name nor a peer naming itself
// like another's fingerprint can capture a reference.
func (s *TrustStore) Resolve(ref string) (Peer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refreshLocked()
	p, err := s.resolveLocked(ref)
	if err != nil {
		return Peer{}, err
	}
	return p.copy(), nil
}

func (s *TrustStore) resolveLocked(ref string) (*Peer, error) {
	if fp, err := ParseFingerprint(ref); err == nil {
		if p, ok := s.peers[fp]; ok {
			return p, nil
		}
		return nil, fmt.Errorf("%w: no key with fingerprint %s has been seen (herald trust %[2]s pins it)", ErrUnknownPeer, fp)
	}
	var matches []*Peer
	if symbols, ok := fingerprintSymbols(ref); ok && len(symbols) >= minFingerprintPrefix {
		for _, p := range s.peers {
			if strings.HasPrefix(strings.ReplaceAll(p.Fingerprint, "-", ""), symbols) {
				matches = append(matches, p)
			}
		}
	}
	if folded := foldName(strings.TrimSpace(ref)); s.names[folded] > 0 {
		for _, p := range s.peers {
			if foldName(p.Name) == folded && !slices.Contains(matches, p) {
				matches = append(matches, p)
			}
		}
	}
	switch len(matches) {
	case 0:
		return nil, fmt.Errorf("%w: %q matches no name or fingerprint", ErrUnknownPeer, ref)
	case 1:
		return matches[0], nil
	}
	names := make([]string, len(matches))
	for i, p := range matches {
		names[i] = fmt.Sprintf("%s (%s, %s)", p.Name, p.Fingerprint, p.State())
	}
	slices.Sort(names)
	return nil, fmt.Errorf("%w: %q matches %s; give the full fingerprint", ErrAmbiguous, ref, strings.Join(names, ", "))
}

// Trust marks the peer ref resolves to as trusted and saves at once. A
// full fingerprint no key has shown yet is pinned: that key is trusted
// when it appears (Observe).
func (s *TrustStore) Trust(ref string) (Peer, error) {
	return s.change(func() (*Peer, error) {
		p, err := s.resolveLocked(ref)
		if err != nil {
			fp, perr := ParseFingerprint(ref)
			if perr != nil {
				return nil, err
			}
			p = &Peer{Fingerprint: fp, Trusted: true}
			s.insertLocked(p)
		}
		s.trustLocked(p)
		return p, nil
	})
}

// TrustKey trusts signPub outright, naming it name (and recording boxPub),
// as `herald trust --import` does with a public identity line.
func (s *TrustStore) TrustKey(name string, signPub ed25519.PublicKey, boxPub [32]byte) (Peer, error) {
	if err := ValidatePeerName(name); err != nil {
		return Peer{}, err
	}
	if len(signPub) != ed25519.PublicKeySize {
		return Peer{}, fmt.Errorf("%w: signing key is %d bytes", ErrBadKey, len(signPub))
	}
	fp := Fingerprint(signPub)
	return s.change(func() (*Peer, error) {
		p, ok := s.peers[fp]
		if !ok {
			p = &Peer{Fingerprint: fp, FirstSeen: s.now()}
			s.insertLocked(p)
		}
		p.SignPub, p.BoxPub = slices.Clone(signPub), boxPub
		s.renameLocked(p, name)
		s.trustLocked(p)
		return p, nil
	})
}

func (s *TrustStore) trustLocked(p *Peer) {
	if !p.Trusted {
		p.Trusted = true
		s.seen--
	}
	p.Impostor = false
}

// Untrust clears the trusted mark of the peer ref resolves to and saves
// at once. The key stays known (in memory) as seen; a pin is dropped.
func (s *TrustStore) Untrust(ref string) (Peer, error) {
	return s.change(func() (*Peer, error) {
		p, err := s.resolveLocked(ref)
		if err != nil {
			return nil, err
		}
		if p.SignPub == nil {
			s.removeLocked(p)
			p.Trusted = false
			return p, nil
		}
		if p.Trusted {
			p.Trusted = false
			s.seen++
		}
		return p, nil
	})
}

// Forget removes the peer ref resolves to, trusted or not, and saves at
// once.
func (s *TrustStore) Forget(ref string) (Peer, error) {
	return s.change(func() (*Peer, error) {
		p, err := s.resolveLocked(ref)
		if err != nil {
			return nil, err
		}
		s.removeLocked(p)
		return p, nil
	})
}

// change applies one user decision: under the lock file it re-reads
// trust.json (so another process's change is kept), applies op to
// memory, and writes the trusted keys back.
func (s *TrustStore) change(op func() (*Peer, error)) (Peer, error) {
	var out Peer
	err := s.write(func() error {
		p, err := op()
		if err != nil {
			return err
		}
		out = p.copy()
		return nil
	})
	return out, err
}

// write is the one writer of trust.json: lock, reload, apply op (if any)
// to memory, save the trusted keys, unlock.
func (s *TrustStore) write(op func() error) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	unlock, err := lockFile(s.lockPath)
	if err != nil {
		return err
	}
	defer unlock()
	s.mu.Lock()
	if err := s.reloadLocked(true); err != nil {
		s.mu.Unlock()
		return err
	}
	if op != nil {
		if err := op(); err != nil {
			s.mu.Unlock()
			return err
		}
	}
	trusted := 0
	f := trustFileV2{Version: trustV2, Peers: []trustPeerV2{}}
	for _, p := range s.sortedLocked() {
		if p.Trusted {
			trusted++
			f.Peers = append(f.Peers, encodeTrusted(p))
		}
	}
	s.dirty = false
	s.mu.Unlock()
	if trusted > MaxPeers {
		return fmt.Errorf("%w: %d keys trusted, at most %d; untrust some first", ErrStoreFull, trusted, MaxPeers)
	}
	if err := saveJSON(s.file.path, f, true); err != nil {
		return fmt.Errorf("identity: save trust store %s: %w", s.file.path, err)
	}
	s.mu.Lock()
	s.file.stamp, s.file.checked = stampOf(s.file.path), time.Now()
	s.mu.Unlock()
	return nil
}

// List returns every known peer (trusted, pinned, and the untrusted keys
// in memory) sorted by name, then fingerprint.
func (s *TrustStore) List() []Peer {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refreshLocked()
	return s.sortedLocked()
}

func (s *TrustStore) sortedLocked() []Peer {
	peers := make([]Peer, 0, len(s.peers))
	for _, p := range s.peers {
		peers = append(peers, p.copy())
	}
	slices.SortFunc(peers, func(a, b Peer) int {
		if c := strings.Compare(foldName(a.Name), foldName(b.Name)); c != 0 {
			return c
		}
		return strings.Compare(a.Fingerprint, b.Fingerprint)
	})
	return peers
}

// Save writes what Observe learned about trusted keys (a pinned key seen,
// a new name or box key), merged into the current file. Untrusted keys
// are never written, so Save after a flood of strangers writes nothing.
func (s *TrustStore) Save() error {
	s.mu.Lock()
	dirty := s.dirty
	s.mu.Unlock()
	if !dirty {
		return nil
	}
	return s.write(nil)
}
