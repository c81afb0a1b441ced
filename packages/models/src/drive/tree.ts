import { DRIVE_ROOT, DRIVE_TRASH, type DriveNodeKind } from './types.js'

/** One recorded move: node `node` was put under `parent` at Lamport time `lamport` by `client`. */
export interface DriveMove {
  readonly node: string
  readonly parent: string
  readonly lamport: number
  readonly client: number
}

/** Map key of a move in its node's map: `m:lamport.client` in base 36. */
export function moveKey(lamport: number, client: number): string {
  return `m:${lamport.toString(36)}.${client.toString(36)}`
}

/** Parse a {@link moveKey}; `null` if the key is not a move. */
export function parseMoveKey(key: string): { lamport: number; client: number } | null {
  const m = /^m:([0-9a-z]{1,11})\.([0-9a-z]{1,11})$/.exec(key)
  if (!m) return null
  return {
    lamport: Number.parseInt(m[1] as string, 36),
    client: Number.parseInt(m[2] as string, 36),
  }
}

/** Result of resolving the move log. */
export interface ResolvedTree {
  /** Effective parent of every node. */
  readonly parent: ReadonlyMap<string, string>
  /** Children of every folder (and of root and trash), unsorted. */
  readonly children: ReadonlyMap<string, string[]>
  /** Highest Lamport time seen. */
  readonly maxLamport: number
}

const compareMoves = (a: DriveMove, b: DriveMove): number =>
  a.lamport - b.lamport || a.client - b.client || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0)

/**
 * Replay every move in `(lamport, client, node)` order from an empty tree, skipping a move whose
 * target is the node itself or one of its descendants at that point (it would close a cycle), and
 * a move to something that is not an existing folder. A node left with no applied move is placed
 * in the trash. The input is a grow-only set, and the replay is a pure function of it, so every
 * replica that holds the same moves computes the same tree; the tree is acyclic by construction.
 */
export function resolveTree(
  nodes: ReadonlyMap<string, DriveNodeKind>,
  moves: readonly DriveMove[],
): ResolvedTree {
  const sorted = [...moves].sort(compareMoves)
  const parent = new Map<string, string>()
  const isAncestor = (anc: string, of: string): boolean => {
    for (let p: string | undefined = of; p !== undefined; p = parent.get(p)) {
      if (p === anc) return true
    }
    return false
  }
  let maxLamport = -1
  for (const m of sorted) {
    if (m.lamport > maxLamport) maxLamport = m.lamport
    if (!nodes.has(m.node)) continue
    const virtual = m.parent === DRIVE_ROOT || m.parent === DRIVE_TRASH
    if (!virtual && (nodes.get(m.parent) !== 'folder' || !parent.has(m.parent))) continue
    if (isAncestor(m.node, m.parent)) continue
    parent.set(m.node, m.parent)
  }
  const children = new Map<string, string[]>([
    [DRIVE_ROOT, []],
    [DRIVE_TRASH, []],
  ])
  for (const id of nodes.keys()) {
    const p = parent.get(id) ?? DRIVE_TRASH
    if (!parent.has(id)) parent.set(id, p)
    const list = children.get(p)
    if (list) list.push(id)
    else children.set(p, [id])
  }
  return { parent, children, maxLamport }
}
