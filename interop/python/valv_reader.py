#!/usr/bin/env python3
"""An independent reader of Valv documents, written from docs/protocol.md alone.

It uses the Python standard library and the `cryptography` package (>= 44, for ML-KEM-768),
nothing from Valv. Two commands:

  valv_reader.py read --identity FILE --passphrase-env VAR --log DUMP.json
      Verifies the membership chain of the document in DUMP.json (docs/protocol.md,
      "Log dump"), finds the member the identity export in FILE is, opens the epoch keys
      addressed to it, verifies and decrypts every envelope, and prints one JSON object
      (docs/protocol.md, "Reader output").

  valv_reader.py vectors DIR [PRIMITIVES.json]
      Recomputes or re-reads every vector file in DIR (packages/protocol/test/vectors), and the
      primitive vectors (packages/crypto/test/primitives/vectors.json) when given, and prints
      {"<file>": <number of vectors checked>, ...}; exits 1 at the first mismatch.

Section names in comments ("§ Envelope") refer to docs/protocol.md.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import struct
import sys
import unicodedata

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.mlkem import MLKEM768PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305


class ValvError(Exception):
    """A check of the specification failed; `code` is the spec's error code."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code


# ---------------------------------------------------------------------------------------------
# § Encoding
# ---------------------------------------------------------------------------------------------


class Reader:
    """Reads lib0 varuints, strings and byte fields; any overrun is `malformed`."""

    def __init__(self, data: bytes):
        self.data = bytes(data)
        self.pos = 0

    def done(self) -> bool:
        return self.pos == len(self.data)

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ValvError("malformed", "truncated")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def u8(self) -> int:
        return self.take(1)[0]

    def varuint(self) -> int:
        n, shift = 0, 0
        while True:
            b = self.u8()
            n |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                break
            if shift > 63:
                raise ValvError("malformed", "varuint too long")
        if n > 2**53 - 1:
            raise ValvError("malformed", "varuint out of range")
        return n

    def varint(self) -> int:
        b = self.u8()
        n = b & 0x3F
        negative = b & 0x40
        shift = 6
        while b & 0x80:
            b = self.u8()
            n |= (b & 0x7F) << shift
            shift += 7
        return -n if negative else n

    def varbytes(self) -> bytes:
        return self.take(self.varuint())

    def varstring(self) -> str:
        return self.varbytes().decode("utf-8")


def varuint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def varbytes(b: bytes) -> bytes:
    return varuint(len(b)) + b


def u64(n: int) -> bytes:
    """§ Encoding: integers inside signed, hashed and derived inputs are u64 big-endian."""
    return struct.pack(">Q", n)


