import { generateKeyBetween, generateNKeysBetween } from 'fractional-indexing'
import * as Y from 'yjs'
import { newSheetId as newId } from '../sheet/ids.js'
import { SlideError } from './errors.js'
import { orderedIds } from './order.js'
import type { PresentationEvent, SlideElement, SlideElementSpec, SlideFrame } from './types.js'

/**
 * A presentation: slides with stable ids, ordered by fractional-index keys.
 *
 * Order rule: each slide's `key` is a fractional-indexing string in its own `Y.Map`; the order is
 * ascending `(key, slideId)`. A move rewrites only the moved slide's key, so concurrent moves
 * of the same slide resolve last-writer-wins (it ends up in exactly one place) and concurrent
 * moves of different slides never duplicate or lose one. Equal keys (two slides moved into the
 * same gap at once) are ordered by id on every replica.
 *
 * @example
 * ```ts
 * const deck = new Presentation(doc)
 * const a = deck.addSlide()
 * const b = deck.addSlide()
 * deck.moveSlide(b, 0) // b, a
 * ```
 */
export class Presentation {
  /** The document holding the presentation. */
  readonly doc: Y.Doc
  /** Origin stamped on this replica's transactions (undo tracks only it). */
  readonly origin: unknown
  private readonly slides: Y.Map<Y.Map<unknown>>
  private readonly listeners = new Set<(e: PresentationEvent) => void>()
  private lastOrder: string[]

  constructor(doc: Y.Doc, options: { prefix?: string; origin?: unknown } = {}) {
    this.doc = doc
    this.origin = options.origin ?? this
    this.slides = doc.getMap(`${options.prefix ?? 'valv.slides'}.slides`)
    this.lastOrder = this.slideIds()
    this.slides.observeDeep(this.handler)
  }

  private readonly handler = (events: Y.YEvent<Y.AbstractType<unknown>>[]) => this.onChange(events)

  /** Stop observing the document (listeners are dropped; the data is untouched). */
  destroy(): void {
    this.slides.unobserveDeep(this.handler)
    this.listeners.clear()
  }

  /** Slide ids in order. */
  slideIds(): string[] {
    return orderedIds(
      [...this.slides.entries()].map(([id, m]) => [id, m.get('key') as string] as const),
    )
  }

  private slide(id: string): Y.Map<unknown> {
    const s = this.slides.get(id)
    if (!s) throw new SlideError('unknown-slide', `no slide ${id}`)
    return s
  }

  /** Keys for a slot before zero-based `index` among `order` (without `skip`). */
  private keyFor(index: number, skip?: string): string {
    const order = this.slideIds().filter((id) => id !== skip)
    if (!Number.isInteger(index) || index < 0 || index > order.length) {
      throw new SlideError('out-of-range', `index ${index} outside 0..${order.length}`)
    }
    const key = (i: number): string | null =>
      order[i] === undefined ? null : (this.slide(order[i] as string).get('key') as string)
    let lo = key(index - 1)
    let hi = key(index)
    if (lo !== null && hi !== null && lo >= hi) {
      // Tied neighbours: spread the tied run over fresh distinct keys first.
      let a = index - 1
      while (a > 0 && key(a - 1) === lo) a--
      let b = index
      while (b + 1 < order.length && key(b + 1) === hi) b++
      const fresh = generateNKeysBetween(key(a - 1), key(b + 1), b - a + 1)
      for (let i = a; i <= b; i++) this.slide(order[i] as string).set('key', fresh[i - a])
      lo = key(index - 1)
      hi = key(index)
    }
    return generateKeyBetween(lo, hi)
  }

  /** Add an empty slide before zero-based `index` (default: at the end); returns its id. */
  addSlide(index?: number): string {
    const id = newId()
    this.doc.transact(() => {
      const m = new Y.Map<unknown>()
      m.set('key', this.keyFor(index ?? this.slides.size))
      m.set('notes', new Y.Text())
      m.set('elements', new Y.Map())
      this.slides.set(id, m)
    }, this.origin)
    return id
  }

  /** Remove a slide with its elements and notes. */
  removeSlide(slideId: string): void {
    this.slide(slideId)
    this.doc.transact(() => this.slides.delete(slideId), this.origin)
  }

  /** Move a slide so that it ends up at zero-based `index`. */
  moveSlide(slideId: string, index: number): void {
    this.slide(slideId)
    this.doc.transact(() => {
      this.slide(slideId).set('key', this.keyFor(index, slideId))
    }, this.origin)
  }

  /** Speaker notes of a slide, as a collaborative `Y.Text`. */
  notes(slideId: string): Y.Text {
    return this.slide(slideId).get('notes') as Y.Text
  }

  private elements(slideId: string): Y.Map<Y.Map<unknown>> {
    return this.slide(slideId).get('elements') as Y.Map<Y.Map<unknown>>
  }

  /** Add an element on top of the others; returns its id. */
  addElement(slideId: string, spec: SlideElementSpec, frame: SlideFrame): string {
    checkFrame(frame)
    const els = this.elements(slideId)
    const id = newId()
    const top = this.elementIds(slideId).at(-1)
    const topZ = top === undefined ? null : (els.get(top)?.get('z') as string)
    this.doc.transact(() => {
      const m = new Y.Map<unknown>()
      m.set('kind', spec.kind)
      m.set('z', generateKeyBetween(topZ, null))
      for (const [k, v] of Object.entries(frame)) m.set(k, v)
      if (spec.kind === 'text') m.set('content', new Y.XmlFragment())
      if (spec.kind === 'shape') {
        m.set('shape', spec.shape)
        if (spec.fill !== undefined) m.set('fill', spec.fill)
        if (spec.stroke !== undefined) m.set('stroke', spec.stroke)
      }
      if (spec.kind === 'image') m.set('blob', { ...spec.blob })
      els.set(id, m)
    }, this.origin)
    return id
  }

