import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { Chat } from './chat.js'
import type { ChatMessage } from './types.js'

type Op =
  | {
      t: 'send' | 'reply' | 'edit' | 'redact' | 'react' | 'read'
      r: number
      pick: number
      e: number
    }
  | { t: 'deliver'; r: number; pick: number }

const hasBytes = (doc: Y.Doc, text: string): boolean => {
  const hay = Y.encodeStateAsUpdate(doc)
  const needle = new TextEncoder().encode(text)
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer
    return true
  }
  return false
}

const view = (c: Chat, ch: string) => {
  const main = c.all(ch)
  return {
    main,
    threads: main.map((m: ChatMessage) => c.all(ch, m.id)),
    reads: ['m0', 'm1', 'm2', 'm3'].map((m) => [c.readMarker(ch, m), c.unreadCount(ch, m)]),
  }
}

describe('chat convergence', () => {
  it('N replicas with random concurrent ops, exchanged in random order, converge', () => {
    const kinds = ['send', 'send', 'reply', 'edit', 'redact', 'react', 'read'] as const
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 4 }),
        fc.array(
          fc.oneof(
            fc.record({ t: fc.constantFrom(...kinds), r: fc.nat(3), pick: fc.nat(), e: fc.nat(2) }),
            fc.record({ t: fc.constant('deliver' as const), r: fc.nat(3), pick: fc.nat() }),
          ),
          { minLength: 10, maxLength: 60, size: 'max' },
        ),
        (n, ops: Op[]) => {
          const docs = Array.from({ length: n }, () => new Y.Doc())
          const chats = docs.map((d, i) => new Chat(d, { member: `m${i}`, now: () => 0 }))
          const ch = (chats[0] as Chat).createChannel('c')
          const first = Y.encodeStateAsUpdate(docs[0] as Y.Doc)
          for (const d of docs.slice(1)) Y.applyUpdate(d, first)
          const pending = docs.map(() => [] as Uint8Array[])
          for (const [i, d] of docs.entries()) {
            d.on('update', (u: Uint8Array, origin: unknown) => {
              if (origin !== 'remote') for (let j = 0; j < n; j++) if (j !== i) pending[j]?.push(u)
            })
          }
          const texts = new Map<string, string[]>()
          let counter = 0
          const fresh = () => `txt${counter++}zq`
          for (const o of ops) {
            const ri = o.r % n
            const c = chats[ri] as Chat
            if (o.t === 'deliver') {
              const q = pending[ri] as Uint8Array[]
              const [u] = q.splice(o.pick % Math.max(1, q.length), 1)
              if (u) Y.applyUpdate(docs[ri] as Y.Doc, u, 'remote')
              continue
            }
            const main = c.page(ch, { limit: 1000 }).messages
            const target = main[o.pick % Math.max(1, main.length)]
            try {
              if (o.t === 'send' || (o.t === 'reply' && target)) {
                const text = fresh()
                const id =
                  o.t === 'send' ? c.send(ch, text) : c.reply(ch, target?.id as string, text)
                texts.set(id, [text])
              } else if (target && o.t === 'edit') {
                const text = fresh()
                c.edit(ch, target.id, text)
                texts.get(target.id)?.push(text)
              } else if (target && o.t === 'redact') c.redact(ch, target.id)
              else if (target && o.t === 'react')
                c.toggleReaction(ch, target.id, ['👍', '🎉', 'ok'][o.e] as string)
              else if (target && o.t === 'read') c.markRead(ch, target.id)
            } catch (e) {
              expect((e as { code?: string }).code).toBe('redacted')
            }
          }
          for (let i = 0; i < n; i++) {
            const q = (pending[i] as Uint8Array[]).reverse()
            for (const u of q) Y.applyUpdate(docs[i] as Y.Doc, u, 'remote')
          }
          const v0 = view(chats[0] as Chat, ch)
          for (const c of chats) expect(view(c, ch)).toEqual(v0)
          const all = [...v0.main, ...v0.threads.flat()]
          expect(all.length).toBe(texts.size)
          for (const m of all) {
            if (!m.redacted) continue
            // the redacted text and every earlier or concurrent edit are gone from every replica
            for (const t of texts.get(m.id) ?? [])
              for (const d of docs) expect(hasBytes(d, t)).toBe(false)
          }
        },
      ),
      { numRuns: 100 },
    )
  })
})
