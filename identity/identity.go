package identity

import (
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/crypto/nacl/box"
)

// File names inside the home.
const (
	identityFile = "identity.json"
	identityV1   = 1
)

// Identity is this node's long-term key material. SignKey signs every
// packet; BoxKey (X25519) receives private messages. Peers learn BoxPub
// from beacons, which SignKey signs whole, so it needs no signature of
// its own (SPEC.md §8). Read-only after LoadOrCreate, so safe for
// concurrent reads; Save is the only writer.
type Identity struct {
	Name    string
	SignPub ed25519.PublicKey
	SignKey ed25519.PrivateKey
	BoxPub  [32]byte
	BoxKey  [32]byte
}

// identityFileV1 is identity.json. Only seeds are stored; public keys
// are derived on load, so they can never disagree.
type identityFileV1 struct {
	Version  int    `json:"version"`
	Name     string `json:"name"`
	SignSeed []byte `json:"sign_seed"` // Ed25519 seed (RFC 8032 private key), base64
	BoxKey   []byte `json:"box_key"`   // X25519 private scalar, base64
}

// DefaultHome is $HERALD_HOME if set, else the user's configuration
// directory joined with "herald" (~/.config/herald on Linux).
func DefaultHome() (string, error) {
	if h := os.Getenv("HERALD_HOME"); h != "" {
		return h, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("identity: no configuration directory (%w); set HERALD_HOME", err)
	}
	return filepath.Join(dir, "herald"), nil
}

// LoadOrCreate loads the identity stored in home, or creates one named
// defaultName if there is none. created reports the latter. It refuses a
// key file that group or others can access. If two processes create at
// once, both end up with the identity that reached the disk first.
func LoadOrCreate(home, defaultName string) (id *Identity, created bool, err error) {
	if err := ensureHome(home); err != nil {
		return nil, false, err
	}
	path := filepath.Join(home, identityFile)
	if id, err := loadIdentity(path, defaultName); !errors.Is(err, fs.ErrNotExist) {
		return id, false, err
	}
	id, err = generate(defaultName)
	if err != nil {
		return nil, false, err
	}
	err = saveJSON(path, id.file(), false)
	if errors.Is(err, fs.ErrExist) {
		id, err = loadIdentity(path, defaultName)
		return id, false, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("identity: write %s: %w", path, err)
	}
	return id, true, nil
}

// Save rewrites the identity file in home, e.g. after a change of Name.
func (id *Identity) Save(home string) error {
	if err := ValidatePeerName(id.Name); err != nil {
		return err
	}
	if err := ensureHome(home); err != nil {
		return err
	}
	return saveJSON(filepath.Join(home, identityFile), id.file(), true)
}

func (id *Identity) file() identityFileV1 {
	return identityFileV1{
		Version:  identityV1,
		Name:     id.Name,
		SignSeed: id.SignKey.Seed(),
		BoxKey:   id.BoxKey[:],
	}
}

// Fingerprint is the human-comparable fingerprint of SignPub.
func (id *Identity) Fingerprint() string { return Fingerprint(id.SignPub) }

// KeyID is the short handle of SignPub.
func (id *Identity) KeyID() KeyID { return KeyIDOf(id.SignPub) }

func generate(name string) (*Identity, error) {
	if err := ValidatePeerName(name); err != nil {
		return nil, err
	}
	_, signKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("identity: generate signing key: %w", err)
	}
	_, boxKey, err := box.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("identity: generate box key: %w", err)
	}
	return fromSeeds(name, signKey.Seed(), boxKey[:])
}

func loadIdentity(path, defaultName string) (*Identity, error) {
	var f identityFileV1
	if ok, err := loadJSON(path, &f); err != nil || !ok {
		if err == nil {
			err = fs.ErrNotExist
		}
		return nil, err
	}
	if err := checkVersion(path, f.Version, identityV1); err != nil {
		return nil, err
	}
	if f.Name == "" {
		f.Name = defaultName
	}
	if len(f.SignSeed) != ed25519.SeedSize || len(f.BoxKey) != 32 {
		return nil, fmt.Errorf("%w: %s: sign_seed and box_key must be 32 bytes each", ErrCorrupt, path)
	}
	id, err := fromSeeds(f.Name, f.SignSeed, f.BoxKey)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return id, nil
}

// fromSeeds derives the full identity from its two secrets.
func fromSeeds(name string, signSeed, boxKey []byte) (*Identity, error) {
	if err := ValidatePeerName(name); err != nil {
		return nil, err
	}
	xkey, err := ecdh.X25519().NewPrivateKey(boxKey)
	if err != nil {
		return nil, fmt.Errorf("%w: box key: %v", ErrCorrupt, err)
	}
	id := &Identity{Name: name, SignKey: ed25519.NewKeyFromSeed(signSeed)}
	id.SignPub = id.SignKey.Public().(ed25519.PublicKey)
	copy(id.BoxKey[:], boxKey)
	copy(id.BoxPub[:], xkey.PublicKey().Bytes())
	return id, nil
}
