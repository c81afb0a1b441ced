/**
 * The in-page half of chromium.test.ts: bundled for the browser with esbuild and driven by
 * Playwright. Everything crosses the page boundary as plain data (byte arrays as number[]).
 */
import { ed25519 } from '@noble/curves/ed25519.js'
import { MembershipState, verifyEnvelopeAsync } from '@valv/protocol'
import { LocalRelay } from '@valv/test-utils'
import {
  CryptoError,
  DocumentSession,
  Identity,
  PublicCard,
  RecoveryKey,
  Role,
} from '../../src/index.js'

const text = (s: string) => new TextEncoder().encode(s)
const str = (b: Uint8Array) => new TextDecoder().decode(b)
const arr = (b: Uint8Array) => Array.from(b)
const bytes = (a: number[]) => Uint8Array.from(a)

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (err) {
    return err instanceof CryptoError ? err.code : `not a CryptoError: ${String(err)}`
  }
  return 'resolved'
}

/** Whether this browser's WebCrypto has Ed25519 (the path `ed25519-fast.ts` then takes). */
async function nativeEd25519(): Promise<boolean> {
  try {
    const pub = ed25519.getPublicKey(new Uint8Array(32).fill(7))
    const key = await crypto.subtle.importKey('raw', pub, { name: 'Ed25519' }, false, ['verify'])
    return key.algorithm.name === 'Ed25519'
  } catch {
    return false
  }
}

/** The whole life of a document inside the page, reported as data the test asserts on. */
async function scenario() {
  const relay = new LocalRelay()
  const recovery = RecoveryKey.generate()
  const anna = await Identity.create({ displayName: 'Anna' })
  const bo = await Identity.create({ displayName: 'Bo' })
  const cy = await Identity.create({ displayName: 'Cy' })
  const dag = await Identity.create({ displayName: 'Dag' })
  const admin = await DocumentSession.create(anna, { recovery: recovery.publicKey })
  await relay.connect(admin)
  const sealed: Uint8Array[] = []

  await admin.share(PublicCard.parse(bo.card.toString()), Role.Editor)
  const boS = await DocumentSession.open(bo, admin.docId)
  await relay.connect(boS)
  await boS.joined()
  await admin.share(PublicCard.parse(cy.card.toString()), Role.Viewer)
  const cyS = await DocumentSession.open(cy, admin.docId)
  await relay.connect(cyS)
  await cyS.joined()

  sealed.push(await admin.seal('update', text('epoch 0 from anna'), 1))
  const fromBo = await boS.seal('update', text('epoch 0 from bo'), 1)
  const boToAnna = str((await admin.open('update', fromBo)).plaintext)
  const annaToCy = str((await cyS.open('update', sealed[0] as Uint8Array)).plaintext)
  const viewerWrite = await codeOf(admin.open('update', await cyS.seal('update', text('x'), 1)))

  // Bo ignores the chain from here on, so he still holds epoch 0 and believes he is an editor.
  relay.offline.add(boS)
  await admin.unshare(bo.userId)
  const epochAfterUnshare = admin.epoch
  sealed.push(await admin.seal('update', text('epoch 1'), 2))
  const stale = await boS.seal('update', text('still here'), 2)
  const removedWrite = await codeOf(admin.open('update', stale))
  await relay.connect(boS)
  const removedReads = await codeOf(boS.open('update', sealed[1] as Uint8Array))
  const removedSeal = await codeOf(boS.seal('update', text('y'), 3))
  const stayingReads = str((await cyS.open('update', sealed[1] as Uint8Array)).plaintext)

  const link = await admin.createInviteLink({ role: Role.Editor, singleUse: true })
  await admin.rotate()
  const dagS = await DocumentSession.join(dag, `https://office.example/doc${link}`)
  await relay.connect(dagS)
  await dagS.joined()
  sealed.push(await dagS.seal('update', text('epoch 2 from dag'), 1))
  const dagToAnna = str((await admin.open('update', sealed[2] as Uint8Array)).plaintext)

  const backup = await anna.export('lösenord med å', { N: 2 ** 10 })
  const again = await Identity.import(backup, 'lösenord med å')
  const wrongPassphrase = await codeOf(Identity.import(backup, 'fel'))

  const org = await DocumentSession.recover(RecoveryKey.import(recovery.export()), admin.docId)
  await relay.connect(org)
  const recovered = []
  for (const s of sealed) recovered.push(str((await org.open('update', s)).plaintext))

  return {
    nativeEd25519: await nativeEd25519(),
    userAgent: globalThis.navigator?.userAgent ?? 'node',
    boToAnna,
    annaToCy,
    viewerWrite,
    epochAfterUnshare,
    removedReads,
    stayingReads,
    removedWrite,
    removedSeal,
    boRole: boS.role,
    linkIsFragment: link.startsWith('#'),
    dagRole: dagS.role,
    dagToAnna,
    importedSameUser: again.userId === anna.userId,
    wrongPassphrase,
    recovered,
    members: admin.members().map((m) => [m.displayName, m.role]),
  }
}

let browserIdentity: Identity | undefined
let browserAdmin: DocumentSession | undefined

/** Browser → Node: a document made here, shared with a Node identity, one sealed envelope. */
async function makeForNode(nodeCard: string) {
  const relay = new LocalRelay()
  const eva = await Identity.create({ displayName: 'Eva' })
  const admin = await DocumentSession.create(eva)
  await relay.connect(admin)
  await admin.share(PublicCard.parse(nodeCard), Role.Editor)
  await admin.rotate()
  const envelope = await admin.seal('update', text('hej från Chromium'), 7)
  const chain = relay.chains.get(admin.docId)?.entries ?? []
  browserAdmin = admin
  return {
    docId: admin.docId,
    author: admin.author,
    chain: chain.map(arr),
    envelope: arr(envelope),
    backup: await eva.export('export från webbläsaren', { N: 2 ** 10 }),
    userId: eva.userId,
  }
}

