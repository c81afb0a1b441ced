/**
 * The in-memory backing tree shared by {@link MemoryStorageAdapter} instances: one node per
 * key segment, each with an optional value, an optional blob and its children. Sorted child
 * names are cached so `list` with a range is a binary search, not a scan of everything.
 */
export interface MemoryNode {
  value?: Uint8Array
  blob?: readonly Uint8Array[]
  readonly children: Map<string, MemoryNode>
  sorted?: string[]
}

/**
 * The data behind one or more {@link MemoryStorageAdapter}s. Pass the same backend to two
 * adapters to simulate two relay processes on one store.
 */
export class MemoryBackend {
  /** @internal */
  readonly root: MemoryNode = { children: new Map() }
  /** @internal Lock names held by any adapter on this backend. */
  readonly locks = new Set<string>()

  /** @internal The node at `key`, optionally creating the path. */
  node(key: readonly string[], create: boolean): MemoryNode | undefined {
    let node = this.root
    for (const segment of key) {
      let child = node.children.get(segment)
      if (!child) {
        if (!create) return undefined
        child = { children: new Map() }
        node.children.set(segment, child)
        delete node.sorted
      }
      node = child
    }
    return node
  }

  /** @internal Remove nodes along `key` that hold nothing any more, deepest first. */
  prune(key: readonly string[]): void {
    const path: MemoryNode[] = [this.root]
    for (const segment of key) {
      const next = path.at(-1)?.children.get(segment)
      if (!next) return
      path.push(next)
    }
    for (let i = key.length; i > 0; i--) {
      const node = path[i]!
      if (node.value || node.blob || node.children.size > 0) return
      const parent = path[i - 1]!
      parent.children.delete(key[i - 1]!)
      delete parent.sorted
    }
  }

  /** @internal Child names of `node` in byte order (cached until the children change). */
  sortedChildren(node: MemoryNode): string[] {
    if (!node.sorted) node.sorted = [...node.children.keys()].sort(byteOrder)
    return node.sorted
  }
}

/** Byte order of ASCII strings (the segment alphabet is ASCII). */
export const byteOrder = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** First index in sorted `names` whose name is `>= bound`. */
export function lowerBound(names: readonly string[], bound: string): number {
  let lo = 0
  let hi = names.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (names[mid]! < bound) lo = mid + 1
    else hi = mid
  }
  return lo
}
