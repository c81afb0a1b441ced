/**
 * Cost of end-to-end encryption per envelope, measured against plain Yjs in the same run:
 * - a real editing trace, one envelope per keystroke: seal (pad, encrypt, sign) and
 *   verify+open, against `Y.applyUpdate` of the same updates (the baseline);
 * - seal+sign and verify+open per message size (32 B … 1 MiB);
 * - bytes added per envelope before padding (goal: under 120).
 */
import { DocumentSession, Identity } from '@valv/crypto'
import * as Y from 'yjs'
import { type Benchmark, type BenchRow, loadTrace, microsPerOp } from './harness.js'

const bench: Benchmark = async ({ quick }) => {
  const rows: BenchRow[] = []
  const me = await Identity.create({ displayName: 'bench' })
  const session = await DocumentSession.create(me, { padding: 'none' })
  const padded = await DocumentSession.create(me)

  // One update per keystroke from a real trace.
  const trace = loadTrace('automerge-paper', quick ? 300 : 3000)
  const doc = new Y.Doc()
  const updates: Uint8Array[] = []
  doc.on('update', (u: Uint8Array) => updates.push(u))
  const text = doc.getText('t')
  for (const e of trace.edits) {
    if (e.del > 0) text.delete(e.pos, e.del)
    if (e.text) text.insert(e.pos, e.text)
  }
  let counter = 0
  const sealed: Uint8Array[] = []
  const t0 = performance.now()
  for (const u of updates) sealed.push(await session.seal('update', u, ++counter))
  const sealUs = ((performance.now() - t0) * 1000) / updates.length
  const t1 = performance.now()
  for (const s of sealed) await session.open('update', s)
  const openUs = ((performance.now() - t1) * 1000) / updates.length
  const t2 = performance.now()
  const replica = new Y.Doc()
  for (const u of updates) Y.applyUpdate(replica, u)
  const applyUs = ((performance.now() - t2) * 1000) / updates.length
  rows.push({
    name: 'keystroke seal+sign (vs Y.applyUpdate)',
    value: sealUs,
    unit: 'µs/op',
    baseline: applyUs,
  })
  rows.push({
    name: 'keystroke verify+open (vs Y.applyUpdate)',
    value: openUs,
    unit: 'µs/op',
    baseline: applyUs,
  })

  const overhead =
    sealed.reduce((n, s, i) => n + s.length - (updates[i] as Uint8Array).length, 0) / sealed.length
  const plainBytes = updates.reduce((n, u) => n + u.length, 0) / updates.length
  rows.push({
    name: 'bytes added per envelope, no padding (vs plain update size)',
    value: overhead,
    unit: 'B',
    baseline: plainBytes,
  })
  let paddedTotal = 0
  for (const u of updates.slice(0, 500))
    paddedTotal += (await padded.seal('update', u, ++counter)).length
  const n = Math.min(500, updates.length)
  rows.push({
    name: 'envelope size with PADMÉ (vs plain update size)',
    value: paddedTotal / n,
    unit: 'B',
    baseline: updates.slice(0, n).reduce((s, u) => s + u.length, 0) / n,
  })

  for (const size of quick ? [32, 16384] : [32, 1024, 16384, 1 << 20]) {
    const payload = new Uint8Array(size).fill(7)
    const one = await session.seal('update', payload, ++counter)
    const budget = quick ? 20 : 200
    const seal = await microsPerOp(() => session.seal('update', payload, ++counter), budget)
    const open = await microsPerOp(() => session.open('update', one), budget)
    rows.push({
      name: `seal+sign ${size} B (vs verify+open)`,
      value: seal,
      unit: 'µs/op',
      baseline: open,
    })
  }
  return rows
}

export default bench