def b64url_decode(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64url(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def domain_message(domain: str, *parts: bytes) -> bytes:
    """§ Domain separation: varstring("valv/v1/<domain>") then each part as varbytes."""
    out = varbytes(f"valv/v1/{domain}".encode())
    for p in parts:
        out += varbytes(p)
    return out


# ---------------------------------------------------------------------------------------------
# § Primitives
# ---------------------------------------------------------------------------------------------


def hkdf(ikm: bytes, salt: bytes, info: str, n: int = 32) -> bytes:
    if not info.startswith("valv/v1/") or not 1 <= n <= 255 * 32:
        raise ValvError("malformed", "bad HKDF input")
    prk = hmac.new(salt if salt else bytes(32), ikm, hashlib.sha256).digest()
    out, block, i = b"", b"", 1
    while len(out) < n:
        block = hmac.new(prk, block + info.encode() + bytes([i]), hashlib.sha256).digest()
        out += block
        i += 1
    return out[:n]


def _rotl(v: int, c: int) -> int:
    return ((v << c) & 0xFFFFFFFF) | (v >> (32 - c))


def hchacha20(key: bytes, nonce16: bytes) -> bytes:
    s = list(struct.unpack("<4I", b"expand 32-byte k"))
    s += list(struct.unpack("<8I", key)) + list(struct.unpack("<4I", nonce16))

    def qr(a: int, b: int, c: int, d: int) -> None:
        s[a] = (s[a] + s[b]) & 0xFFFFFFFF
        s[d] = _rotl(s[d] ^ s[a], 16)
        s[c] = (s[c] + s[d]) & 0xFFFFFFFF
        s[b] = _rotl(s[b] ^ s[c], 12)
        s[a] = (s[a] + s[b]) & 0xFFFFFFFF
        s[d] = _rotl(s[d] ^ s[a], 8)
        s[c] = (s[c] + s[d]) & 0xFFFFFFFF
        s[b] = _rotl(s[b] ^ s[c], 7)

    for _ in range(10):
        qr(0, 4, 8, 12), qr(1, 5, 9, 13), qr(2, 6, 10, 14), qr(3, 7, 11, 15)
        qr(0, 5, 10, 15), qr(1, 6, 11, 12), qr(2, 7, 8, 13), qr(3, 4, 9, 14)
    return struct.pack("<8I", *(s[0:4] + s[12:16]))


def xchacha_open(key: bytes, nonce24: bytes, sealed: bytes, aad: bytes) -> bytes:
    sub = hchacha20(key, nonce24[:16])
    try:
        return ChaCha20Poly1305(sub).decrypt(bytes(4) + nonce24[16:], sealed, aad)
    except InvalidTag:
        raise ValvError("decrypt-failed", "XChaCha20-Poly1305 tag does not verify") from None


def aead_open(suite: int, key: bytes, sealed: bytes, aad: bytes) -> bytes:
    """§ AEAD suites: nonce(24) ‖ ciphertext ‖ tag(16)."""
    if len(key) != 32:
        raise ValvError("invalid-key", "AEAD keys are 32 bytes")
    if len(sealed) < 40:
        raise ValvError("decrypt-failed", "ciphertext too short")
    nonce, body = sealed[:24], sealed[24:]
    if suite == 1:
        return xchacha_open(key, nonce, body, aad)
    if suite == 2:
        sub = hkdf(key, nonce[:12], "valv/v1/aead/aes-256-gcm/subkey")
        try:
            return AESGCM(sub).decrypt(nonce[12:], body, aad)
        except InvalidTag:
            raise ValvError("decrypt-failed", "AES-GCM tag does not verify") from None
    raise ValvError("unsupported-suite", f"suite {suite}")


def key_commitment(key: bytes) -> bytes:
    return hmac.new(key, b"valv/v1/key-commitment", hashlib.sha256).digest()


def ed25519_verify(public_key: bytes, signature: bytes, message: bytes) -> bool:
    if len(public_key) != 32 or len(signature) != 64:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
        return True
    except (InvalidSignature, ValueError):
        return False


def ed25519_public(seed: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()


P25519 = 2**255 - 19


def ed25519_to_x25519_public(public_key: bytes) -> bytes | None:
    """§ Payload parts, recipient hint: u = (1 + y) / (1 − y) mod p of the Edwards point."""
    y = int.from_bytes(public_key, "little") & ((1 << 255) - 1)
    if y >= P25519 or y == 1:
        return None
    u = (1 + y) * pow(1 - y, P25519 - 2, P25519) % P25519
    return u.to_bytes(32, "little")


def recipient_hint(device_seed: bytes, signer: bytes, doc_id: str, index: int, tag: int) -> bytes | None:
    """§ Payload parts, recipient hint: HMAC(X25519(device, signer), domain message)[:16]."""
    u = ed25519_to_x25519_public(signer)
    if u is None:
        return None
    # The X25519 secret of an Ed25519 seed: SHA-512(seed)[:32] (X25519 clamps it).
    x_sk = X25519PrivateKey.from_private_bytes(hashlib.sha512(device_seed).digest()[:32])
    try:
        shared = x_sk.exchange(X25519PublicKey.from_public_bytes(u))
    except ValueError:
        return None
    msg = domain_message("recipient-hint", doc_id.encode(), u64(index), bytes([tag]))
    return hmac.new(shared, msg, hashlib.sha256).digest()[:16]


XWING_LABEL = b"\\.//^\\"


def xwing_decapsulate(seed: bytes, ct: bytes) -> bytes:
    """§ Hybrid box: X-Wing (draft-connolly-cfrg-xwing-kem-06 key schedule and combiner)."""
    if len(seed) != 32 or len(ct) != 1120:
        raise ValvError("invalid-key", "X-Wing seed is 32 bytes, ciphertext 1120")
    expanded = hashlib.shake_256(seed).digest(96)
    mlkem = MLKEM768PrivateKey.from_seed_bytes(expanded[:64])
    x_sk = X25519PrivateKey.from_private_bytes(expanded[64:96])
    x_pk = x_sk.public_key().public_bytes_raw()
    ss_m = mlkem.decapsulate(ct[:1088])
    try:
        ss_x = x_sk.exchange(X25519PublicKey.from_public_bytes(ct[1088:]))
    except ValueError:
        # All-zero X25519 output: Valv refuses it (a deviation from the draft, see the spec).
        raise ValvError("decrypt-failed", "X25519 output is all zero") from None
    return hashlib.sha3_256(ss_m + ss_x + ct[1088:] + x_pk + XWING_LABEL).digest()


def open_box(kem_seed: bytes, box: bytes, aad: bytes) -> bytes:
    """version(1)=1 ‖ X-Wing ciphertext(1120) ‖ XChaCha20-Poly1305(k, nonce 0^24, aad)."""
    if len(box) < 1 + 1120 + 16 or box[0] != 1:
        raise ValvError("malformed", "not a hybrid box")
    ct = box[1:1121]
    shared = xwing_decapsulate(kem_seed, ct)
    return xchacha_open(hkdf(shared, ct, "valv/v1/hybrid-box"), bytes(24), box[1121:], aad)


def unwrap_passphrase(wrapped: bytes, passphrase: str) -> bytes:
    """§ Identity export: version 1 ‖ log2 N ‖ r ‖ p ‖ salt(16) ‖ nonce(24) ‖ sealed."""
    if len(wrapped) < 20 + 24 + 16 or wrapped[0] != 1:
        raise ValvError("malformed", "not a passphrase-wrapped secret")
    log_n, r, p = wrapped[1], wrapped[2], wrapped[3]
    if not (10 <= log_n <= 20 and 1 <= r <= 16 and 1 <= p <= 4 and 128 * r * 2**log_n <= 2**30):
        raise ValvError("malformed", "scrypt parameters out of range")
    header = wrapped[:20]
    key = hashlib.scrypt(
        unicodedata.normalize("NFKC", passphrase).encode(),
        salt=header[4:20],
        n=2**log_n,
        r=r,
        p=p,
        dklen=32,
        maxmem=2**31 - 1,
    )
    try:
        return xchacha_open(key, wrapped[20:44], wrapped[44:], header)
    except ValvError:
        raise ValvError("bad-passphrase", "the passphrase does not open this export") from None


def unpad(padded: bytes) -> bytes:
    """§ Padding: length u32 BE ‖ bytes ‖ zeros."""
    if len(padded) < 4:
        raise ValvError("malformed", "padded value too short")
    (n,) = struct.unpack(">I", padded[:4])
    if n > len(padded) - 4 or any(padded[4 + n :]):
        raise ValvError("malformed", "bad padding")
    return padded[4 : 4 + n]


# ---------------------------------------------------------------------------------------------
# § Identities
# ---------------------------------------------------------------------------------------------


def read_device_cert(r: Reader) -> dict:
    return {
        "deviceKey": r.take(32),
        "kemKey": r.varbytes(),
        "createdAt": r.varuint(),
        "signature": r.take(64),
    }


def verify_device_cert(user_key: bytes, d: dict) -> bool:
    msg = domain_message("device-cert", d["deviceKey"], d["kemKey"], u64(d["createdAt"]))
    return ed25519_verify(user_key, d["signature"], msg)


def import_identity(text: str, passphrase: str) -> dict:
    prefix = "valv-identity1."
    if not text.startswith(prefix):
        raise ValvError("malformed", "not a Valv identity export")
    r = Reader(unwrap_passphrase(b64url_decode(text[len(prefix) :]), passphrase))
    ident = {
        "userSecret": r.take(32),
        "deviceSecret": r.take(32),
        "kemSecret": r.varbytes(),
        "displayName": r.varstring(),
        "device": read_device_cert(r),
    }
    others = [read_device_cert(r) for _ in range(r.varuint())]
    ident["otherDevices"] = others
    ident["userKey"] = ed25519_public(ident["userSecret"])
    if ed25519_public(ident["deviceSecret"]) != ident["device"]["deviceKey"]:
        raise ValvError("malformed", "device key does not match its secret")
    if not verify_device_cert(ident["userKey"], ident["device"]):
        raise ValvError("bad-signature", "device certificate does not verify")
    return ident


def document_keys(ident: dict, doc_id: str, genesis_nonce: bytes) -> list[bytes]:
    """§ Identities: the per-document keys this device may have signed with in this document."""
    keys = []
    for salt in (doc_id.encode(), f"genesis.{genesis_nonce.hex()}".encode()):
        keys.append(hkdf(ident["deviceSecret"], salt, "valv/v1/document-key"))
    return keys


# ---------------------------------------------------------------------------------------------
# § Membership chain
# ---------------------------------------------------------------------------------------------

KINDS = ["genesis", "admit", "join", "set-role", "rotate", "revoke-admission"]
ROLES = ["none", "viewer", "commenter", "editor", "admin"]
# 3 writes recipient hints before invitee boxes; 2 (no hints) is still read.
MEMBERSHIP_VERSIONS = (2, 3)


def decode_entry(data: bytes) -> dict:
    if len(data) < 2 + 32 + 32 + 64:
        raise ValvError("malformed", "entry too short")
    if data[0] not in MEMBERSHIP_VERSIONS:
        raise ValvError("unsupported-version", f"membership version {data[0]}")
    signed, signature = data[:-64], data[-64:]
    r = Reader(signed)
    version = r.u8()
    kind_n = r.u8()
    if not 1 <= kind_n <= len(KINDS):
        raise ValvError("malformed", "unknown entry kind")
    e = {"kind": KINDS[kind_n - 1], "signed": signed, "signature": signature, "bytes": data}
    e["version"] = version
    e["index"] = r.varuint()
    e["prev"] = r.take(32)
    e["at"] = r.varuint()
    e["signer"] = r.take(32)
    k = e["kind"]

    def role() -> int:
        n = r.u8()
        if n > 4:
            raise ValvError("malformed", "bad role")
        return n

    if k == "genesis":
        e["nonce"] = r.take(16)
        e["suite"] = r.u8()
        e["writeRole"] = role()
        e["historyPolicy"] = r.u8()
        if e["historyPolicy"] not in (0, 1):
            raise ValvError("malformed", "bad history policy")
        e["keyCommitment"] = r.take(32)
    elif k == "admit":
        e["admissionKey"] = r.take(32)
        e["role"] = role()
        e["expiresAt"] = r.varuint()
        e["maxUses"] = r.varuint()
    elif k == "join":
        e["admission"] = r.varuint()
        e["admissionSignature"] = r.take(64)
    elif k == "set-role":
        e["member"] = r.varuint()
        e["role"] = role()
        e["until"] = r.varuint()
    elif k == "rotate":
        e["epoch"] = r.varuint()
        e["keyCommitment"] = r.take(32)
    else:
        e["admission"] = r.varuint()
    e["payload"] = r.varbytes()
    if not r.done():
        raise ValvError("malformed", "trailing bytes")
    return e


def derive_doc_id(creator_key: bytes, nonce: bytes) -> str:
    return b64url(hashlib.sha256(domain_message("doc-id", creator_key, nonce)).digest())


def entry_hash(doc_id: str, entry: bytes) -> bytes:
    return hashlib.sha256(domain_message("membership-entry", doc_id.encode(), entry)).digest()


class Chain:
    """§ Membership chain, "What a verifier checks": the rules in order."""

    def __init__(self, doc_id: str):
        self.doc_id = doc_id
        self.entries: list[dict] = []
        self.members: dict[int, dict] = {}
        self.by_key: dict[bytes, int] = {}
        self.admissions: dict[int, dict] = {}
        self.commitments: list[bytes] = []
        self.head = bytes(32)
        self.genesis: dict | None = None
        self.rotation_owed = False

    @property
    def epoch(self) -> int:
        return len(self.commitments) - 1

    def append(self, data: bytes, now: int | None = None) -> dict:
        e = decode_entry(data)
        if e["index"] != len(self.entries) or e["prev"] != self.head:
            raise ValvError("fork-detected", f"entry {e['index']} does not extend the head")
        if self.entries and e["version"] < self.entries[-1]["version"]:
            raise ValvError("unsupported-version", "the chain goes back to an older version")
        if now is not None and abs(e["at"] - now) > 600:
            raise ValvError("expired", "entry time too far from the verifier clock")
        msg = domain_message("membership", self.doc_id.encode(), e["signed"])
        if not ed25519_verify(e["signer"], e["signature"], msg):
            raise ValvError("bad-signature", f"entry {e['index']} signature")
        k = e["kind"]
        if (k == "genesis") != (e["index"] == 0):
            raise ValvError("malformed", "genesis must be exactly the first entry")
        signer_index = self.by_key.get(e["signer"])
        signer = self.members.get(signer_index) if signer_index is not None else None
        if k in ("admit", "set-role", "rotate", "revoke-admission") and (
            signer is None or signer["role"] != 4
        ):
            self_demotion = (
                k == "set-role"
                and signer is not None
                and e["member"] == signer["index"]
                and e["role"] < signer["role"]
            )
            if not self_demotion:
                raise ValvError("not-authorised", f"{k} needs an admin signer")
        if k == "genesis":
            if derive_doc_id(e["signer"], e["nonce"]) != self.doc_id:
                raise ValvError("malformed", "genesis does not derive the document id")
            if e["writeRole"] not in (2, 3):
                raise ValvError("malformed", "write role must be editor or commenter")
            if e["suite"] == 0:
                raise ValvError("unsupported-suite", "suite 0 is reserved")
        elif k == "admit":
            if e["role"] == 0:
                raise ValvError("malformed", "admission without a role")
        elif k == "join":
            a = self.admissions.get(e["admission"])
            if a is None:
                raise ValvError("invalid-state", "no such admission")
            if a["revoked"]:
                raise ValvError("expired", "admission revoked")
            if a["maxUses"] != 0 and a["uses"] >= a["maxUses"]:
                raise ValvError("expired", "admission used up")
            at = now if now is not None else e["at"]
            if a["expiresAt"] != 0 and (at > a["expiresAt"] or e["at"] > a["expiresAt"]):
                raise ValvError("expired", "admission expired")
            if e["signer"] in self.by_key:
                raise ValvError("invalid-state", "key is already a member")
            amsg = domain_message(
                "admission", self.doc_id.encode(), u64(e["admission"]), e["signer"]
            )
            if not ed25519_verify(a["key"], e["admissionSignature"], amsg):
                raise ValvError("bad-signature", "admission signature")
        elif k == "set-role":
            target = self.members.get(e["member"])
            if target is None:
                raise ValvError("invalid-state", "no such member")
            admins = sum(1 for m in self.members.values() if m["role"] == 4)
            if target["role"] == 4 and e["role"] != 4 and admins <= 1:
                raise ValvError("invalid-state", "the last admin cannot be removed")
        elif k == "rotate":
            if e["epoch"] != self.epoch + 1:
                raise ValvError("invalid-state", "rotation must start the next epoch")
        else:
            a = self.admissions.get(e["admission"])
            if a is None or a["revoked"]:
                raise ValvError("invalid-state", "no such admission")
        self._commit(e)
        return e

    def _add_member(self, index: int, key: bytes, role: int) -> None:
        self.members[index] = {"index": index, "key": key, "role": role, "wroteUntil": None}
        self.by_key[key] = index

    def _commit(self, e: dict) -> None:
        k = e["kind"]
        if k == "genesis":
            self.genesis = e
            self.commitments.append(e["keyCommitment"])
            self._add_member(0, e["signer"], 4)
        elif k == "admit":
            self.admissions[e["index"]] = {
                "index": e["index"],
                "key": e["admissionKey"],
                "role": e["role"],
                "expiresAt": e["expiresAt"],
                "maxUses": e["maxUses"],
                "uses": 0,
                "revoked": False,
            }
        elif k == "join":
            a = self.admissions[e["admission"]]
            a["uses"] += 1
            self._add_member(e["index"], e["signer"], a["role"])
        elif k == "set-role":
            m = self.members[e["member"]]
            write = self.genesis["writeRole"]
            if m["role"] >= write > e["role"]:
                m["wroteUntil"] = (self.epoch, e["until"])
            if e["role"] == 0 and m["role"] != 0:
                self.rotation_owed = True
            m["role"] = e["role"]
        elif k == "rotate":
            self.commitments.append(e["keyCommitment"])
            self.rotation_owed = False
        else:
            self.admissions[e["admission"]]["revoked"] = True
        self.entries.append(e)
        self.head = entry_hash(self.doc_id, e["bytes"])


# ---------------------------------------------------------------------------------------------
# § Payload parts, epoch keys, member certificates
# ---------------------------------------------------------------------------------------------

TAG = {
    "certificate": 1,
    "selfBox": 2,
    "recoveryKey": 3,
    "recoveryBox": 4,
    "linkWrap": 5,
    "adminBox": 6,
    "inviteeBox": 7,
    "note": 8,
    "memberBox": 9,
    "admissionWrap": 10,
}


def decode_parts(payload: bytes) -> list[tuple[int, int, bytes]]:
    try:
        r = Reader(payload)
        parts = [(r.u8(), r.varuint(), r.varbytes()) for _ in range(r.varuint())]
        return parts if r.done() else []
    except ValvError:
        return []


def epoch_keys(doc_id: str, epoch: int, secret: bytes) -> dict:
    salt = domain_message("epoch", doc_id.encode(), u64(epoch))
    return {
        "epoch": epoch,
        "secret": secret,
        "content": hkdf(secret, salt, "valv/v1/epoch/content"),
        "roster": hkdf(secret, salt, "valv/v1/epoch/roster"),
    }


def decode_bundle(doc_id: str, data: bytes) -> list[dict]:
    r = Reader(data)
    out = []
    for _ in range(r.varuint()):
        epoch, full, key = r.varuint(), r.u8(), r.take(32)
        out.append(epoch_keys(doc_id, epoch, key) if full == 1 else {"epoch": epoch, "roster": key})
    return out


def payload_aad(doc_id: str, entry_index: int, tag: int) -> bytes:
    return domain_message("payload", doc_id.encode(), u64(entry_index), bytes([tag]))


def admission_keys(doc_id: str, secret: bytes) -> dict:
    signing = hkdf(secret, doc_id.encode(), "valv/v1/admission/sign")
    return {
        "signingSecret": signing,
        "publicKey": ed25519_public(signing),
        "wrapKey": hkdf(secret, doc_id.encode(), "valv/v1/admission/wrap"),
    }


class KeyReader:
    """Takes from the chain's payloads what is addressed to one identity (§ Payload parts)."""

    def __init__(self, chain: Chain, ident: dict, my_index: int | None):
        self.chain = chain
        self.ident = ident
        self.me = my_index
        self.epochs: dict[int, dict] = {}
        self.admission_secrets: dict[int, bytes] = {}
        self.certs: dict[int, dict] = {}
        self.done: set[tuple[int, int]] = set()

    def add(self, bundle: list[dict]) -> bool:
        learned = False
        for k in bundle:
            have = self.epochs.get(k["epoch"])
            if "secret" in k:
                c = (
                    self.chain.commitments[k["epoch"]]
                    if k["epoch"] < len(self.chain.commitments)
                    else None
                )
                if c is None or c != key_commitment(k["secret"]) or (have and "secret" in have):
                    continue
            elif have is not None:
                continue
            self.epochs[k["epoch"]] = k
            learned = True
        return learned

    def roster_open(self, e: dict, tag: int, data: bytes) -> bytes | None:
        r = Reader(data)
        keys = self.epochs.get(r.varuint())
        if keys is None:
            return None
        suite = self.chain.genesis["suite"]
        return aead_open(suite, keys["roster"], data[r.pos :], payload_aad(self.chain.doc_id, e["index"], tag))

    def scan(self) -> None:
        again = True
        while again:
            again = False
            for e in self.chain.entries:
                for i, (tag, to, data) in enumerate(decode_parts(e["payload"])):
                    if (e["index"], i) in self.done:
                        continue
                    outcome = self.part(e, tag, to, data)
                    if outcome != "retry":
                        self.done.add((e["index"], i))
                    if outcome == "learned":
                        again = True

    def _box(self, e: dict, tag: int, data: bytes) -> bytes | None:
        try:
            return open_box(self.ident["kemSecret"], data, payload_aad(self.chain.doc_id, e["index"], tag))
        except ValvError:
            return None

    def _keys(self, plain: bytes | None) -> str:
        if plain is None:
            return "done"
        try:
            return "learned" if self.add(decode_bundle(self.chain.doc_id, plain)) else "done"
        except ValvError:
            return "done"

    def _unwrap(self, admission: int, e: dict, tag: int, data: bytes) -> bytes | None:
        secret = self.admission_secrets[admission]
        wrap = admission_keys(self.chain.doc_id, secret)["wrapKey"]
        try:
            return aead_open(
                self.chain.genesis["suite"], wrap, data, payload_aad(self.chain.doc_id, e["index"], tag)
            )
        except ValvError:
            return None

    def part(self, e: dict, tag: int, to: int, data: bytes) -> str:
        if tag == TAG["certificate"]:
            try:
                plain = self.roster_open(e, tag, data)
            except ValvError:
                return "done"
            if plain is None:
                return "retry"
            try:
                cert = decode_member_cert(plain)
                if verify_member_cert(cert, self.chain.doc_id, e["signer"]):
                    self.certs[e["index"]] = cert
            except ValvError:
                pass
            return "done"
        if tag == TAG["selfBox"]:
            return self._keys(self._box(e, tag, data)) if self.me == e["index"] else "done"
        if tag == TAG["memberBox"]:
            return self._keys(self._box(e, tag, data)) if self.me == to else "done"
        if tag in (TAG["adminBox"], TAG["inviteeBox"]):
            if tag == TAG["adminBox"] and self.me != to:
                return "done"
            if e["index"] in self.admission_secrets:
                return "done"
            if tag == TAG["inviteeBox"] and e["version"] >= 3:
                # Version 3: a 16-byte recipient hint precedes the box; only a match is opened.
                want = recipient_hint(
                    self.ident["deviceSecret"], e["signer"], self.chain.doc_id, e["index"], tag
                )
                if want is None or data[:16] != want:
                    return "done"
                data = data[16:]
            secret = self._box(e, tag, data)
            if secret is None or len(secret) != 32:
                return "done"
            self.admission_secrets[e["index"]] = secret
            return "learned"
        if tag == TAG["linkWrap"]:
            if e["index"] not in self.admission_secrets:
                return "retry"
            return self._keys(self._unwrap(e["index"], e, tag, data))
        if tag == TAG["admissionWrap"]:
            if to not in self.admission_secrets:
                return "retry"
            return self._keys(self._unwrap(to, e, tag, data))
        return "done"


def decode_member_cert(data: bytes) -> dict:
    r = Reader(data)
    return {
        "userKey": r.take(32),
        "displayName": r.varstring(),
        "device": read_device_cert(r),
        "binding": r.take(64),
    }


def verify_member_cert(c: dict, doc_id: str, document_key: bytes) -> bool:
    msg = domain_message("document-key", doc_id.encode(), document_key)
    return verify_device_cert(c["userKey"], c["device"]) and ed25519_verify(
        c["device"]["deviceKey"], c["binding"], msg
    )


# ---------------------------------------------------------------------------------------------
# § Envelope
# ---------------------------------------------------------------------------------------------

# § Envelopes: kind numbers (2 is retired and unknown).
ENVELOPE_KINDS = {1: "update", 3: "presence", 4: "state", 5: "checkpoint", 6: "snapshot"}


def decode_envelope(data: bytes) -> dict:
    if len(data) < 3 + 64:
        raise ValvError("malformed", "envelope too short")
    if data[0] != 1:
        raise ValvError("unsupported-version", f"envelope version {data[0]}")
    signed, signature = data[:-64], data[-64:]
    r = Reader(signed)
    r.u8()
    suite, kind = r.u8(), r.u8()
    if kind not in ENVELOPE_KINDS:
        raise ValvError("malformed", "unknown kind")
    epoch, author, counter = r.varuint(), r.varuint(), r.varuint()
    position = None
    if ENVELOPE_KINDS[kind] == "snapshot":
        # § Snapshots: the signed position follows the counter.
        position = {"upToSeq": r.varuint(), "prevSeq": r.varuint(), "prev": r.take(32)}
        if not position["upToSeq"] > position["prevSeq"]:
            raise ValvError("malformed", "snapshot covers nothing")
    header = signed[: r.pos]
    ciphertext = r.varbytes()
    if not r.done():
        raise ValvError("malformed", "trailing bytes")
    return {
        "suite": suite,
        "kind": ENVELOPE_KINDS[kind],
        "position": position,
        "epoch": epoch,
        "author": author,
        "counter": counter,
        "header": header,
        "ciphertext": ciphertext,
        "signed": signed,
        "signature": signature,
    }


def required_role(kind: str, write_role: int) -> int:
    if kind in ("update", "snapshot", "state"):
        return write_role
    if kind == "presence":
        return 1
    return 0


def verify_envelope(chain: Chain, data: bytes, kind: str, former_writers: bool = True) -> dict:
    """§ Envelope, "What a verifier checks" steps 2–6 (size and counters are the caller's)."""
    env = decode_envelope(data)
    if env["kind"] != kind:
        raise ValvError("malformed", f"expected {kind}, got {env['kind']}")
    member = chain.members.get(env["author"])
    if member is None:
        raise ValvError("not-authorised", "author is not a member")
    msg = domain_message("envelope", chain.doc_id.encode(), env["signed"])
    if not ed25519_verify(member["key"], env["signature"], msg):
        raise ValvError("bad-signature", "envelope signature")
    if env["kind"] == "checkpoint":
        raise ValvError("not-authorised", "checkpoints are accepted only from oneself")
    write = chain.genesis["writeRole"]
    needed = max(required_role(env["kind"], write), 1)
    until = member["wroteUntil"]
    former = (
        former_writers
        and until is not None
        and env["epoch"] <= until[0]
        and env["counter"] <= until[1]
        and needed <= write
    )
    if not former and member["role"] < needed:
        raise ValvError("not-authorised", f"role does not allow {env['kind']}")
    if env["epoch"] > chain.epoch:
        raise ValvError("unknown-epoch", f"epoch {env['epoch']}")
    env["member"] = member
    return env


def open_envelope(doc_id: str, env: dict, content_key: bytes) -> bytes:
    aad = domain_message("envelope-aad", doc_id.encode(), env["header"])
    return unpad(aead_open(env["suite"], content_key, env["ciphertext"], aad))


# ---------------------------------------------------------------------------------------------
# § Yjs updates (v1): enough to rebuild root Y.Text values
# ---------------------------------------------------------------------------------------------


def read_any(r: Reader):
    tag = r.u8()
    if tag == 127:
        return None
    if tag == 126:
        return None
    if tag == 125:
        return r.varint()
    if tag == 124:
        return struct.unpack(">f", r.take(4))[0]
    if tag == 123:
        return struct.unpack(">d", r.take(8))[0]
    if tag == 122:
        return struct.unpack(">q", r.take(8))[0]
    if tag == 121:
        return False
    if tag == 120:
        return True
    if tag == 119:
        return r.varstring()
    if tag == 118:
        return {r.varstring(): read_any(r) for _ in range(r.varuint())}
    if tag == 117:
        return [read_any(r) for _ in range(r.varuint())]
    if tag == 116:
        return r.varbytes()
    raise ValvError("malformed", f"unknown lib0 any tag {tag}")


class UpdateDecoderV1:
    """Yjs update encoding v1: every field in one lib0 stream."""

    def __init__(self, data: bytes):
        self.rest = Reader(data)
        r = self.rest
        self.client = r.varuint
        self.info = r.u8
        self.left_id = self.right_id = lambda: (r.varuint(), r.varuint())
        self.parent_info = lambda: r.varuint() == 1
        self.string = self.key = self.json = r.varstring
        self.len = self.type_ref = r.varuint
        self.ds_reset = lambda: None
        self.ds_clock = self.ds_len = r.varuint


class _Column(Reader):
    """A lib0 run-length column of a v2 update."""

    def signed(self) -> tuple[int, bool]:
        """lib0 varint with its sign bit (so -0 is distinguishable from 0)."""
        b = self.u8()
        n, negative, shift = b & 0x3F, bool(b & 0x40), 6
        while b & 0x80:
            b = self.u8()
            n |= (b & 0x7F) << shift
            shift += 7
        return (-n if negative else n), negative


class _Rle(_Column):
    def __init__(self, data: bytes):
        super().__init__(data)
        self.s, self.count = 0, 0

    def read(self) -> int:
        if self.count == 0:
            self.s = self.u8()
            self.count = self.varuint() + 1 if not self.done() else -1
        self.count -= 1
        return self.s


class _UintOptRle(_Column):
    def __init__(self, data: bytes):
        super().__init__(data)
        self.s, self.count = 0, 0

    def read(self) -> int:
        if self.count == 0:
            v, negative = self.signed()
            self.s, self.count = abs(v), 1
            if negative:
                self.count = self.varuint() + 2
        self.count -= 1
        return self.s


class _IntDiffOptRle(_Column):
    def __init__(self, data: bytes):
        super().__init__(data)
        self.s, self.diff, self.count = 0, 0, 0

    def read(self) -> int:
        if self.count == 0:
            v, _ = self.signed()
            self.diff, self.count = v // 2, 1  # floor, as lib0's math.floor(diff / 2)
            if v & 1:
                self.count = self.varuint() + 2
        self.s += self.diff
        self.count -= 1
        return self.s


class _Strings:
    def __init__(self, data: bytes):
        self.lengths = _UintOptRle(data)
        self.units = self.lengths.varstring().encode("utf-16-le", "surrogatepass")
        self.pos = 0

    def read(self) -> str:
        end = self.pos + 2 * self.lengths.read()
        out = self.units[self.pos : end].decode("utf-16-le", "surrogatepass")
        self.pos = end
        return out


class UpdateDecoderV2:
    """Yjs update encoding v2 (`encodeStateAsUpdateV2`): a feature flag, nine columns, rest."""

    def __init__(self, data: bytes):
        r = Reader(data)
        r.varuint()  # feature flag, 0
        key_clock = _IntDiffOptRle(r.varbytes())
        client = _UintOptRle(r.varbytes())
        left_clock = _IntDiffOptRle(r.varbytes())
        right_clock = _IntDiffOptRle(r.varbytes())
        info = _Rle(r.varbytes())
        strings = _Strings(r.varbytes())
        parent_info = _Rle(r.varbytes())
        type_ref = _UintOptRle(r.varbytes())
        length = _UintOptRle(r.varbytes())
        self.rest = Reader(r.data[r.pos :])
        keys: list[str] = []

        def key() -> str:
            k = key_clock.read()
            if k < len(keys):
                return keys[k]
            keys.append(strings.read())
            return keys[-1]

        self.client = client.read
        self.info = info.read
        self.left_id = lambda: (client.read(), left_clock.read())
        self.right_id = lambda: (client.read(), right_clock.read())
        self.parent_info = lambda: parent_info.read() == 1
        self.string = strings.read
        self.key = key
        self.json = lambda: read_any(self.rest)
        self.len = length.read
        self.type_ref = type_ref.read
        self.cur = 0

    def ds_reset(self) -> None:
        self.cur = 0

    def ds_clock(self) -> int:
        self.cur += self.rest.varuint()
        return self.cur

    def ds_len(self) -> int:
        diff = self.rest.varuint() + 1
        self.cur += diff
        return diff


class Unit:
    """One clock tick of a Yjs item (items are split to length 1, which Yjs allows)."""

    __slots__ = ("client", "clock", "origin", "right_origin", "parent", "sub", "text", "deleted",
                 "left", "right", "countable")

    def __init__(self, client, clock, origin, right_origin, parent, sub, text, countable):
        self.client, self.clock = client, clock
        self.origin, self.right_origin = origin, right_origin
        self.parent, self.sub = parent, sub
        self.text, self.countable = text, countable
        self.deleted = not countable
        self.left = self.right = None


class YText:
    """Applies v1 updates (any order; waits for missing dependencies) and renders root texts."""

    def __init__(self):
        self.units: dict[tuple[int, int], Unit] = {}
        self.next_clock: dict[int, int] = {}
        self.starts: dict[object, Unit | None] = {}
        self.pending: list[Unit] = []
        self.pending_deletes: list[tuple[int, int]] = []

    def apply(self, update: bytes, v2: bool = False) -> None:
        """Apply a Yjs update: v1 (updates, state) or v2 (snapshot `state`)."""
        self.integrate(self.decode(update, v2))

    @staticmethod
    def clients(parsed: tuple) -> set[int]:
        """§ Client-id binding: the client ids of an update's structs (items and GC, not skips)."""
        return {u.client for u in parsed[0]}

    def integrate(self, parsed: tuple) -> None:
        structs, deletes = parsed
        self.pending_deletes += deletes
        self.pending += structs
        self._integrate_pending()

    def decode(self, update: bytes, v2: bool = False) -> tuple:
        """Decode a whole update without touching the document (refused whole or applied)."""
        d = UpdateDecoderV2(update) if v2 else UpdateDecoderV1(update)
        structs: list[Unit] = []
        deletes: list[tuple[int, int]] = []
        for _ in range(d.rest.varuint()):
            n = d.rest.varuint()
            client = d.client()
            clock = d.rest.varuint()
            for _ in range(n):
                clock += self._read_struct(d, client, clock, structs)
        for _ in range(d.rest.varuint()):
            d.ds_reset()
            client = d.rest.varuint()
            for _ in range(d.rest.varuint()):
                start = d.ds_clock()
                length = d.ds_len()
                deletes += [(client, c) for c in range(start, start + length)]
        if not d.rest.done():
            raise ValvError("malformed", "trailing bytes in Yjs update")
        return structs, deletes

    def _read_struct(self, d, client: int, clock: int, out: list[Unit]) -> int:
        info = d.info()
        ref = info & 0x1F
        if ref in (0, 10):  # GC (length from the len column), Skip (length in rest)
            length = d.len() if ref == 0 else d.rest.varuint()
            if ref == 0:
                for i in range(length):
                    out.append(Unit(client, clock + i, None, None, None, None, "", False))
            return length
        origin = d.left_id() if info & 0x80 else None
        right_origin = d.right_id() if info & 0x40 else None
        parent = sub = None
        if not info & 0xC0:
            parent = ("root", d.string()) if d.parent_info() else ("item", d.left_id())
            if info & 0x20:
                sub = d.string()
        texts, countable = self._read_content(d, ref)
        for i, t in enumerate(texts):
            o = origin if i == 0 else (client, clock + i - 1)
            out.append(Unit(client, clock + i, o, right_origin, parent, sub, t, countable))
        return len(texts)

    @staticmethod
    def _read_content(d, ref: int) -> tuple[list[str], bool]:
        if ref == 1:  # Deleted
            return [""] * d.len(), False
        if ref == 2:  # JSON
            n = d.len()
            for _ in range(n):
                d.string()
            return [""] * n, True
        if ref == 3:  # Binary
            d.rest.varbytes()
            return [""], True
        if ref == 4:  # String: one unit per UTF-16 code unit
            s = d.string().encode("utf-16-le", "surrogatepass")
            return [s[i : i + 2].decode("utf-16-le", "surrogatepass") for i in range(0, len(s), 2)], True
        if ref == 5:  # Embed
            d.json()
            return [""], True
        if ref == 6:  # Format: not countable in text length
            d.key(), d.json()
            return [""], False
        if ref == 7:  # Type
            type_ref = d.type_ref()
            if type_ref in (3, 5):
                d.key()
            return [""], True
        if ref == 8:  # Any
            n = d.len()
            for _ in range(n):
                read_any(d.rest)
            return [""] * n, True
        if ref == 9:  # Doc
            d.string(), read_any(d.rest)
            return [""], True
        raise ValvError("malformed", f"unknown Yjs content {ref}")

    def _ready(self, u: Unit) -> bool:
        if u.clock != self.next_clock.get(u.client, 0):
            return False
        for dep in (u.origin, u.right_origin):
            if dep is not None and dep not in self.units:
                return False
        return not (u.parent and u.parent[0] == "item" and u.parent[1] not in self.units)

    def _integrate_pending(self) -> None:
        progress = True
        while progress:
            progress = False
            rest = []
            for u in sorted(self.pending, key=lambda x: (x.client, x.clock)):
                if u.clock < self.next_clock.get(u.client, 0):
                    continue  # already have it
                if self._ready(u):
                    self._integrate(u)
                    progress = True
                else:
                    rest.append(u)
            self.pending = rest
        keep = []
        for d in self.pending_deletes:
            if d in self.units:
                self.units[d].deleted = True
            else:
                keep.append(d)
        self.pending_deletes = keep

    def _integrate(self, u: Unit) -> None:
        self.units[(u.client, u.clock)] = u
        self.next_clock[u.client] = u.clock + 1
        left = self.units.get(u.origin) if u.origin else None
        right = self.units.get(u.right_origin) if u.right_origin else None
        if u.parent is None:
            ref = left or right
            if ref is None or ref.parent is None:
                u.deleted = True  # GC'd neighbourhood: like Yjs, the item becomes GC
                return
            u.parent, u.sub = ref.parent, ref.sub
        if u.sub is not None:
            return  # map entries carry no text
        key = u.parent
        start = self.starts.get(key)
        if (left is None and (right is None or right.left is not None)) or (
            left is not None and left.right is not right
        ):
            o = left.right if left is not None else start
            conflicting: set[int] = set()
            before: set[int] = set()
            while o is not None and o is not right:
                before.add(id(o))
                conflicting.add(id(o))
                if u.origin == o.origin:
                    if o.client < u.client:
                        left = o
                        conflicting.clear()
                    elif u.right_origin == o.right_origin:
                        break
                elif o.origin is not None and id(self.units.get(o.origin)) in before:
                    if id(self.units.get(o.origin)) not in conflicting:
                        left = o
                        conflicting.clear()
                else:
                    break
                o = o.right
        u.left = left
        if left is not None:
            u.right = left.right
            left.right = u
        else:
            u.right = start
            self.starts[key] = u
        if u.right is not None:
            u.right.left = u

    def texts(self) -> dict[str, str]:
        out = {}
        for key, start in self.starts.items():
            if key[0] != "root":
                continue
            chars, o = [], start
            while o is not None:
                if not o.deleted and o.countable:
                    chars.append(o.text)
                o = o.right
            joined = "".join(chars).encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
            out[key[1]] = joined
        return dict(sorted(out.items()))


# ---------------------------------------------------------------------------------------------
# § Snapshots, presence, heads, files, frames
# ---------------------------------------------------------------------------------------------


def read_heads(r: Reader) -> dict[str, int]:
    n = r.varuint()
    return {r.varstring(): r.varuint() for _ in range(n)}


def write_heads(heads: dict[str, int]) -> bytes:
    """§ Presence and heads: count, then (author, counter) sorted by author."""
    out = varuint(len(heads))
    for a in sorted(heads):
        out += varbytes(a.encode()) + varuint(heads[a])
    return out


MAX_CLIENT_IDS_PER_AUTHOR = 65536


def read_client_ids(r: Reader) -> dict[int, str]:
    """§ Client-id binding, table encoding: count, (author, n, id × n) × count."""
    table: dict[int, str] = {}
    for _ in range(r.varuint()):
        author = r.varstring()
        n = r.varuint()
        if n > MAX_CLIENT_IDS_PER_AUTHOR:
            raise ValvError("malformed", "too many client ids")
        for _ in range(n):
            table[r.varuint()] = author
    return table


def write_client_ids(table: dict[int, str]) -> bytes:
    """The canonical table: authors sorted, each author's ids ascending."""
    by_author: dict[str, list[int]] = {}
    for cid, author in table.items():
        by_author.setdefault(author, []).append(cid)
    out = varuint(len(by_author))
    for a in sorted(by_author):
        ids = sorted(by_author[a])
        out += varbytes(a.encode()) + varuint(len(ids)) + b"".join(varuint(i) for i in ids)
    return out


def decode_snapshot_body(data: bytes) -> dict:
    """§ Snapshots, body: varuint(2) ‖ gc u8 ‖ counters ‖ varbytes(state) [‖ clientIds]."""
    r = Reader(data)
    if r.varuint() != 2:
        raise ValvError("malformed", "snapshot body version")
    gc = r.u8()
    if gc > 1:
        raise ValvError("malformed", "snapshot gc flag")
    at = r.pos
    counters = read_heads(r)
    body = {"gc": gc == 1, "counters": counters, "countersBytes": data[at : r.pos]}
    body["state"] = r.varbytes()
    body["clientIds"] = None
    body["clientIdsBytes"] = None
    if not r.done():
        at = r.pos
        body["clientIds"] = read_client_ids(r)
        body["clientIdsBytes"] = data[at : r.pos]
        if not r.done():
            raise ValvError("malformed", "trailing bytes after the client-id table")
    return body


def snapshot_id(doc_id: str, sealed: bytes) -> bytes:
    """§ Snapshots: SHA-256(domainMessage("snapshot-id", docId, sealed envelope))."""
    return hashlib.sha256(domain_message("snapshot-id", doc_id.encode(), sealed)).digest()


def verify_confirmation(chain: Chain, data: bytes, sid: bytes) -> int:
    """§ Snapshots, confirmation: version 1 ‖ varuint(author) ‖ signature(64). Returns the author."""
    r = Reader(data)
    version = r.u8()
    if version != 1:
        raise ValvError("unsupported-version", f"confirmation version {version}")
    author = r.varuint()
    signature = r.take(64)
    if not r.done():
        raise ValvError("malformed", "trailing bytes after the confirmation")
    member = chain.members.get(author)
    if member is None:
        raise ValvError("not-authorised", "confirmer is not a member")
    if member["role"] < chain.genesis["writeRole"] and member["wroteUntil"] is None:
        raise ValvError("not-authorised", "only writers confirm snapshots")
    msg = domain_message("snapshot-confirm", chain.doc_id.encode(), sid)
    if not ed25519_verify(member["key"], signature, msg):
        raise ValvError("bad-signature", "confirmation signature")
    return author


def decode_presence(data: bytes) -> dict:
    r = Reader(data)
    if r.varuint() != 2:
        raise ValvError("malformed", "presence version")
    m = {"session": r.varstring(), "counter": r.varuint(), "sentAt": r.varuint()}
    n = r.varuint()
    if n > 64:
        raise ValvError("malformed", "presence acks")
    m["acks"] = [r.varstring() for _ in range(n)]
    t = r.varuint()
    if t == 0:
        m.update(type="awareness", update=r.varbytes())
    elif t == 1:
        m.update(type="heads", heads=read_heads(r), lastSeq=r.varuint())
    elif t == 2:
        m.update(type="bye")
    else:
        raise ValvError("malformed", "presence type")
    return m


def decrypt_file(key: bytes, data: bytes) -> bytes:
    """§ Files: header(21) ‖ chunks; nonce = prefix(16) ‖ index u32 BE ‖ final(1) ‖ 0(3)."""
    padded_file = len(key) == 33 and key[32] == 1
    key = key[:32]
    if len(data) < 21 + 16 or data[0] != 1:
        raise ValvError("malformed", "bad blob header")
    header = data[:21]
    (chunk,) = struct.unpack(">I", header[1:5])
    sealed = chunk + 16
    body, out, i, pos = data[21:], b"", 0, 0
    while True:
        final = len(body) - pos <= sealed
        piece = body[pos : pos + sealed] if not final else body[pos:]
        nonce = header[5:21] + struct.pack(">I", i) + bytes([1 if final else 0]) + bytes(3)
        out += xchacha_open(key, nonce, piece, header)
        if final:
            break
        pos += sealed
        i += 1
    if padded_file:
        (size,) = struct.unpack(">Q", out[:8])
        out = out[8 : 8 + size]
    return out


def decode_frame(data: bytes) -> dict:
    r = Reader(data)
    t = r.varuint()
    names = ["auth", "auth-ok", "subscribe", "unsubscribe", "envelope", "deliver", "ack", "error",
             "synced", "membership-append", "membership", "snapshot-upload", "snapshot",
             "presence", "ping", "pong", "snapshot-confirm"]
    fields = {
        "auth": [("version", "u"), ("token", "s")],
        "auth-ok": [("sessionId", "s")],
        "subscribe": [("docId", "s"), ("sinceSeq", "u"), ("snapshotSeq", "u"), ("membershipFrom", "u")],
        "unsubscribe": [("docId", "s")],
        "envelope": [("docId", "s"), ("ref", "u"), ("envelope", "b")],
        "deliver": [("docId", "s"), ("seq", "u"), ("envelope", "b")],
        "ack": [("docId", "s"), ("ref", "u"), ("seq", "u")],
        "error": [("docId", "s"), ("ref", "u"), ("code", "s"), ("message", "s")],
        "synced": [("docId", "s"), ("headSeq", "u")],
        "membership-append": [("docId", "s"), ("ref", "u"), ("index", "u"), ("entry", "b")],
        "membership": [("docId", "s"), ("index", "u"), ("entry", "b")],
        "snapshot-upload": [("docId", "s"), ("ref", "u"), ("prevSeq", "u"), ("upToSeq", "u"), ("snapshot", "b")],
        "snapshot": [("docId", "s"), ("upToSeq", "u"), ("snapshot", "b"), ("confirmed", "f"),
                     ("confirmation", "b")],
        "snapshot-confirm": [("docId", "s"), ("ref", "u"), ("upToSeq", "u"), ("confirmation", "b")],
        "presence": [("docId", "s"), ("payload", "b")],
        "ping": [("nonce", "u")],
        "pong": [("nonce", "u")],
    }
    if t >= len(names):
        raise ValvError("malformed", f"unknown frame type {t}")
    f: dict = {"type": names[t]}
    for name, kind in fields[names[t]]:
        if kind == "f":
            flag = r.u8()
            if flag > 1:
                raise ValvError("malformed", "flag must be 0 or 1")
            f[name] = flag == 1
            continue
        f[name] = r.varuint() if kind == "u" else r.varstring() if kind == "s" else r.varbytes().hex()
    if not r.done():
        raise ValvError("malformed", "trailing bytes after frame")
    return f


# ---------------------------------------------------------------------------------------------
# Reading a document
# ---------------------------------------------------------------------------------------------


def open_snapshot(chain: Chain, keys: "KeyReader", hexenv: str, up_to_seq: int) -> tuple:
    """§ Reading a compacted document: verify and open a kind-6 envelope the dump places at up_to_seq."""
    data = bytes.fromhex(hexenv)
    env = verify_envelope(chain, data, "snapshot")
    if env["position"]["upToSeq"] != up_to_seq:
        raise ValvError("malformed", "snapshot position differs from the dump's")
    k = keys.epochs.get(env["epoch"])
    if k is None or "content" not in k:
        raise ValvError("unknown-epoch", f"no content key for epoch {env['epoch']}")
    body = decode_snapshot_body(open_envelope(chain.doc_id, env, k["content"]))
    return env, body, snapshot_id(chain.doc_id, data)


def snapshot_summary(env: dict, body: dict, sid: bytes) -> dict:
    return {
        "upToSeq": env["position"]["upToSeq"],
        "prevSeq": env["position"]["prevSeq"],
        "id": sid.hex(),
        "author": env["member"]["key"].hex(),
        "authorIndex": env["author"],
    }


def read_document(ident: dict, dump: dict) -> dict:
    if dump.get("format", "valv-log1") != "valv-log1":
        raise ValvError("unsupported-version", "not a valv-log1 dump")
    doc_id = dump["docId"]
    chain = Chain(doc_id)
    for i, hexentry in enumerate(dump["membership"]):
        e = chain.append(bytes.fromhex(hexentry))
        if e["index"] != i:
            raise ValvError("malformed", "membership out of order")
    mine = document_keys(ident, doc_id, chain.genesis["nonce"])
    my_index = None
    for seed in mine:
        idx = chain.by_key.get(ed25519_public(seed))
        if idx is not None:
            my_index = idx
    keys = KeyReader(chain, ident, my_index)
    keys.scan()
    ytext = YText()
    updates, rejected = [], []
    heads: dict[str, int] = {}  # hex author key -> highest counter seen
    bindings: dict[int, str] = {}  # Yjs client id -> hex author key
    base_seq, base_id = 0, bytes(32)
    snapshot = None
    # Step 1: the confirmed snapshot is the base.
    if dump.get("snapshot"):
        sn = dump["snapshot"]
        try:
            env, body, sid = open_snapshot(chain, keys, sn["envelope"], sn["upToSeq"])
            confirmed_by = None
            confirmation = bytes.fromhex(sn.get("confirmation", ""))
            if confirmation:
                confirmed_by = verify_confirmation(chain, confirmation, sid)
                if confirmed_by == env["author"]:
                    raise ValvError("not-authorised", "the author confirmed its own snapshot")
            ytext.integrate(ytext.decode(body["state"], v2=True))
            heads = dict(body["counters"])
            bindings = dict(body["clientIds"] or {})
            base_seq, base_id = sn["upToSeq"], sid
            snapshot = {
                **snapshot_summary(env, body, sid),
                "confirmedBy": confirmed_by,
                "gc": body["gc"],
                "size": len(body["state"]),
                "counters": body["counters"],
                "clientIds": None if body["clientIds"] is None else len(body["clientIds"]),
            }
        except ValvError as err:
            rejected.append({"snapshot": sn["upToSeq"], "reason": err.code})
    # Step 3 (prepared): a pending snapshot is never a base; it may be checked against updates.
    pending, check, seen = None, None, None
    if dump.get("pending"):
        pn = dump["pending"]
        try:
            penv, pbody, pid = open_snapshot(chain, keys, pn["envelope"], pn["upToSeq"])
            pending = {**snapshot_summary(penv, pbody, pid), "status": "unchecked"}
            pos = penv["position"]
            have = {u["seq"] for u in dump["updates"]}
            if (pos["prevSeq"], pos["prev"]) == (base_seq, base_id) and all(
                q in have for q in range(pos["prevSeq"] + 1, pos["upToSeq"] + 1)
            ):
                check = (pos["upToSeq"], pbody)
        except ValvError as err:
            pending = {"upToSeq": pn["upToSeq"], "status": err.code}

    def capture() -> dict:
        return {
            "counters": write_heads(heads),
            "clientIds": write_client_ids(bindings),
            "clocks": dict(ytext.next_clock),
            "text": ytext.texts(),
        }

    per_author: dict[str, int] = {}
    for a in bindings.values():
        per_author[a] = per_author.get(a, 0) + 1
    # Step 2: the updates after the base, in log order.
    for u in sorted(dump["updates"], key=lambda u: u["seq"]):
        seq = u["seq"]
        if seq <= base_seq:
            continue
        if check is not None and seen is None and seq > check[0]:
            seen = capture()
        try:
            env = verify_envelope(chain, bytes.fromhex(u["envelope"]), "update")
            author = env["member"]["key"].hex()
            if env["counter"] <= heads.get(author, 0):
                raise ValvError("replay", "author counter not increasing")
            k = keys.epochs.get(env["epoch"])
            if k is None or "content" not in k:
                raise ValvError("unknown-epoch", f"no content key for epoch {env['epoch']}")
            plain = open_envelope(doc_id, env, k["content"])
            parsed = ytext.decode(plain)
            clients = YText.clients(parsed)
            fresh = 0
            for c in clients:
                owner = bindings.get(c)
                if owner is None:
                    fresh += 1
                elif owner != author:
                    raise ValvError("impersonation", f"client id {c} is bound to another member")
            if per_author.get(author, 0) + fresh > MAX_CLIENT_IDS_PER_AUTHOR:
                raise ValvError("malformed-update", "too many client ids")
            ytext.integrate(parsed)
            heads[author] = env["counter"]
            for c in clients:
                if c not in bindings:
                    bindings[c] = author
                    per_author[author] = per_author.get(author, 0) + 1
            updates.append({
                "seq": seq,
                "author": author,
                "authorIndex": env["author"],
                "counter": env["counter"],
                "epoch": env["epoch"],
                "size": len(plain),
            })
        except ValvError as err:
            rejected.append({"seq": seq, "reason": err.code})
    if check is not None:
        seen = seen or capture()
        body = check[1]
        got = YText()
        got.integrate(got.decode(body["state"], v2=True))
        differs = []
        if body["countersBytes"] != seen["counters"]:
            differs.append("counters")
        if (body["clientIdsBytes"] or write_client_ids({})) != seen["clientIds"]:
            differs.append("clientIds")
        if got.next_clock != seen["clocks"]:
            differs.append("clocks")
        if got.texts() != seen["text"]:
            differs.append("text")
        pending["status"] = "differs" if differs else "matches"
        if differs:
            pending["differs"] = differs
    members = []
    for m in sorted(chain.members.values(), key=lambda m: m["index"]):
        cert = keys.certs.get(m["index"])
        members.append({
            "index": m["index"],
            "role": ROLES[m["role"]],
            "key": m["key"].hex(),
            "userId": cert["userKey"].hex() if cert else None,
            "name": cert["displayName"] if cert else None,
        })
    return {
        "docId": doc_id,
        "chain": {
            "length": len(chain.entries),
            "head": chain.head.hex(),
            "epoch": chain.epoch,
            "members": members,
        },
        "me": {"index": my_index, "role": ROLES[chain.members[my_index]["role"]] if my_index is not None else "none"},
        "epochs": sorted(k for k, v in keys.epochs.items() if "content" in v),
        "snapshot": snapshot,
        "pending": pending,
        "updates": updates,
        "rejected": rejected,
        "text": ytext.texts(),
    }


# ---------------------------------------------------------------------------------------------
# Vectors
# ---------------------------------------------------------------------------------------------


def expect(cond: bool, what: str) -> None:
    if not cond:
        raise AssertionError(what)


def check_vectors(directory: str) -> dict[str, int]:
    def load(name: str):
        with open(os.path.join(directory, f"{name}.json"), encoding="utf-8") as f:
            return json.load(f)

    h = bytes.fromhex
    done: dict[str, int] = {}
    for v in load("epoch-keys"):
        k = epoch_keys(v["docId"], v["epoch"], h(v["secret"]))
        expect(domain_message("epoch", v["docId"].encode(), u64(v["epoch"])).hex() == v["salt"], "salt")
        expect(k["content"].hex() == v["content"] and k["roster"].hex() == v["roster"], "epoch keys")
        expect(key_commitment(h(v["secret"])).hex() == v["keyCommitment"], "commitment")
        done["epoch-keys"] = done.get("epoch-keys", 0) + 1
    for v in load("payload-aad"):
        expect(payload_aad(v["docId"], v["entryIndex"], v["tag"]).hex() == v["aad"], "payload aad")
        done["payload-aad"] = done.get("payload-aad", 0) + 1
    for v in load("recipient-hint"):
        expect(ed25519_public(h(v["signerSecret"])).hex() == v["signerKey"], "hint signer key")
        expect(ed25519_public(h(v["deviceSecret"])).hex() == v["deviceKey"], "hint device key")
        # The signer's side: its seed against the device key, as the recipient against the signer.
        signer_side = recipient_hint(h(v["signerSecret"]), h(v["deviceKey"]), v["docId"], v["entryIndex"], v["tag"])
        device_side = recipient_hint(h(v["deviceSecret"]), h(v["signerKey"]), v["docId"], v["entryIndex"], v["tag"])
        expect(signer_side is not None and signer_side.hex() == v["hint"], "recipient hint (signer)")
        expect(device_side is not None and device_side.hex() == v["hint"], "recipient hint (device)")
        done["recipient-hint"] = done.get("recipient-hint", 0) + 1
    v = load("join-admission")
    a = admission_keys(v["docId"], h(v["admissionSecret"]))
    expect(a["publicKey"].hex() == v["admissionKey"] and a["wrapKey"].hex() == v["wrapKey"], "admission keys")
    msg = domain_message("admission", v["docId"].encode(), u64(v["admitIndex"]), h(v["joiningKey"]))
    expect(msg.hex() == v["message"], "admission message")
    expect(ed25519_verify(a["publicKey"], h(v["signature"]), msg), "admission signature")
    sig = Ed25519PrivateKey.from_private_bytes(a["signingSecret"]).sign(msg)
    expect(sig.hex() == v["signature"], "admission signature bytes")
    done["join-admission"] = 1

    def open_vector(x: dict) -> bytes:
        env = decode_envelope(h(x["envelope"]))
        expect(env["kind"] == x["kind"] and env["header"].hex() == x["header"], "envelope header")
        msg = domain_message("envelope", x["docId"].encode(), env["signed"])
        expect(ed25519_verify(h(x["authorKey"]), env["signature"], msg), "envelope signature")
        content = epoch_keys(x["docId"], x["epoch"], h(x["epochSecret"]))["content"]
        aad = domain_message("envelope-aad", x["docId"].encode(), env["header"])
        expect(aad.hex() == x["aad"], "envelope aad")
        padded = aead_open(env["suite"], content, env["ciphertext"], aad)
        expect(padded.hex() == x["padded"], "padded plaintext")
        plain = unpad(padded)
        expect(plain.hex() == x["plaintext"], "plaintext")
        return plain

    for x in load("envelopes"):
        plain = open_vector(x)
        if x["kind"] != "update" or x["suite"] == 1:
            y = YText()
            y.apply(plain)
            expect(y.texts() == {"text": f"envelope {x['kind']}"}, "yjs text")
        done["envelopes"] = done.get("envelopes", 0) + 1
    v = load("snapshot")
    sealed = h(v["envelope"]["envelope"])
    pos = decode_envelope(sealed)["position"]
    expect(pos == {"upToSeq": v["upToSeq"], "prevSeq": v["prevSeq"], "prev": h(v["prev"])}, "position")
    body = decode_snapshot_body(open_vector(v["envelope"]))
    expect(body["gc"] == v["gc"] and body["counters"] == v["counters"], "snapshot counters")
    expect(body["state"].hex() == v["state"], "snapshot state")
    want_ids = {c: a for a, ids in v["clientIds"].items() for c in ids}
    expect(body["clientIds"] == want_ids, "snapshot client ids")
    expect(write_heads(body["counters"]) == body["countersBytes"], "canonical counters")
    expect(write_client_ids(want_ids) == body["clientIdsBytes"], "canonical client-id table")
    legacy = decode_snapshot_body(h(v["bodyWithoutClientIds"]))
    expect(legacy["clientIds"] is None and legacy["state"] == body["state"], "body without table")
    y = YText()
    y.apply(body["state"], v2=True)
    expect(y.texts() == {"text": v["text"]}, "snapshot text (Yjs v2)")
    expect(domain_message("snapshot-id", v["docId"].encode(), sealed).hex() == v["idInput"], "id input")
    sid = snapshot_id(v["docId"], sealed)
    expect(sid.hex() == v["id"], "snapshot id")
    c = v["confirmation"]
    msg = domain_message("snapshot-confirm", v["docId"].encode(), sid)
    expect(msg.hex() == c["message"], "confirmation message")
    expect(ed25519_verify(h(c["key"]), h(c["signature"]), msg), "confirmation signature")
    expect(c["bytes"] == "01" + varuint(c["author"]).hex() + c["signature"], "confirmation bytes")
    done["snapshot"] = 1
    for x in load("presence"):
        m = decode_presence(open_vector(x["envelope"]))
        expect(m["session"] == x["session"] and m["counter"] == x["counter"], "presence")
        expect(m["sentAt"] == x["sentAt"] and m["type"] == x["type"], "presence")
        expect(m["acks"] == x.get("acks", []), "presence acks")
        if m["type"] == "bye":
            pass
        elif m["type"] == "awareness":
            expect(m["update"].hex() == x["update"], "awareness")
        else:
            expect(m["heads"] == x["heads"] and m["lastSeq"] == x["lastSeq"], "heads")
        done["presence"] = done.get("presence", 0) + 1
    v = load("file-chunks")
    roster = epoch_keys(v["docId"], 0, h(v["epochSecret"]))["roster"]
    id_key = hkdf(roster, v["docId"].encode(), "valv/v1/blob-id-key")
    expect(id_key.hex() == v["blobIdKey"], "blob id key")
    for s in v["streams"]:
        expect(decrypt_file(h(s["fileKey"]), h(s["ciphertext"])).hex() == s["content"], "file")
        expect(decrypt_file(h(s["key"]), h(s["ciphertext"])).hex() == s["plaintext"], "stream")
        blob = b64url(hmac.new(id_key, b"valv/v1/blob-id" + h(s["key"]), hashlib.sha256).digest())
        expect(blob == s["blobId"], "blob id")
        done["file-chunks"] = done.get("file-chunks", 0) + 1
    for x in load("frames"):
        expect(decode_frame(h(x["bytes"])) == x["frame"], f"frame {x['frame']['type']}")
        done["frames"] = done.get("frames", 0) + 1
    # chain-v2.json: a membership version 2 chain (no recipient hints), still read.
    for name in ("chain", "chain-v2"):
        v = load(name)
        chain = Chain(v["docId"])
        for i, e in enumerate(v["chain"]):
            chain.append(h(e))
            expect(chain.head.hex() == v["hashes"][i], f"chain hash {i}")
            expect(chain.entries[-1]["kind"] == v["kinds"][i], f"kind {i}")
        dump = {"docId": v["docId"], "membership": v["chain"],
                "updates": [{"seq": i + 1, "envelope": x["envelope"]} for i, x in enumerate(v["envelopes"])]}
        for rd in v["readers"]:
            ident = import_identity(rd["identity"], v["passphrase"])
            out = read_document(ident, dump)
            expect(out["me"]["index"] == rd["memberIndex"], f"{rd['name']} index")
            want = sorted(int(k) for k, x in rd["epochs"].items() if "content" in x)
            expect(out["epochs"] == want, f"{rd['name']} epochs {out['epochs']} != {want}")
            opened = [u["seq"] for u in out["updates"]]
            closed = [x for x in v["envelopes"] if x["epoch"] not in want]
            want_text = v["text"] if not closed else "".join(
                x["text"] for x in v["envelopes"] if x["epoch"] in want
            )
            expect(len(opened) == len(v["envelopes"]) - len(closed), "opened")
            expect([r["reason"] for r in out["rejected"]] == ["unknown-epoch"] * len(closed), "closed")
            expect(out["text"].get("text", "") == want_text, f"{rd['name']} text")
            done[name] = done.get(name, 0) + 1
    return done


def padme(n: int) -> int:
    """§ Padding: PADMÉ length."""
    if n < 2:
        return n
    e = n.bit_length() - 1
    s = e.bit_length()
    step = 2 ** (e - s)
    return -(-n // step) * step


def pad(data: bytes, policy) -> bytes:
    inner = 4 + len(data)
    if policy == "none":
        total = inner
    elif policy == "padme":
        total = padme(inner)
    else:
        total = -(-inner // policy["bucket"]) * policy["bucket"]
    return struct.pack(">I", len(data)) + data + bytes(total - inner)


def xwing_public(seed: bytes) -> bytes:
    expanded = hashlib.shake_256(seed).digest(96)
    mlkem = MLKEM768PrivateKey.from_seed_bytes(expanded[:64]).public_key().public_bytes_raw()
    x = X25519PrivateKey.from_private_bytes(expanded[64:96]).public_key().public_bytes_raw()
    return mlkem + x


def check_primitives(path: str) -> int:
    """packages/crypto/test/primitives/vectors.json: every primitive the spec names."""
    with open(path, encoding="utf-8") as f:
        v = json.load(f)
    h = bytes.fromhex
    n = 0
    for x in v["aead"]:
        expect(aead_open(x["suite"], h(x["key"]), h(x["sealed"]), h(x["aad"])).hex() == x["plaintext"], "aead")
        n += 1
    for x in v["keyCommitment"]:
        expect(key_commitment(h(x["key"])).hex() == x["commitment"], "commitment")
        n += 1
    for x in v["hkdf"]:
        expect(hkdf(h(x["ikm"]), h(x["salt"]), x["info"]).hex() == x["okm"], "hkdf")
        n += 1
    for x in v["hybridBox"]:
        expect(xwing_public(h(x["keySeed"])).hex() == x["publicKey"], "X-Wing public key")
        expect(open_box(h(x["keySeed"]), h(x["box"]), h(x["aad"])).hex() == x["plaintext"], "box")
        n += 1
    for x in v["signature"]:
        sk = Ed25519PrivateKey.from_private_bytes(h(x["seed"]))
        expect(sk.public_key().public_bytes_raw().hex() == x["publicKey"], "ed25519 key")
        expect(sk.sign(h(x["message"])).hex() == x["signature"], "ed25519 signature")
        msg = domain_message(x["domain"], *[h(p) for p in x["parts"]])
        expect(sk.sign(msg).hex() == x["domainSignature"], "domain signature")
        n += 1
    for x in v["padding"]:
        expect(pad(h(x["input"]), x["policy"]).hex() == x["padded"], f"pad {x['policy']}")
        expect(unpad(h(x["padded"])).hex() == x["input"], "unpad")
        n += 1
    for x in v["passphrase"]:
        expect(unwrap_passphrase(h(x["wrapped"]), x["passphrase"]).hex() == x["secret"], "passphrase")
        n += 1
    for x in v["blob"]:
        expect(decrypt_file(h(x["key"]), h(x["ciphertext"])).hex() == x["plaintext"], "blob")
        n += 1
    for x in v["blobId"]:
        mac = hmac.new(h(x["idKey"]), b"valv/v1/blob-id" + h(x["input"]), hashlib.sha256).digest()
        expect(b64url(mac) == x["id"], "blob id")
        n += 1
    return n


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "vectors":
        try:
            done = check_vectors(argv[1])
            if len(argv) >= 3:
                done["primitives"] = check_primitives(argv[2])
            print(json.dumps(done, sort_keys=True))
        except (AssertionError, ValvError) as err:
            print(f"vector mismatch: {err}", file=sys.stderr)
            return 1
        return 0
    if argv and argv[0] == "read":
        args = dict(zip(argv[1::2], argv[2::2]))
        with open(args["--identity"], encoding="utf-8") as f:
            text = f.read().strip()
        with open(args["--log"], encoding="utf-8") as f:
            dump = json.load(f)
        try:
            ident = import_identity(text, os.environ[args["--passphrase-env"]])
            out = read_document(ident, dump)
        except ValvError as err:
            print(json.dumps({"error": err.code, "message": str(err)}), file=sys.stderr)
            return 1
        print(json.dumps(out, sort_keys=True, ensure_ascii=False))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
