import type { DocumentCrypto, Opened, SealKind, SnapshotPosition } from '@valv/core'
import { snapshotId } from '@valv/protocol'

/**
 * A real (WebCrypto Ed25519 + AES-256-GCM) implementation of the `DocumentCrypto` seam for
 * tests, standing in for `@valv/crypto` until it lands. Roles come from a membership chain in
 * the same format the relay test verifier reads: `signerPub(32) | memberPub(32) | role(1) |
 * sig(64)`, signed over `docId | index(u32) | body`. Sealed: `kind(1) | pub(32) | counter(u32)
 * | sig(64) | iv(12) | ciphertext`, signed over `docId | kind | counter | iv | ciphertext`.
 */
export const Role = { Removed: 0, Viewer: 1, Editor: 2, Admin: 3 } as const
const KINDS: SealKind[] = ['update', 'snapshot', 'state', 'presence', 'checkpoint']
const te = new TextEncoder()
const subtle = globalThis.crypto.subtle

export interface Identity {
  readonly pub: Uint8Array
  readonly hex: string
  readonly keys: CryptoKeyPair
}

export async function identity(): Promise<Identity> {
  const keys = (await subtle.generateKey({ name: 'Ed25519' }, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair
  const pub = new Uint8Array(await subtle.exportKey('raw', keys.publicKey))
  return { pub, hex: hex(pub), keys }
}

export const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const u32 = (n: number) => new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255])
const readU32 = (b: Uint8Array, at: number) =>
  (((b[at] as number) << 24) |
    ((b[at + 1] as number) << 16) |
    ((b[at + 2] as number) << 8) |
    (b[at + 3] as number)) >>>
  0
export function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

export async function sign(id: Identity, data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(
    await subtle.sign('Ed25519', id.keys.privateKey, data as Uint8Array<ArrayBuffer>),
  )
}
export async function verify(pub: Uint8Array, sig: Uint8Array, data: Uint8Array) {
  const key = await subtle.importKey('raw', pub as Uint8Array<ArrayBuffer>, 'Ed25519', false, [
    'verify',
  ])
  return subtle.verify(
    'Ed25519',
    key,
    sig as Uint8Array<ArrayBuffer>,
    data as Uint8Array<ArrayBuffer>,
  )
}

/** A signed membership entry at `index` giving `who` the `role`. */
export async function membershipEntry(
  signer: Identity,
  docId: string,
  index: number,
  who: Uint8Array,
  role: number,
): Promise<Uint8Array> {
  const body = concat(signer.pub, who, new Uint8Array([role]))
  return concat(body, await sign(signer, concat(te.encode(docId), u32(index), body)))
}

/** Roles from a verified chain (genesis signer is admin). */
export function rolesOf(chain: readonly Uint8Array[]): Map<string, number> {
  const roles = new Map<string, number>()
  chain.forEach((e, i) => {
    if (i === 0) roles.set(hex(e.subarray(0, 32)), Role.Admin)
    roles.set(hex(e.subarray(32, 64)), e[64] as number)
  })
  return roles
}

/** Verify `entry` as the successor of `chain`; throws if it is not. */
export async function checkEntry(docId: string, chain: readonly Uint8Array[], entry: Uint8Array) {
  if (entry.length !== 129) throw new Error('bad membership entry length')
  const ok = await verify(
    entry.subarray(0, 32),
    entry.subarray(65),
    concat(te.encode(docId), u32(chain.length), entry.subarray(0, 65)),
  )
  if (!ok) throw new Error('membership signature does not verify')
  if (chain.length > 0 && rolesOf(chain).get(hex(entry.subarray(0, 32))) !== Role.Admin) {
    throw new Error('membership signer is not an admin')
  }
}

/** A snapshot's position, signed in front of its iv: `upToSeq(u32) | prevSeq(u32) | prev(32)`. */
const POSITION = 40

/** Parse the public part of a sealed message (used by the relay-side verifier too). */
export function peek(sealed: Uint8Array) {
  if (sealed.length < 1 + 32 + 4 + 64 + 12 + 16) throw new Error('short envelope')
  const kind = KINDS[sealed[0] as number]
  if (kind === undefined) throw new Error('unknown kind')
  const body = sealed.subarray(101)
  const position =
    kind === 'snapshot'
      ? { upToSeq: readU32(body, 0), prevSeq: readU32(body, 4), prev: body.slice(8, POSITION) }
      : undefined
  return {
    kind,
    pub: sealed.subarray(1, 33),
    counter: readU32(sealed, 33),
    sig: sealed.subarray(37, 101),
    body,
    position,
    cipher: kind === 'snapshot' ? body.subarray(POSITION) : body,
  }
}

/** A confirmation of snapshot `id`: `pub(32) | sig(64)` over `docId | "confirm" | id`. */
export async function confirmationOf(id: Identity, docId: string, snap: Uint8Array) {
  return concat(id.pub, await sign(id, concat(te.encode(docId), te.encode('confirm'), snap)))
}

/** Verify a confirmation's signature; resolves with the signer's hex key. */
export async function checkConfirmation(docId: string, bytes: Uint8Array, snap: Uint8Array) {
  if (bytes.length !== 96) throw new Error('bad confirmation')
  const pub = bytes.subarray(0, 32)
  const data = concat(te.encode(docId), te.encode('confirm'), snap)
  if (!(await verify(pub, bytes.subarray(32), data))) throw new Error('bad confirmation')
  return hex(pub)
}

