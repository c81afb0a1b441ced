import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import {
  DocumentSession,
  documentAuditSigner,
  Identity,
  memoryKeyStore,
  PublicCard,
  Role,
} from '@valv/crypto'
import { toHex } from '@valv/protocol'
import { MemoryStorageAdapter } from '@valv/storage-memory'
import { LocalRelay } from '@valv/test-utils'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import {
  AuditTrail,
  ComplianceError,
  decodeRecord,
  ed25519AuditSigner,
  formatTrailFile,
  parseTrailFile,
  verifyTrail,
} from '../src/index.js'

const alice = ed25519AuditSigner(new Uint8Array(32).fill(7))
const bob = ed25519AuditSigner(new Uint8Array(32).fill(9))
const mallory = ed25519AuditSigner(new Uint8Array(32).fill(13))
const allowed = new Set([toHex(alice.publicKey), toHex(bob.publicKey)])

const TYPES = ['member.added', 'key.rotated', 'link.created', 'export', 'erasure'] as const

/** A trail of `n` entries by alternating writers plus its head, as records. */
async function makeTrail(n: number, trailId = 'doc1'): Promise<Uint8Array[]> {
  let t = 1_700_000_000_000
  const trail = await AuditTrail.open(trailId, { now: () => t++ })
  for (let i = 0; i < n; i++) {
    await trail.append(i % 2 === 0 ? alice : bob, {
      type: TYPES[i % TYPES.length] as string,
      subject: `member-${i}`,
      details: { epoch: String(i) },
    })
  }
  return [...trail.records, await trail.head(alice)]
}

// Trails of 1..12 entries, built once: signing is the slow part.
const trails = new Map<number, Uint8Array[]>()
const trailOf = async (n: number): Promise<Uint8Array[]> => {
  if (!trails.has(n)) trails.set(n, await makeTrail(n))
  return (trails.get(n) as Uint8Array[]).map((r) => r.slice())
}

