import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { CoreError } from './errors.js'

/** Per-author highest counter: which signed updates a member has. */
export type Heads = Map<string, number>

/** Raise `heads[author]` to `counter` if it is higher; returns whether it grew. */
export function raise(heads: Heads, author: string, counter: number): boolean {
  if ((heads.get(author) ?? 0) >= counter) return false
  heads.set(author, counter)
  return true
}

/** Authors for which `claimed` is ahead of `have`, with the claimed counter. */
export function missing(have: Heads, claimed: Heads): [string, number][] {
  const out: [string, number][] = []
  for (const [author, counter] of claimed) {
    if ((have.get(author) ?? 0) < counter) out.push([author, counter])
  }
  return out
}

/** Write heads in a canonical (sorted) order, so equal heads encode to equal bytes. */
export function writeHeads(enc: encoding.Encoder, heads: Heads): void {
  const authors = [...heads.keys()].sort()
  encoding.writeVarUint(enc, authors.length)
  for (const a of authors) {
    encoding.writeVarString(enc, a)
    encoding.writeVarUint(enc, heads.get(a) ?? 0)
  }
}

/** Read heads written by {@link writeHeads}. Throws {@link CoreError} `malformed`. */
export function readHeads(dec: decoding.Decoder): Heads {
  try {
    const n = decoding.readVarUint(dec)
    if (n > 100_000) throw new RangeError('too many authors')
    const heads: Heads = new Map()
    for (let i = 0; i < n; i++) heads.set(decoding.readVarString(dec), decoding.readVarUint(dec))
    return heads
  } catch (cause) {
    throw new CoreError('malformed', 'heads do not decode', { cause })
  }
}
