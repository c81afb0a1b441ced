import { ed25519 } from '@noble/curves/ed25519.js'
import { bytesToHex, concatBytes, utf8ToBytes } from '@noble/hashes/utils.js'
import { RelayError } from '../src/errors.js'
import type { EnvelopeVerifier, VerifyContext } from '../src/verifier.js'

/**
 * A real signing scheme for relay tests (ed25519, role chain), standing in for
 * `@valv/protocol` until it is wired in. Update: `pub(32) | counter(u32) | sig(64) | payload`;
 * membership entry: `signerPub(32) | memberPub(32) | role(1) | sig(64)`.
 */
export const Role = { Removed: 0, Viewer: 1, Editor: 2, Admin: 3 } as const

export interface Member {
  readonly secret: Uint8Array
  readonly pub: Uint8Array
}

export function member(): Member {
  const secret = ed25519.utils.randomSecretKey()
  return { secret, pub: ed25519.getPublicKey(secret) }
}

const u32 = (n: number) => new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255])
const readU32 = (b: Uint8Array, at: number) =>
  ((b[at] as number) << 24) |
  ((b[at + 1] as number) << 16) |
  ((b[at + 2] as number) << 8) |
  (b[at + 3] as number)

export function signUpdate(m: Member, docId: string, counter: number, payload: Uint8Array) {
  const sig = ed25519.sign(concatBytes(utf8ToBytes(docId), u32(counter), payload), m.secret)
  return concatBytes(m.pub, u32(counter), sig, payload)
}

/** A snapshot: an update whose payload starts with `upToSeq(u32) | prevSeq(u32) | prev(32)`. */
export function signSnapshot(
  m: Member,
  docId: string,
  counter: number,
  position: { upToSeq: number; prevSeq: number; prev: Uint8Array },
  payload: Uint8Array,
) {
  const head = concatBytes(u32(position.upToSeq), u32(position.prevSeq), position.prev)
  return signUpdate(m, docId, counter, concatBytes(head, payload))
}

/** A confirmation of snapshot `id`: `pub(32) | sig(64)` over `docId | "confirm" | id`. */
export function signConfirmation(m: Member, docId: string, id: Uint8Array) {
  const sig = ed25519.sign(concatBytes(utf8ToBytes(docId), utf8ToBytes('confirm'), id), m.secret)
  return concatBytes(m.pub, sig)
}

export function signMember(
  signer: Member,
  docId: string,
  index: number,
  who: Uint8Array,
  role: number,
) {
  const body = concatBytes(signer.pub, who, new Uint8Array([role]))
  const sig = ed25519.sign(concatBytes(utf8ToBytes(docId), u32(index), body), signer.secret)
  return concatBytes(body, sig)
}

function roles(ctx: VerifyContext): Map<string, number> {
  const out = new Map<string, number>()
  ctx.membership.forEach((e, i) => {
    const signer = bytesToHex(e.subarray(0, 32))
    // Entries were verified on append; genesis is self-signed by the first admin.
    if (i === 0) out.set(signer, Role.Admin)
    out.set(bytesToHex(e.subarray(32, 64)), e[64] as number)
  })
  return out
}

export const testVerifier: EnvelopeVerifier = {
  verifyUpdate(ctx, env) {
    if (env.length < 100) throw new RelayError('malformed', 'short envelope')
    const pub = env.subarray(0, 32)
    const counter = readU32(env, 32)
    const ok = ed25519.verify(
      env.subarray(36, 100),
      concatBytes(utf8ToBytes(ctx.docId), env.subarray(32, 36), env.subarray(100)),
      pub,
    )
    if (!ok) throw new RelayError('bad-signature', 'signature does not verify')
    const role = roles(ctx).get(bytesToHex(pub)) ?? Role.Removed
    if (role < Role.Editor) throw new RelayError('forbidden', 'not a writer')
    return { author: bytesToHex(pub), counter }
  },
  verifyMembershipEntry(ctx, e) {
    if (e.length !== 129) throw new RelayError('membership-invalid', 'bad length')
    const ok = ed25519.verify(
      e.subarray(65),
      concatBytes(utf8ToBytes(ctx.docId), u32(ctx.membership.length), e.subarray(0, 65)),
      e.subarray(0, 32),
    )
    if (!ok) throw new RelayError('membership-invalid', 'signature does not verify')
    const signer = bytesToHex(e.subarray(0, 32))
    if (ctx.membership.length > 0 && roles(ctx).get(signer) !== Role.Admin) {
      throw new RelayError('membership-invalid', 'signer is not an admin')
    }
  },
  verifySnapshot(ctx, snapshot) {
    const { author } = this.verifyUpdate(ctx, snapshot) as { author: string }
    if (snapshot.length < 140) throw new RelayError('malformed', 'short snapshot')
    const p = snapshot.subarray(100)
    const others = [...roles(ctx)].filter(([who, r]) => who !== author && r >= Role.Editor)
    return {
      author,
      upToSeq: readU32(p, 0),
      prevSeq: readU32(p, 4),
      prev: p.slice(8, 40),
      soleWriter: others.length === 0,
    }
  },
  verifyConfirmation(ctx, bytes, id) {
    const pub = bytes.subarray(0, 32)
    const data = concatBytes(utf8ToBytes(ctx.docId), utf8ToBytes('confirm'), id)
    if (bytes.length !== 96 || !ed25519.verify(bytes.subarray(32), data, pub)) {
      throw new RelayError('bad-signature', 'confirmation does not verify')
    }
    if ((roles(ctx).get(bytesToHex(pub)) ?? Role.Removed) < Role.Editor) {
      throw new RelayError('forbidden', 'not a writer')
    }
    return { author: bytesToHex(pub) }
  },
  verifyPresence(ctx, payload) {
    // Presence uses the update format; any current member (viewer and up) may send it.
    if (payload.length < 100) throw new RelayError('forbidden', 'not signed presence')
    const pub = payload.subarray(0, 32)
    const ok = ed25519.verify(
      payload.subarray(36, 100),
      concatBytes(utf8ToBytes(ctx.docId), payload.subarray(32, 36), payload.subarray(100)),
      pub,
    )
    if (!ok) throw new RelayError('bad-signature', 'signature does not verify')
    if ((roles(ctx).get(bytesToHex(pub)) ?? Role.Removed) < Role.Viewer) {
      throw new RelayError('forbidden', 'not a member')
    }
    return { author: bytesToHex(pub) }
  },
  peekUpdate(env) {
    return { author: bytesToHex(env.subarray(0, 32)), counter: readU32(env, 32) }
  },
}
