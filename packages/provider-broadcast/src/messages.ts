/**
 * Messages on the tab channel. Every byte array is sealed with the document key (the state
 * vector too), so other same-origin code without the key learns nothing but sizes and timing.
 */
export type TabMessage =
  /** A sealed local batch, the same bytes the relay gets. */
  | { readonly t: 'update'; readonly sealed: Uint8Array }
  /** A new tab's sealed state vector: "send me what I lack". */
  | { readonly t: 'sync1'; readonly sealed: Uint8Array; readonly from: string }
  /** A sealed state diff answering `sync1`, addressed to one tab. */
  | { readonly t: 'sync2'; readonly sealed: Uint8Array; readonly to: string }

/** Whether `m` has the shape of a {@link TabMessage} (anything else on the channel is ignored). */
export function isTabMessage(m: unknown): m is TabMessage {
  if (typeof m !== 'object' || m === null) return false
  const r = m as Record<string, unknown>
  if (!(r.sealed instanceof Uint8Array)) return false
  if (r.t === 'update') return true
  if (r.t === 'sync1') return typeof r.from === 'string'
  return r.t === 'sync2' && typeof r.to === 'string'
}