describe('audit trail', () => {
  it('an untouched trail verifies, with every entry decoded and attributed', async () => {
    const records = await trailOf(5)
    const verdict = await verifyTrail(records, { signers: allowed, trailId: 'doc1' })
    expect(verdict.ok).toBe(true)
    if (!verdict.ok) return
    expect(verdict.entries.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4])
    expect(verdict.entries[1]?.signer).toEqual(bob.publicKey)
    expect(verdict.entries[2]).toMatchObject({ type: 'link.created', subject: 'member-2' })
    expect(verdict.head.length).toBe(5)
  })

  it('property: swapping any two entries is reported at the earlier position', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 2, max: 12 })
          .chain((n) =>
            fc.tuple(
              fc.constant(n),
              fc.integer({ min: 0, max: n - 1 }),
              fc.integer({ min: 0, max: n - 1 }),
            ),
          ),
        async ([n, a, b]) => {
          fc.pre(a !== b)
          const records = await trailOf(n)
          const [i, j] = a < b ? [a, b] : [b, a]
          ;[records[i], records[j]] = [records[j] as Uint8Array, records[i] as Uint8Array]
          const verdict = await verifyTrail(records, { signers: allowed })
          expect(verdict.ok).toBe(false)
          if (verdict.ok) return
          expect(verdict.index).toBe(i)
          expect(verdict.code).toBe('out-of-order')
          expect(verdict.entries.length).toBe(i)
        },
      ),
      { numRuns: 60 },
    )
  })

  it('property: dropping any entry is reported at its position (the last one via the head)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 1, max: 12 })
          .chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n - 1 }))),
        async ([n, i]) => {
          const records = await trailOf(n)
          records.splice(i, 1)
          const verdict = await verifyTrail(records, { signers: allowed })
          expect(verdict.ok).toBe(false)
          if (verdict.ok) return
          expect(verdict.index).toBe(i)
          expect(verdict.code).toBe(i === n - 1 ? 'truncated' : 'out-of-order')
        },
      ),
      { numRuns: 60 },
    )
  })

  it('property: flipping any bit of any record is reported at that record', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 1, max: 12 })
          .chain((n) =>
            fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n }), fc.nat(), fc.nat(7)),
          ),
        async ([n, i, offset, bit]) => {
          const records = await trailOf(n)
          const record = records[i] as Uint8Array
          const at = offset % record.length
          record[at] = (record[at] as number) ^ (1 << bit)
          const verdict = await verifyTrail(records, { signers: allowed })
          expect(verdict.ok).toBe(false)
          if (verdict.ok) return
          expect(verdict.index).toBe(i)
          expect(['malformed', 'bad-signature', 'unknown-signer']).toContain(verdict.code)
        },
      ),
      { numRuns: 200 },
    )
  })

  it('property: a re-signed forgery by an outsider is reported at the forged record', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 1, max: 8 })
          .chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n - 1 }))),
        async ([n, i]) => {
          // Mallory rebuilds the trail from entry i on with her own key: links and positions
          // are all consistent, only the signer gives it away.
          const honest = await trailOf(n)
          const entries = honest.slice(0, i).map((r) => decodeRecord(r))
          const forged = await AuditTrail.open('doc1')
          for (const e of entries) {
            if (e.kind !== 'entry') throw new Error('unexpected head')
            await forged.append(e.seq % 2 === 0 ? alice : bob, e)
          }
          for (let k = i; k < n; k++) await forged.append(mallory, { type: 'export' })
          const records = [...forged.records, await forged.head(mallory)]
          const verdict = await verifyTrail(records, { signers: allowed })
          expect(verdict.ok).toBe(false)
          if (verdict.ok) return
          expect(verdict.index).toBe(i)
          expect(verdict.code).toBe('unknown-signer')
        },
      ),
      { numRuns: 20 },
    )
  })

  it('a trail without its head, with a stale head, or spliced from another trail is refused', async () => {
    const records = await trailOf(4)
    const noHead = records.slice(0, -1)
    expect(await verifyTrail(noHead)).toMatchObject({ ok: false, index: 4, code: 'missing-head' })

    // Drop the last entry and put back a head signed when the trail was shorter: valid on its
    // own, caught only by a head the auditor kept from before.
    const three = await trailOf(3)
    const rolledBack = [...records.slice(0, 3), three[3] as Uint8Array]
    expect((await verifyTrail(rolledBack)).ok).toBe(true)
    const kept = decodeRecord(records[4] as Uint8Array)
    if (kept.kind !== 'head') throw new Error('expected a head')
    expect(await verifyTrail(rolledBack, { trustedHead: kept })).toMatchObject({
      ok: false,
      index: 3,
      code: 'rolled-back',
    })

    const other = await makeTrail(2, 'doc2')
    const spliced = [records[0] as Uint8Array, other[1] as Uint8Array, ...records.slice(2)]
    expect(await verifyTrail(spliced)).toMatchObject({ ok: false, index: 1, code: 'wrong-trail' })
    expect(await verifyTrail(records, { trailId: 'doc2' })).toMatchObject({
      ok: false,
      index: 0,
      code: 'wrong-trail',
    })
  })

  it('events with content-sized fields are refused and append nothing', async () => {
    const trail = await AuditTrail.open('doc1')
    await trail.append(alice, { type: 'export' })
    const bad = [
      { type: 'Not A Type' },
      { type: 'export', subject: 'x'.repeat(257) },
      { type: 'export', details: { text: 'y'.repeat(513) } },
      {
        type: 'export',
        details: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])),
      },
    ]
    for (const event of bad) {
      await expect(trail.append(alice, event)).rejects.toMatchObject({ code: 'invalid-argument' })
    }
    expect(trail.length).toBe(1)
    await trail.append(alice, { type: 'key.rotated' })
    expect((await verifyTrail([...trail.records, await trail.head(alice)])).ok).toBe(true)
  })

  it('a device signs with its per-document key, the one its envelopes carry', async () => {
    const me = await Identity.create()
    const relay = new LocalRelay()
    const created = await DocumentSession.create(me)
    await relay.connect(created)
    const other = await DocumentSession.create(me)
    const signer = documentAuditSigner(created)
    // The creator's key is derived from the genesis nonce, not the id: the session knows it.
    expect(toHex(signer.publicKey)).toBe(created.author)
    expect(toHex(documentAuditSigner(other).publicKey)).toBe(other.author)
    expect(created.author).not.toBe(other.author)
    const trail = await AuditTrail.open(created.docId)
    await trail.append(signer, { type: 'recovery.used' })
    const records = [...trail.records, await trail.head(signer)]
    expect((await verifyTrail(records, { signers: new Set([created.author]) })).ok).toBe(true)
    expect((await verifyTrail(records, { signers: new Set([other.author]) })).ok).toBe(false)

    // A joiner's key is derived from the document id; reopening keeps the same key.
    const bo = await Identity.create()
    await created.share(PublicCard.parse(bo.card.toString()), Role.Editor)
    const keyStore = memoryKeyStore()
    const joined = await DocumentSession.open(bo, created.docId, { keyStore })
    await relay.connect(joined)
    await joined.joined()
    expect(toHex(documentAuditSigner(joined).publicKey)).toBe(joined.author)
    const reopened = await DocumentSession.open(bo, created.docId, { keyStore })
    expect(toHex(documentAuditSigner(reopened).publicKey)).toBe(joined.author)
  })

  it('persists through a storage adapter and refuses a tampered store on open', async () => {
    const adapter = new MemoryStorageAdapter()
    const trail = await AuditTrail.open('doc1', { store: adapter })
    for (const type of TYPES) await trail.append(alice, { type })
    const again = await AuditTrail.open('doc1', { store: adapter })
    expect(again.length).toBe(TYPES.length)
    expect(again.headHash).toEqual(trail.headHash)
    await again.append(bob, { type: 'hold.placed' })
    expect((await verifyTrail([...again.records, await again.head(bob)])).ok).toBe(true)

    // The store (the relay) swaps two stored entries.
    const k1 = ['audit', 'doc1', '0000000000000001']
    const k2 = ['audit', 'doc1', '0000000000000002']
    const [r1, r2] = [await adapter.get(k1), await adapter.get(k2)]
    await adapter.put(k1, r2 as Uint8Array)
    await adapter.put(k2, r1 as Uint8Array)
    const err = await AuditTrail.open('doc1', { store: adapter }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ComplianceError)
    expect(err).toMatchObject({ code: 'broken-trail', cause: { index: 1 } })

    // Two writers on one store: the second one's append is refused, nothing is overwritten.
    const other = await AuditTrail.open('doc2', { store: adapter })
    const first = await AuditTrail.open('doc2', { store: adapter })
    await first.append(alice, { type: 'export' })
    await expect(other.append(bob, { type: 'export' })).rejects.toMatchObject({
      code: 'broken-trail',
    })
    expect(await adapter.get(['audit', 'doc2', '0000000000000000'])).toEqual(first.records[0])
  })

  it('trail files round-trip; a file with a non-record line is refused with its line', async () => {
    const records = await trailOf(3)
    expect(parseTrailFile(formatTrailFile(records))).toEqual(records)
    expect(() => parseTrailFile('hello\n')).toThrow(ComplianceError)
    const text = formatTrailFile(records).replace(/\n[^\n]+\n$/, '\n***\n')
    expect(() => parseTrailFile(text)).toThrow(/line 5/)
  })
})

