/**
 * Opening a document whose membership chain is long: 500 members, shared one by one by the
 * admin (about 500 entries), with the real `@valv/crypto` sessions and the relay's membership
 * rules (`MembershipState`, in memory: `LocalRelay` of the crypto tests).
 *
 * - first join: a new member's device with an empty key store receives the whole chain,
 *   verifies it and completes its join (until `joined()` resolves).
 * - warm reopen: the same device opens the document again from its key store (median of 5,
 *   after one warm-up open).
 * - first join over the relay: the same, through the real relay and a `WebsocketProvider`
 *   (the relay's catch-up arrives as membership frames; `bench/real-room.ts`).
 *
 * Nothing in plain Yjs compares (it has no membership), so the rows carry no baseline.
 */

import { LocalRelay } from '@valv/test-utils'
import {
  DocumentSession,
  Identity,
  memoryKeyStore,
  PublicCard,
  Role,
} from '../packages/crypto/src/index.js'
import type { Benchmark } from './harness.js'
import { medianMs } from './harness.js'
import { realRoom } from './real-room.js'

const bench: Benchmark = async ({ quick }) => {
  const members = quick ? 100 : 500
  const relay = new LocalRelay()
  const anna = await Identity.create({ displayName: 'Anna' })
  const admin = await DocumentSession.create(anna, { keyStore: memoryKeyStore() })
  await relay.connect(admin)
  for (let i = 1; i < members - 1; i++) {
    const who = await Identity.create()
    await admin.share(PublicCard.parse(who.card.toString()), Role.Editor)
  }
  const newcomer = await Identity.create({ displayName: 'Newcomer' })
  await admin.share(PublicCard.parse(newcomer.card.toString()), Role.Editor)

  const store = memoryKeyStore()
  const t = performance.now()
  const joiner = await DocumentSession.open(newcomer, admin.docId, { keyStore: store })
  await relay.connect(joiner)
  await joiner.joined()
  joiner.membershipSynced(joiner.membershipLength())
  const firstJoin = performance.now() - t
  const entries = joiner.membershipLength()

  const warm = await medianMs(async () => {
    const s = await DocumentSession.open(newcomer, admin.docId, { keyStore: store })
    if (s.membershipLength() !== entries) throw new Error('chain not restored')
  })
  const room = await realRoom(members - 1)
  let overRelay: number
  try {
    const t = performance.now()
    const p = await room.connect(members - 2)
    overRelay = performance.now() - t
    if (p.binding.crypto.membershipLength?.() !== entries) throw new Error('relay chain differs')
  } finally {
    await room.close()
  }
  return [
    {
      name: `first join into a ${members}-member document over the relay (WebSocket)`,
      value: overRelay,
      unit: 'ms',
      baseline: null,
    },
    {
      name: `first join into a ${members}-member document (${entries} entries)`,
      value: firstJoin,
      unit: 'ms',
      baseline: null,
    },
    {
      name: `warm reopen of a ${members}-member document (${entries} entries)`,
      value: warm,
      unit: 'ms',
      baseline: null,
    },
  ]
}

export default bench
