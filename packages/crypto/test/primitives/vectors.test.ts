import { readFileSync, writeFileSync } from 'node:fs'
import { bytesToHex as hex } from '@noble/hashes/utils.js'
import { describe, expect, it } from 'vitest'
import { aeadOpen, type SuiteId } from '../../src/primitives/aead.js'
import { decryptBlob } from '../../src/primitives/blob-stream.js'
import { utf8 } from '../../src/primitives/bytes.js'
import { openKemBox } from '../../src/primitives/hybrid-box.js'
import { unpad } from '../../src/primitives/padding.js'
import { unwrapWithPassphrase } from '../../src/primitives/passphrase.js'
import { verify, verifyDomain } from '../../src/primitives/signature.js'
import { hexToBytes as b, computeVectors, seq } from './vectors.js'

const file = new URL('./vectors.json', import.meta.url)
type Vectors = Awaited<ReturnType<typeof computeVectors>>

describe('test vectors (vectors.json)', () => {
  it('regenerating from the fixed inputs gives exactly the checked-in bytes', async () => {
    const computed = await computeVectors()
    // VALV_WRITE_VECTORS=1 rewrites the file after a deliberate format change.
    if (process.env.VALV_WRITE_VECTORS === '1') {
      writeFileSync(file, `${JSON.stringify(computed, null, 2)}\n`)
    }
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(JSON.parse(JSON.stringify(computed)))
  })

  it('every checked-in ciphertext opens and every signature verifies', async () => {
    const v = JSON.parse(readFileSync(file, 'utf8')) as Vectors
    for (const x of v.aead) {
      expect(hex(aeadOpen(x.suite as SuiteId, b(x.key), b(x.sealed), b(x.aad)))).toBe(x.plaintext)
    }
    for (const x of v.hybridBox) {
      expect(hex(openKemBox(b(x.keySeed), b(x.box), b(x.aad)))).toBe(x.plaintext)
    }
    for (const x of v.signature) {
      expect(verify(b(x.publicKey), b(x.message), b(x.signature))).toBe(true)
      const parts = x.parts.map((p) => b(p))
      expect(verifyDomain(x.domain, b(x.publicKey), b(x.domainSignature), ...parts)).toBe(true)
    }
    for (const x of v.padding) expect(hex(unpad(b(x.padded)))).toBe(x.input)
    for (const x of v.passphrase) {
      expect(hex(await unwrapWithPassphrase(b(x.wrapped), x.passphrase))).toBe(x.secret)
    }
    for (const x of v.blob) expect(hex(decryptBlob(b(x.key), b(x.ciphertext)))).toBe(x.plaintext)
    expect(v.aead).toHaveLength(6)
    expect(v.blob[1]?.ciphertext).toHaveLength(2 * (21 + 100 + 4 * 16))
    expect(seq(3, 254)).toEqual(new Uint8Array([254, 255, 0]))
    expect(utf8(v.hkdf[0]?.info ?? '')).toEqual(utf8('valv/v1/epoch/content'))
  })
})
