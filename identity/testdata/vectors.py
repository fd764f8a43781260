# Independent computation of testdata/vectors.json (Python "cryptography" >= 44):
#   python3 vectors.py > vectors.json
import base64, hashlib, json
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives import hashes, serialization

RAW = serialization.Encoding.Raw, serialization.PublicFormat.Raw
STD = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
CRO = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
def crockford(b): return base64.b32encode(b).decode().rstrip("=").translate(str.maketrans(STD, CRO))

def crc24(data, crc=0xB704CE):
    for b in data:
        crc ^= b << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000: crc ^= 0x1864CFB
    return crc & 0xFFFFFF

def hkdf(secret, info, n):
    return HKDF(algorithm=hashes.SHA256(), length=n, salt=None, info=info.encode()).derive(secret)

seed = bytes(range(32)); boxkey = bytes(range(32, 64)); secret = bytes(range(64, 96)); name = "lab1"
sk = Ed25519PrivateKey.from_private_bytes(seed); pub = sk.public_key().public_bytes(*RAW)
h = hashlib.sha256(pub).digest()
fp = crockford(h[:13])[:20]; fp = "-".join(fp[i:i+4] for i in range(0, 20, 4))
boxpub = X25519PrivateKey.from_private_bytes(boxkey).public_key().public_bytes(*RAW)
crc = crc24(b"herald-join-v1|" + name.encode() + b"|" + secret)
body = crockford(secret + crc.to_bytes(3, "big"))
code = name + "".join("-" + body[i:i+4] for i in range(0, len(body), 4))
seed2 = bytes(range(96, 112))
secret2 = hkdf(seed2, "herald channel seed v2", 32)
owner2 = fp.replace("-", "")
crc2 = crc24(b"herald-join-v2|" + name.encode() + b"|" + owner2.encode() + b"|" + seed2)
body2 = owner2 + crockford(seed2 + crc2.to_bytes(3, "big"))
code2 = name + "".join("-" + body2[i:i+4] for i in range(0, len(body2), 4))
pname, ppass = "lab1", "correct horse battery staple"
psecret = Argon2id(salt=("herald-channel-v1|" + pname).encode(), length=32, iterations=3, lanes=4, memory_cost=65536).derive(ppass.encode())
out = {
  "comment": "Computed independently with Python 'cryptography'; see SPEC.md Identity.",
  "sign_seed": seed.hex(), "sign_pub": pub.hex(), "key_id": h[:8].hex(), "fingerprint": fp,
  "box_key": boxkey.hex(), "box_pub": boxpub.hex(),
  "channel_name": name, "channel_secret": secret.hex(),
  "channel_id": hkdf(secret, "herald channel id v1", 8).hex(),
  "channel_key_message": hkdf(secret, "herald channel message v1", 32).hex(),
  "channel_key_push": hkdf(secret, "herald channel push v1", 32).hex(),
  "open_channel_id": hkdf(bytes(32), "herald channel id v1", 8).hex(),
  "join_code": code,
  "v2_seed": seed2.hex(), "v2_secret": secret2.hex(), "v2_owner": fp, "v2_join_code": code2,
  "passphrase_name": pname, "passphrase": ppass, "passphrase_secret": psecret.hex(),
}
print(json.dumps(out, indent=2))