/** Verify a sealed message's signature (no role check). */
export async function verifySealed(docId: string, sealed: Uint8Array): Promise<boolean> {
  const p = peek(sealed)
  return verify(
    p.pub,
    p.sig,
    concat(te.encode(docId), sealed.subarray(0, 1), sealed.subarray(33, 37), p.body),
  )
}

/** A member's view of one document: shared AES key plus the membership chain it has seen. */
export class TestCrypto implements DocumentCrypto {
  readonly author: string
  readonly chain: Uint8Array[] = []

  constructor(
    readonly id: Identity,
    readonly docId: string,
    private readonly docKey: CryptoKey,
  ) {
    this.author = id.hex
  }

  role(author = this.author): number {
    return rolesOf(this.chain).get(author) ?? Role.Removed
  }

  canWrite(): boolean {
    return this.role() >= Role.Editor
  }

  async seal(
    kind: SealKind,
    plaintext: Uint8Array,
    counter: number,
    position?: SnapshotPosition,
  ): Promise<Uint8Array> {
    const iv = globalThis.crypto.getRandomValues(new Uint8Array(12))
    const k = new Uint8Array([KINDS.indexOf(kind)])
    const aad = concat(te.encode(this.docId), k, u32(counter))
    const ct = new Uint8Array(
      await subtle.encrypt(
        { name: 'AES-GCM', iv, additionalData: aad },
        this.docKey,
        plaintext as Uint8Array<ArrayBuffer>,
      ),
    )
    const pos =
      kind === 'snapshot' && position !== undefined
        ? concat(u32(position.upToSeq), u32(position.prevSeq), position.prev)
        : new Uint8Array()
    const body = concat(pos, iv, ct)
    const sig = await sign(this.id, concat(te.encode(this.docId), k, u32(counter), body))
    return concat(k, this.id.pub, u32(counter), sig, body)
  }

  async open(kind: SealKind, sealed: Uint8Array): Promise<Opened> {
    const p = peek(sealed)
    if (p.kind !== kind) throw new Error(`expected ${kind}, got ${p.kind}`)
    if (!(await verifySealed(this.docId, sealed))) throw new Error('signature does not verify')
    const author = hex(p.pub)
    const need =
      kind === 'update' || kind === 'snapshot'
        ? Role.Editor
        : kind === 'checkpoint'
          ? Role.Removed
          : Role.Viewer
    const self = author === this.author
    if (kind === 'checkpoint' ? !self : !self && this.role(author) < need) {
      throw new Error(`author may not send ${kind}`)
    }
    const aad = concat(te.encode(this.docId), sealed.subarray(0, 1), sealed.subarray(33, 37))
    const pt = await subtle.decrypt(
      {
        name: 'AES-GCM',
        iv: p.cipher.subarray(0, 12) as Uint8Array<ArrayBuffer>,
        additionalData: aad,
      },
      this.docKey,
      p.cipher.subarray(12) as Uint8Array<ArrayBuffer>,
    )
    const writer = this.role(author) >= Role.Editor
    const opened = { author, counter: p.counter, plaintext: new Uint8Array(pt), writer }
    if (p.position === undefined) return opened
    return { ...opened, snapshot: { ...p.position, id: snapshotId(this.docId, sealed) } }
  }

  async confirmSnapshot(snap: Uint8Array): Promise<Uint8Array> {
    return confirmationOf(this.id, this.docId, snap)
  }

  async openConfirmation(bytes: Uint8Array, snap: Uint8Array): Promise<string> {
    const who = await checkConfirmation(this.docId, bytes, snap)
    if (this.role(who) < Role.Editor) throw new Error('confirmer is not a writer')
    return who
  }

  async applyMembership(index: number, entry: Uint8Array): Promise<void> {
    if (index < this.chain.length) return
    if (index !== this.chain.length) throw new Error('membership gap')
    await checkEntry(this.docId, this.chain, entry)
    this.chain.push(entry)
  }

  membershipLength(): number {
    return this.chain.length
  }
}

/** A document with a key and a cast; `crypto(id)` gives that member's view. */
export class TestRoom {
  readonly chain: Uint8Array[] = []
  private constructor(
    readonly docId: string,
    readonly key: CryptoKey,
  ) {}

  static async create(docId: string): Promise<TestRoom> {
    const key = await subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
      'encrypt',
      'decrypt',
    ])
    return new TestRoom(docId, key)
  }

  /** Append a membership entry (signed by `signer`) to the local copy of the chain. */
  async add(signer: Identity, who: Identity, role: number): Promise<Uint8Array> {
    const e = await membershipEntry(signer, this.docId, this.chain.length, who.pub, role)
    this.chain.push(e)
    return e
  }

  /** A member's crypto, preloaded with the current chain (as if synced earlier). */
  async crypto(id: Identity, preload = true): Promise<TestCrypto> {
    const c = new TestCrypto(id, this.docId, this.key)
    if (preload) for (const [i, e] of this.chain.entries()) await c.applyMembership(i, e)
    return c
  }
}