/** Node's join entry and reply arrive: apply, then open with the page's admin session. */
async function openReply(index: number, entry: number[], envelope: number[]) {
  const admin = browserAdmin as DocumentSession
  await admin.applyMembership(index, bytes(entry))
  const opened = await admin.open('update', bytes(envelope))
  return { plaintext: str(opened.plaintext), counter: opened.counter, author: opened.author }
}

/** Node → browser, step 1: a browser identity whose card Node shares with. */
async function makeIdentity(): Promise<string> {
  browserIdentity = await Identity.create({ displayName: 'Frida' })
  return browserIdentity.card.toString()
}

/** Node → browser, step 2: verify Node's chain and envelope publicly, then open it. */
async function openFromNode(docId: string, chain: number[][], envelope: number[]) {
  const state = new MembershipState(docId)
  for (const e of chain) state.append(bytes(e))
  const verified = await verifyEnvelopeAsync(state, bytes(envelope), { kind: 'update' })
  const me = await DocumentSession.open(browserIdentity as Identity, docId)
  for (const [i, e] of chain.entries()) await me.applyMembership(i, bytes(e))
  const opened = await me.open('update', bytes(envelope))
  const flipped = bytes(envelope)
  flipped[flipped.length - 1] = (flipped[flipped.length - 1] as number) ^ 1
  return {
    publicAuthor: verified.authorId,
    epoch: verified.epoch,
    plaintext: str(opened.plaintext),
    flippedSignature: await codeOf(me.open('update', flipped)),
  }
}

/** A one-member document, for the checks that need no sharing. */
async function solo() {
  const relay = new LocalRelay()
  const admin = await DocumentSession.create(await Identity.create({ displayName: 'Solo' }))
  await relay.connect(admin)
  return admin
}

/** Every single-bit flip of a sealed envelope is refused with a typed error. */
async function tamper() {
  const admin = await solo()
  const good = await admin.seal('update', text('integrity in Chromium'), 9)
  const codes: Record<string, number> = {}
  for (let i = 0; i < good.length; i++) {
    for (const bit of [0, 7]) {
      const bad = good.slice()
      bad[i] = (bad[i] as number) ^ (1 << bit)
      const code = await codeOf(admin.open('update', bad))
      codes[code] = (codes[code] ?? 0) + 1
    }
  }
  return { length: good.length, codes, good: str((await admin.open('update', good)).plaintext) }
}

/** Read a stream to the end; a stream error surfaces as thrown (a `Response` would mask it). */
async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array<ArrayBuffer>> {
  const reader = stream.getReader()
  const chunks: Uint8Array[] = []
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    chunks.push(value)
  }
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0))
  let at = 0
  for (const c of chunks) {
    out.set(c, at)
    at += c.length
  }
  return out
}

/** Streaming file encryption with the browser's own streams; a truncated file is refused. */
async function files(size: number) {
  const admin = await solo()
  const plain = new Uint8Array(size).map((_, i) => (i * 31) % 251)
  const { blobId, key, stream } = admin.encryptFile()
  const sealed = await collect(new Blob([plain]).stream().pipeThrough(stream))
  const back = await collect(new Blob([sealed]).stream().pipeThrough(admin.decryptFile(key)))
  const same = back.length === plain.length && back.every((b, i) => b === plain[i])
  let truncated = 'accepted'
  try {
    const cut = sealed.subarray(0, sealed.length - 100)
    await collect(new Blob([cut]).stream().pipeThrough(admin.decryptFile(key)))
  } catch (err) {
    truncated = err instanceof CryptoError ? err.code : String(err)
  }
  return { blobId, sealedLength: sealed.length, same, truncated }
}

/** Milliseconds per seal and per open of a 1 KiB update, and per Ed25519 verify each way. */
async function measure(n: number) {
  const admin = await solo()
  const body = new Uint8Array(1024).fill(42)
  const sealed: Uint8Array[] = []
  let t = performance.now()
  for (let i = 0; i < n; i++) sealed.push(await admin.seal('update', body, i + 1))
  const sealMs = (performance.now() - t) / n
  t = performance.now()
  let ok = 0
  for (const s of sealed) ok += (await admin.open('update', s)).plaintext.length === 1024 ? 1 : 0
  const openMs = (performance.now() - t) / n
  const secret = new Uint8Array(32).fill(3)
  const pub = ed25519.getPublicKey(secret)
  const msg = text('measure')
  const sig = ed25519.sign(msg, secret)
  t = performance.now()
  let nobleOk = 0
  for (let i = 0; i < n; i++) nobleOk += ed25519.verify(sig, msg, pub) ? 1 : 0
  const nobleVerifyMs = (performance.now() - t) / n
  const key = await crypto.subtle.importKey('raw', pub, { name: 'Ed25519' }, false, ['verify'])
  t = performance.now()
  let nativeOk = 0
  for (let i = 0; i < n; i++)
    nativeOk += (await crypto.subtle.verify('Ed25519', key, sig, msg)) ? 1 : 0
  const nativeVerifyMs = (performance.now() - t) / n
  return { sealMs, openMs, ok, nobleVerifyMs, nobleOk, nativeVerifyMs, nativeOk }
}

/** The page's functions; Node runs the very same ones to compare the two runtimes. */
export const pageApi = {
  scenario,
  makeForNode,
  openReply,
  makeIdentity,
  openFromNode,
  nativeEd25519,
  tamper,
  files,
  measure,
}

/** What the test calls through `page.evaluate`. */
export type PageApi = typeof pageApi

Object.assign(globalThis, { valv: pageApi })
