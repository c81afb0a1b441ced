/**
 * Admissions (invite redemption): join entries against a chain that holds an open admission, a
 * revoked one, an expired one and a used-up one. Candidates are correctly signed by their
 * signer (the fuzzer holds those keys) and vary every field the join rules look at; mutations
 * of them reach the same rules. Only a join through the open admission, by a new key, with the
 * admission's signature over that key and a current time, may be accepted.
 */
import { ed25519 } from '@noble/curves/ed25519.js'
import {
  CryptoError,
  deriveDocId,
  domainMessage,
  type EntryBody,
  encodeEntryFields,
  entryHash,
  equalBytes,
  joinSignature,
  Role,
  u64Bytes,
  utf8,
} from '@valv/protocol'
import fc from 'fast-check'
import { InvariantBroken, type Target } from '../driver.js'
import { appendAt, prefixStates } from './membership.js'

interface Key {
  readonly secret: Uint8Array
  readonly pub: Uint8Array
}
const key = (fill: number): Key => {
  const secret = new Uint8Array(32).fill(fill)
  return { secret, pub: ed25519.getPublicKey(secret) }
}

/** Build the admission chain and every join candidate; `valid` holds the acceptable ones. */
function build() {
  const now = Math.floor(Date.now() / 1000)
  const admin = key(1)
  const nonce = new Uint8Array(16).fill(9)
  const docId = deriveDocId(admin.pub, nonce)
  const chain: Uint8Array[] = []
  const append = (signer: Key, body: EntryBody, at = now): Uint8Array => {
    const prev =
      chain.length === 0 ? new Uint8Array(32) : entryHash(docId, chain.at(-1) as Uint8Array)
    const fields = {
      index: chain.length,
      prev,
      at,
      signer: signer.pub,
      body,
      payload: new Uint8Array(),
    }
    const signed = encodeEntryFields(fields)
    const sig = ed25519.sign(domainMessage('membership', utf8(docId), signed), signer.secret)
    return joinSignature(signed, sig)
  }
  const push = (signer: Key, body: EntryBody) => chain.push(append(signer, body))
  const admissions = [key(11), key(12), key(13), key(14)]
  const admit = (k: Key, expiresAt: number, maxUses: number): EntryBody => ({
    kind: 'admit',
    admissionKey: k.pub,
    role: Role.Editor,
    expiresAt,
    maxUses,
  })
  const admSig = (k: Key, index: number, signer: Key) =>
    ed25519.sign(domainMessage('admission', utf8(docId), u64Bytes(index), signer.pub), k.secret)
  push(admin, {
    kind: 'genesis',
    nonce,
    suite: 1,
    writeRole: Role.Editor,
    historyPolicy: 0,
    keyCommitment: new Uint8Array(32).fill(3),
  })
  const [open, revoked, expired, used] = admissions as [Key, Key, Key, Key]
  push(admin, admit(open, 0, 0)) // 1
  push(admin, admit(revoked, 0, 0)) // 2
  push(admin, admit(expired, now - 1_000, 0)) // 3
  push(admin, admit(used, 0, 1)) // 4
  push(admin, { kind: 'revoke-admission', admission: 2 }) // 5
  const member = key(20)
  push(member, { kind: 'join', admission: 4, admissionSignature: admSig(used, 4, member) }) // 6
  const signers = [key(21), key(22), member, admin]
  const byIndex: Record<number, Key> = { 1: open, 2: revoked, 3: expired, 4: used }
  const candidates: Uint8Array[] = []
  const valid: Uint8Array[] = []
  for (const admission of [1, 2, 3, 4, 5, 99]) {
    const k = byIndex[admission] ?? open
    for (const signer of signers) {
      const sigs = [
        admSig(k, admission, signer),
        admSig(k, admission + 1, signer),
        admSig(used, admission, signer),
        new Uint8Array(64),
      ]
      for (const [s, admissionSignature] of sigs.entries()) {
        for (const at of [now, now - 10_000]) {
          const bytes = append(signer, { kind: 'join', admission, admissionSignature }, at)
          candidates.push(bytes)
          const ok =
            admission === 1 && s === 0 && at === now && signer !== member && signer !== admin
          if (ok) valid.push(bytes)
        }
      }
    }
  }
  return { docId, chain, candidates, valid }
}

/** Join entries appended after the admission chain. */
export function admissionTarget(): Target {
  const { docId, chain, candidates, valid } = build()
  const states = prefixStates(docId, chain)
  return {
    name: 'admission',
    rejects: [
      {
        error: CryptoError,
        codes: [
          'malformed',
          'unsupported-version',
          'bad-signature',
          'not-authorised',
          'fork-detected',
          'expired',
          'invalid-state',
        ],
      },
    ],
    samples: candidates,
    generate: fc.constantFrom(...candidates),
    run(input) {
      appendAt(states, chain.length, input)
      if (!valid.some((v) => equalBytes(v, input))) {
        throw new InvariantBroken('a join that breaks an admission rule was accepted')
      }
    },
    memoryBound: 16 * 2 ** 20,
    defaultInputs: {
      count: 8_000,
      why: 'most inputs cost two pure-JS Ed25519 verifications (entry and admission)',
    },
  }
}
