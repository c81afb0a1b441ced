/**
 * One reader process of the load generator (`bench/load.ts` starts one to `--procs` of them):
 * holds raw WebSocket readers ({@link openRawReader}) subscribed to the documents it is told,
 * answers with counts over IPC, optionally reconnects some readers every second (churn), and
 * exits when told to or when its parent goes away. Loopback only; bounded by what the parent
 * asks for.
 */
import { encodeFrame, WIRE_VERSION } from '../packages/wire/src/index.js'
import { openRawReader, type RawReader } from './raw-ws.js'

/** Parent → reader process. */
export type ReaderCommand =
  | { type: 'open'; port: number; docIds: string[] }
  | { type: 'stats' }
  | { type: 'churn'; perSecond: number }
  | { type: 'stop' }

/** Reader process → parent. */
export type ReaderReport =
  | { type: 'opened'; held: number; failed: number }
  | { type: 'stats'; held: number; frames: number; reconnects: number }

interface Held {
  reader: RawReader
  docId: string
}

const held: Held[] = []
// Per document the newest head a reader learned: a reconnecting reader asks only for what
// it missed, as a client with a local copy does.
const heads = new Map<string, number>()
let port = 0
let churn: ReturnType<typeof setInterval> | undefined
let reconnects = 0
// Frames of closed readers, so `frames` only grows.
let framesGone = 0

function report(r: ReaderReport): void {
  process.send?.(r)
}

async function openOne(docId: string): Promise<Held> {
  const auth = encodeFrame({ type: 'auth', version: WIRE_VERSION, token: '' })
  const since = heads.get(docId) ?? 0
  const sub = encodeFrame({
    type: 'subscribe',
    docId,
    sinceSeq: since,
    snapshotSeq: 0,
    membershipFrom: 0,
  })
  const reader = await openRawReader(port, [auth, sub])
  const head = await reader.headSeq
  if (head > (heads.get(docId) ?? 0)) heads.set(docId, head)
  return { reader, docId }
}

async function open(docIds: string[]): Promise<void> {
  let failed = 0
  // In batches, so the relay sees a ramp rather than one burst of handshakes.
  for (let i = 0; i < docIds.length; i += 100) {
    const batch = await Promise.allSettled(docIds.slice(i, i + 100).map(openOne))
    for (const b of batch) {
      if (b.status === 'fulfilled') held.push(b.value)
      else failed++
    }
  }
  report({ type: 'opened', held: live(), failed })
}

function live(): number {
  let n = 0
  for (const h of held) if (!h.reader.closed) n++
  return n
}

function reconnect(perSecond: number): void {
  for (let i = 0; i < perSecond && held.length > 0; i++) {
    const h = held.shift() as Held
    framesGone += h.reader.frames
    h.reader.socket.destroy()
    openOne(h.docId).then(
      (fresh) => {
        reconnects++
        held.push(fresh)
      },
      () => undefined,
    )
  }
}

process.on('message', (m: ReaderCommand) => {
  switch (m.type) {
    case 'open':
      port = m.port
      void open(m.docIds)
      return
    case 'stats': {
      let frames = framesGone
      for (const h of held) frames += h.reader.frames
      report({ type: 'stats', held: live(), frames, reconnects })
      return
    }
    case 'churn':
      clearInterval(churn)
      if (m.perSecond > 0) churn = setInterval(() => reconnect(m.perSecond), 1000)
      return
    case 'stop':
      clearInterval(churn)
      for (const h of held) h.reader.socket.destroy()
      process.exit(0)
  }
})
process.on('disconnect', () => process.exit(0))
