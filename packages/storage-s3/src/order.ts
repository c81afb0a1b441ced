import { segmentOfName } from './keys.js'

/**
 * Turn the children S3 reports below one folder (in S3's byte order of object names, where a
 * sub-folder `x/` sorts after `x-y!v` because `/` > `-`) into distinct segments in segment
 * order, streaming with a small look-behind buffer.
 *
 * Only one kind of inversion exists: a folder `X/` arrives after entries `X-…` / `X.…`.
 * So after an entry `s`, nothing smaller than the shortest prefix `X` of `s` that is followed
 * by `-` or `.` can still arrive; everything buffered below that bound is final.
 *
 * @param names entries relative to the folder: `seg!v`, `seg!b!<version>` or `seg/`, in S3 order
 */
export async function* segmentOrder(names: AsyncIterable<string>): AsyncGenerator<string> {
  const pending: string[] = []
  // Guards against servers that repeat a common prefix across pages.
  let emitted: string | undefined
  for await (const name of names) {
    const segment = segmentOfName(name)
    if ((emitted === undefined || compare(segment, emitted) > 0) && !pending.includes(segment)) {
      pending.push(segment)
      pending.sort(compare)
    }
    const bound = lowestPossibleNext(segment)
    while (pending.length > 0 && compare(pending[0]!, bound) < 0) {
      emitted = pending.shift()!
      yield emitted
    }
  }
  yield* pending
}

function lowestPossibleNext(segment: string): string {
  for (let i = 1; i < segment.length; i++) {
    const c = segment[i]
    if (c === '-' || c === '.') return segment.slice(0, i)
  }
  return segment
}

/** Byte order of ASCII segments (the StorageAdapter ordering). */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
