package push

import (
	"encoding/binary"

	"github.com/herald-lan/herald/protocol"
)

// manifestNonce and manifestAD bind a chunk to its session and index.
func manifestNonce(i uint32) [12]byte {
	var n [12]byte
	binary.BigEndian.PutUint32(n[8:], i)
	return n
}

func manifestAD(sid protocol.SessionID, i uint32) []byte {
	ad := make([]byte, 0, 12)
	ad = append(ad, sid[:]...)
	return binary.BigEndian.AppendUint32(ad, i)
}

// sealManifest cuts the manifest into chunks, seals and signs each.
func sealManifest(signer *protocol.Signer, sid protocol.SessionID, keys sessionKeys, plain []byte) [][]byte {
	var out [][]byte
	for i := range uint32(manifestParts(len(plain))) {
		part := plain[int(i)*protocol.ManifestChunkLen : min(len(plain), int(i+1)*protocol.ManifestChunkLen)]
		nonce := manifestNonce(i)
		sealed := keys.manifest.Seal(nil, nonce[:], part, manifestAD(sid, i))
		pkt, _ := signer.Append(nil, protocol.ManifestChunk{Session: sid, Index: i, Sealed: sealed})
		out = append(out, pkt)
	}
	return out
}

// openManifestChunk authenticates and decrypts one chunk.
func openManifestChunk(keys sessionKeys, sid protocol.SessionID, c protocol.ManifestChunk, dst []byte) ([]byte, error) {
	nonce := manifestNonce(c.Index)
	out, err := keys.manifest.Open(dst, nonce[:], c.Sealed, manifestAD(sid, c.Index))
	if err != nil {
		return nil, protocol.ErrDecrypt
	}
	return out, nil
}
