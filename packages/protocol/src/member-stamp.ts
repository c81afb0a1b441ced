import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { SIGNATURE_LENGTH } from './envelope.js'
import { CryptoError } from './errors.js'

/**
 * A member's signed stamp: `version u8 ‖ author varuint ‖ numbers varuint* ‖ signature(64)`.
 * Snapshot confirmations, blob grants and erase requests all have this shape (what the signature
 * covers differs and is each one's own business), so they share one encoder and one decoder.
 */
export interface MemberStamp {
  /** Chain index of the signer. */
  readonly author: number
  /** The numbers between author and signature, in order. */
  readonly numbers: readonly number[]
  /** The 64-byte signature. */
  readonly signature: Uint8Array
}

/** Encode a stamp; throws `malformed` if `signature` is not 64 bytes. */
export function encodeStamp(
  version: number,
  author: number,
  numbers: readonly number[],
  signature: Uint8Array,
): Uint8Array {
  if (signature.length !== SIGNATURE_LENGTH) throw new CryptoError('malformed', 'bad signature')
  const enc = encoding.createEncoder()
  encoding.writeUint8(enc, version)
  encoding.writeVarUint(enc, author)
  for (const n of numbers) encoding.writeVarUint(enc, n)
  encoding.writeUint8Array(enc, signature)
  return encoding.toUint8Array(enc)
}

/**
 * Decode a stamp of `version` with `count` numbers. Throws `unsupported-version`, or `malformed`
 * (naming `what`) for anything that does not decode exactly: short, trailing bytes, unsafe ints.
 */
export function decodeStamp(
  bytes: Uint8Array,
  version: number,
  count: number,
  what: string,
): MemberStamp {
  try {
    const dec = decoding.createDecoder(bytes)
    const v = decoding.readUint8(dec)
    if (v !== version) throw new CryptoError('unsupported-version', `${what} version ${v}`)
    const author = decoding.readVarUint(dec)
    const numbers: number[] = []
    for (let i = 0; i < count; i++) numbers.push(decoding.readVarUint(dec))
    const signature = decoding.readUint8Array(dec, SIGNATURE_LENGTH).slice()
    if (![author, ...numbers].every(Number.isSafeInteger)) throw new Error('unsafe integer')
    if (dec.pos !== bytes.length) throw new Error('trailing bytes')
    return { author, numbers, signature }
  } catch (cause) {
    if (cause instanceof CryptoError) throw cause
    throw new CryptoError('malformed', `${what} does not decode`, { cause })
  }
}