  /** Element ids of a slide in drawing order (bottom first): ascending `(z, id)`. */
  elementIds(slideId: string): string[] {
    return orderedIds(
      [...this.elements(slideId).entries()].map(([id, m]) => [id, m.get('z') as string] as const),
    )
  }

  private element(slideId: string, elementId: string): Y.Map<unknown> {
    const e = this.elements(slideId).get(elementId)
    if (!e) throw new SlideError('unknown-element', `no element ${elementId}`)
    return e
  }

  /** Read an element. */
  getElement(slideId: string, elementId: string): SlideElement {
    const m = this.element(slideId, elementId)
    const frame = {
      x: m.get('x') as number,
      y: m.get('y') as number,
      width: m.get('width') as number,
      height: m.get('height') as number,
    }
    const out: Record<string, unknown> = {
      id: elementId,
      kind: m.get('kind'),
      frame,
      z: m.get('z'),
    }
    for (const k of ['shape', 'fill', 'stroke', 'blob']) if (m.has(k)) out[k] = m.get(k)
    return out as unknown as SlideElement
  }

  /**
   * The rich text of a text box, a `Y.XmlFragment` to bind with y-prosemirror (or Tiptap).
   */
  text(slideId: string, elementId: string): Y.XmlFragment {
    const c = this.element(slideId, elementId).get('content')
    if (!(c instanceof Y.XmlFragment)) throw new SlideError('bad-argument', 'not a text box')
    return c
  }

  /** Move or resize an element. Each coordinate is its own entry, so a concurrent move and resize both apply. */
  setFrame(slideId: string, elementId: string, frame: Partial<SlideFrame>): void {
    checkFrame({ x: 0, y: 0, width: 1, height: 1, ...frame })
    const m = this.element(slideId, elementId)
    this.doc.transact(() => {
      for (const [k, v] of Object.entries(frame)) m.set(k, v)
    }, this.origin)
  }

  /** Put an element at drawing position `index` (0 = bottom). */
  setZIndex(slideId: string, elementId: string, index: number): void {
    const m = this.element(slideId, elementId)
    const order = this.elementIds(slideId).filter((id) => id !== elementId)
    if (!Number.isInteger(index) || index < 0 || index > order.length) {
      throw new SlideError('out-of-range', `z index ${index} outside 0..${order.length}`)
    }
    const z = (i: number): string | null => {
      const id = order[i]
      return id === undefined ? null : (this.element(slideId, id).get('z') as string)
    }
    let lo = z(index - 1)
    const hi = z(index)
    // On a tie, go just above the lower neighbour's run; the id tie-break keeps it total.
    if (lo !== null && hi !== null && lo >= hi) lo = null
    const key =
      lo === null && hi !== null ? generateKeyBetween(null, hi) : generateKeyBetween(lo, hi)
    this.doc.transact(() => m.set('z', key), this.origin)
  }

  /** Remove an element. */
  removeElement(slideId: string, elementId: string): void {
    this.element(slideId, elementId)
    this.doc.transact(() => this.elements(slideId).delete(elementId), this.origin)
  }

  /** Undo manager over the presentation tracking only this replica's edits. */
  createUndoManager(): Y.UndoManager {
    return new Y.UndoManager(this.slides, { trackedOrigins: new Set([this.origin]) })
  }

  /** Listen to slide-level changes; returns a function that stops listening. */
  observe(listener: (e: PresentationEvent) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private onChange(events: Y.YEvent<Y.AbstractType<unknown>>[]): void {
    const before = this.lastOrder
    const after = this.slideIds()
    this.lastOrder = after
    if (this.listeners.size === 0) return
    const out: PresentationEvent[] = []
    const was = new Map(before.map((id, i) => [id, i]))
    const now = new Map(after.map((id, i) => [id, i]))
    for (const [id, from] of was)
      if (!now.has(id)) out.push({ type: 'slide-removed', slideId: id, from })
    // A slide "moved" when its position relative to the surviving slides changed.
    const common = before.filter((id) => now.has(id))
    const commonAfter = after.filter((id) => was.has(id))
    for (const [id, index] of now) {
      if (!was.has(id)) out.push({ type: 'slide-inserted', slideId: id, index })
      else if (
        common.indexOf(id) !== commonAfter.indexOf(id) &&
        movedKey(events, this.slides, id)
      ) {
        out.push({ type: 'slide-moved', slideId: id, from: was.get(id) as number, to: index })
      }
    }
    const changed = new Set<string>()
    for (const ev of events) {
      const first = ev.path[0]
      // A key-only change of the slide map itself is a move, already reported above.
      const onlyKey =
        ev.path.length === 1 &&
        [...(ev as Y.YMapEvent<unknown>).keysChanged].every((k) => k === 'key')
      if (typeof first === 'string' && now.has(first) && !onlyKey) changed.add(first)
    }
    for (const id of changed)
      out.push({ type: 'slide-changed', slideId: id, index: now.get(id) as number })
    for (const e of out) for (const l of this.listeners) l(e)
  }
}

function movedKey(
  events: Y.YEvent<Y.AbstractType<unknown>>[],
  slides: Y.Map<Y.Map<unknown>>,
  id: string,
): boolean {
  const m = slides.get(id)
  return events.some((e) => e.target === m && (e as Y.YMapEvent<unknown>).keysChanged.has('key'))
}

function checkFrame(f: SlideFrame): void {
  for (const v of [f.x, f.y, f.width, f.height]) {
    if (!Number.isFinite(v)) throw new SlideError('bad-argument', 'frame values must be finite')
  }
  if (f.width < 0 || f.height < 0) throw new SlideError('bad-argument', 'negative size')
}
