import * as Y from 'yjs'
import { CoreError } from './errors.js'

/**
 * Decode a remote update completely and check what Yjs would otherwise trip over halfway
 * through applying it, before it touches the document: Yjs integrates structs before it even
 * reads the delete set and cannot roll a transaction back, so a bad update must be refused
 * whole. Returns the Yjs client ids whose structs (insertions) it carries. Throws `malformed`.
 */
export function inspectUpdate(doc: Y.Doc, update: Uint8Array): Set<number> {
  let structs: (Y.Item | Y.GC | Y.Skip)[]
  try {
    structs = Y.decodeUpdate(update).structs
  } catch (cause) {
    throw new CoreError('malformed', 'update is not a valid Yjs update', { cause })
  }
  const clients = new Set<number>()
  const own = new Map<number, (Y.Item | Y.GC)[]>()
  for (const s of structs) {
    if (s instanceof Y.Skip) continue
    clients.add(s.id.client)
    const list = own.get(s.id.client)
    if (list === undefined) own.set(s.id.client, [s])
    else list.push(s)
  }
  for (const s of structs) {
    if (!(s instanceof Y.Item)) continue
    for (const ref of [s.origin, s.rightOrigin, s.parent instanceof Y.ID ? s.parent : null]) {
      // Yjs does not wait for references into the item's own client (they must be earlier):
      // a later one makes `findIndexSS` throw in the middle of the transaction.
      if (ref !== null && ref.client === s.id.client && ref.clock >= s.id.clock) {
        throw new CoreError('malformed', 'update references a later struct of its own client')
      }
    }
    if (s.parent instanceof Y.ID) {
      const target = structAt(doc, own, s.parent)
      if (target instanceof Y.Item && !(target.content instanceof Y.ContentType)) {
        throw new CoreError('malformed', 'update nests content in something that is not a type')
      }
    }
  }
  return clients
}

/** The struct holding `id` in the document or the update, or undefined if neither has it yet. */
function structAt(
  doc: Y.Doc,
  own: Map<number, (Y.Item | Y.GC)[]>,
  id: Y.ID,
): Y.Item | Y.GC | undefined {
  if (id.clock < Y.getState(doc.store, id.client)) {
    return Y.getItem(doc.store, id) as Y.Item | Y.GC
  }
  for (const s of own.get(id.client) ?? []) {
    if (s.id.clock <= id.clock && id.clock < s.id.clock + s.length) return s
  }
  return undefined
}

/** What {@link applyContained} did. */
export type ApplyOutcome =
  | { readonly applied: true; readonly observerError?: unknown }
  | { readonly applied: false; readonly error: unknown }

/**
 * Apply an update and tell an integration failure from an exception thrown by the
 * application's own observers. Yjs integrates the whole update, then calls observers (and
 * `update` listeners) and rethrows the first error they threw; the update is applied inside an
 * outer transaction so that "integration returned" is known before any observer runs. An error
 * after that means the update IS applied and must be counted as such, or the binding would
 * believe it missing and resync it forever.
 */
export function applyContained(
  doc: Y.Doc,
  update: Uint8Array,
  origin: unknown,
  v2 = false,
): ApplyOutcome {
  let integrated = false
  try {
    Y.transact(
      doc,
      () => {
        if (v2) Y.applyUpdateV2(doc, update, origin)
        else Y.applyUpdate(doc, update, origin)
        integrated = true
      },
      origin,
      false,
    )
    return { applied: true }
  } catch (error) {
    return integrated ? { applied: true, observerError: error } : { applied: false, error }
  }
}

/**
 * The transaction origins of remote updates and the one way they are applied. An update applied
 * with a registered origin is never batched and sent again, so every transport registers the
 * origin it applies with. An exception thrown by an application observer is reported
 * (`observer-threw`) asynchronously, so a listener that throws cannot undo the apply.
 */
export class RemoteApplier {
  private readonly origins = new WeakSet<object>()

  constructor(
    private readonly doc: Y.Doc,
    private readonly observerThrew: (e: CoreError) => void,
  ) {}

  /** Mark `origin` as remote: updates applied with it are not local edits. */
  register(origin: object): void {
    this.origins.add(origin)
  }

  /** Whether an update applied with `origin` came from elsewhere (not to be sent). */
  isRemote(origin: unknown): boolean {
    return typeof origin === 'object' && origin !== null && this.origins.has(origin)
  }

  /** Register `origin` and apply `update` with it (see {@link applyContained}). */
  apply(update: Uint8Array, origin: object, v2 = false): ApplyOutcome {
    this.origins.add(origin)
    const outcome = applyContained(this.doc, update, origin, v2)
    if (outcome.applied && outcome.observerError !== undefined) {
      const e = new CoreError('observer-threw', 'an observer threw while an update was applied', {
        cause: outcome.observerError,
      })
      // Surfaced, not swallowed; the update counts as applied whatever the listener does.
      queueMicrotask(() => this.observerThrew(e))
    }
    return outcome
  }
}
