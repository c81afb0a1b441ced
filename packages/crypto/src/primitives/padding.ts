import { CryptoError } from '@valv/protocol'

/** How plaintexts are padded before encryption, to hide exact sizes from the relay. */
export type PaddingPolicy = 'none' | 'padme' | { readonly bucket: number }

/**
 * PADMÉ (Nikitin et al., PETS 2019): round `n` up so that at most O(log log n) bits of the
 * length leak, with at most ~12 % overhead.
 */
export function padmeLength(n: number): number {
  if (n < 2) return n
  const e = Math.floor(Math.log2(n))
  const s = Math.floor(Math.log2(e)) + 1
  const z = e - s
  const mask = 2 ** z - 1
  return Math.ceil((n + mask) / 2 ** z) * 2 ** z
}

function target(n: number, policy: PaddingPolicy): number {
  if (policy === 'none') return n
  if (policy === 'padme') return padmeLength(n)
  return Math.ceil(n / policy.bucket) * policy.bucket
}

/** Prefix the length (4 bytes) and pad with zeros to the policy's size. */
export function pad(bytes: Uint8Array, policy: PaddingPolicy): Uint8Array {
  const out = new Uint8Array(Math.max(target(bytes.length + 4, policy), bytes.length + 4))
  new DataView(out.buffer).setUint32(0, bytes.length)
  out.set(bytes, 4)
  return out
}

/** Undo {@link pad}. Throws `malformed` if the length prefix or padding is wrong. */
export function unpad(padded: Uint8Array): Uint8Array {
  if (padded.length < 4) throw new CryptoError('malformed', 'padded value too short')
  const n = new DataView(padded.buffer, padded.byteOffset, 4).getUint32(0)
  if (n > padded.length - 4) throw new CryptoError('malformed', 'bad padding length')
  for (let i = 4 + n; i < padded.length; i++) {
    if (padded[i] !== 0) throw new CryptoError('malformed', 'non-zero padding')
  }
  return padded.slice(4, 4 + n)
}
