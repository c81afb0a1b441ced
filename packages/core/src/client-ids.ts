import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'

/**
 * Most Yjs client ids one author may bind. An honest client uses one per document instance (a
 * tab, a reload); the bound keeps a writer from growing every reader's table without limit.
 */
export const MAX_CLIENT_IDS_PER_AUTHOR = 65_536

/**
 * Which author owns which Yjs client id. Rule (protocol v1, "Client-id binding"): the first
 * verified update in relay log order that carries structs (insertions) of client id X binds X
 * to its signer; a later update from another signer that carries structs of X is refused.
 * Deletions carry no structs, so deleting others' content stays legal. Yjs attributes content
 * by client id only, so without this one member could insert text in another's name.
 *
 * The table is persisted in the local checkpoint and travels in snapshots, so a reader that
 * starts from a snapshot applies the same rule as one that replayed the whole log.
 */
export class ClientIds {
  private readonly owners = new Map<number, string>()
  private readonly perAuthor = new Map<string, number>()

  /** A table holding `entries` (as returned by {@link ClientIds.entries}). */
  constructor(entries: Iterable<readonly [number, string]> = []) {
    for (const [id, author] of entries) this.set(id, author)
  }

  /** Number of bound client ids. */
  get size(): number {
    return this.owners.size
  }

  /** The author `clientId` is bound to, if any. */
  owner(clientId: number): string | undefined {
    return this.owners.get(clientId)
  }

  /**
   * Why `author` may not carry structs of `clients`: the first client id bound to another
   * author, or `'too-many'` when the author would exceed {@link MAX_CLIENT_IDS_PER_AUTHOR}.
   * `undefined` means the update is acceptable.
   */
  refuse(author: string, clients: Iterable<number>): number | 'too-many' | undefined {
    let fresh = 0
    for (const id of clients) {
      const owner = this.owners.get(id)
      if (owner === undefined) fresh++
      else if (owner !== author) return id
    }
    if ((this.perAuthor.get(author) ?? 0) + fresh > MAX_CLIENT_IDS_PER_AUTHOR) return 'too-many'
    return undefined
  }

  /** Bind every still unbound id of `clients` to `author` (after {@link refuse} allowed it). */
  bind(author: string, clients: Iterable<number>): void {
    for (const id of clients) if (!this.owners.has(id)) this.set(id, author)
  }

  /**
   * Adopt the bindings of `other` (a snapshot's table) for ids not bound here yet. Returns the
   * ids that `other` binds to a different author than this table: evidence of a fork.
   */
  merge(other: ClientIds): number[] {
    const conflicts: number[] = []
    for (const [id, author] of other.entries()) {
      const mine = this.owners.get(id)
      if (mine === undefined) this.set(id, author)
      else if (mine !== author) conflicts.push(id)
    }
    return conflicts
  }

  /** Every binding, as `[clientId, author]`. */
  entries(): IterableIterator<[number, string]> {
    return this.owners.entries()
  }

  private set(id: number, author: string): void {
    this.owners.set(id, author)
    this.perAuthor.set(author, (this.perAuthor.get(author) ?? 0) + 1)
  }
}

/**
 * Write a table canonically: authors sorted, each with its sorted client ids, so equal tables
 * encode to equal bytes (`count, (author, n, id × n) × count`).
 */
export function writeClientIds(enc: encoding.Encoder, table: ClientIds): void {
  const byAuthor = new Map<string, number[]>()
  for (const [id, author] of table.entries()) {
    const ids = byAuthor.get(author)
    if (ids === undefined) byAuthor.set(author, [id])
    else ids.push(id)
  }
  const authors = [...byAuthor.keys()].sort()
  encoding.writeVarUint(enc, authors.length)
  for (const a of authors) {
    const ids = (byAuthor.get(a) as number[]).sort((x, y) => x - y)
    encoding.writeVarString(enc, a)
    encoding.writeVarUint(enc, ids.length)
    for (const id of ids) encoding.writeVarUint(enc, id)
  }
}

/** Read a table written by {@link writeClientIds}; throws on malformed input. */
export function readClientIds(dec: decoding.Decoder): ClientIds {
  const authors = decoding.readVarUint(dec)
  if (authors > 100_000) throw new RangeError('too many authors')
  const entries: [number, string][] = []
  for (let i = 0; i < authors; i++) {
    const author = decoding.readVarString(dec)
    const n = decoding.readVarUint(dec)
    if (n > MAX_CLIENT_IDS_PER_AUTHOR) throw new RangeError('too many client ids')
    for (let j = 0; j < n; j++) entries.push([decoding.readVarUint(dec), author])
  }
  return new ClientIds(entries)
}

/** Whether `dec` has bytes left (an optional trailing field follows). */
export function hasMore(dec: decoding.Decoder): boolean {
  return dec.pos < dec.arr.length
}

/** The Yjs client ids whose structs a (local, well-formed) update carries. */
export function updateClients(update: Uint8Array): number[] {
  return [...Y.parseUpdateMeta(update).to.keys()]
}