describe('valv-audit CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'valv-audit-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const cli = async (...args: string[]) => {
    try {
      const { stdout } = await promisify(execFile)(
        'node_modules/.bin/tsx',
        ['packages/compliance/src/cli.ts', ...args],
        { cwd: join(import.meta.dirname, '../../..') },
      )
      return { code: 0, stdout }
    } catch (err) {
      const e = err as { code: number; stdout: string }
      return { code: e.code, stdout: e.stdout }
    }
  }

  it('verify exits 0 on an intact trail and 1 naming the first break', async () => {
    const records = await trailOf(6)
    const good = join(dir, 'good.txt')
    writeFileSync(good, formatTrailFile(records))
    const ok = await cli('verify', good, '--json')
    expect(ok.code).toBe(0)
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, trailId: 'doc1', entries: 6 })

    const keys = join(dir, 'keys.txt')
    writeFileSync(keys, `${toHex(alice.publicKey)}\n`)
    const onlyAlice = await cli('verify', good, '--signers', keys, '--json')
    expect(onlyAlice.code).toBe(1)
    expect(JSON.parse(onlyAlice.stdout)).toMatchObject({ index: 1, code: 'unknown-signer' })

    const dropped = join(dir, 'dropped.txt')
    writeFileSync(dropped, formatTrailFile([...records.slice(0, 2), ...records.slice(3)]))
    const broken = await cli('verify', dropped)
    expect(broken.code).toBe(1)
    expect(broken.stdout).toMatch(/^BROKEN at record 2: out-of-order/)

    expect((await cli('frobnicate')).code).toBe(2)
  }, 120_000)
})
