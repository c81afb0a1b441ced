import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { isValidBlobId } from './blob-frames.js'
import { WireError } from './errors.js'
import { type Frame, FrameType } from './frames.js'

const DOC_ID = /^[A-Za-z0-9._~-]{1,200}$/

/** Whether `id` is a valid document id: 1–200 characters of `[A-Za-z0-9._~-]` (storage-safe). */
export function isValidDocId(id: string): boolean {
  return DOC_ID.test(id)
}

// Every seq, counter, index, ref and nonce is a safe non-negative integer (at most 2^53 - 1).
function checkUint(n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new WireError('malformed-frame', 'integer field out of range')
  }
  return n
}

function writeBlobId(enc: encoding.Encoder, blobId: string): void {
  if (!isValidBlobId(blobId)) throw new WireError('invalid-blob-id', 'invalid blob id')
  encoding.writeVarString(enc, blobId)
}

function writeDocId(enc: encoding.Encoder, docId: string): void {
  if (!isValidDocId(docId)) throw new WireError('invalid-doc-id', 'invalid document id')
  encoding.writeVarString(enc, docId)
}

/**
 * Encode a frame to bytes.
 *
 * @example
 * ```ts
 * socket.send(encodeFrame({ type: 'envelope', docId: 'doc-1', ref: 7, envelope: bytes }))
 * ```
 */
export function encodeFrame(frame: Frame): Uint8Array {
  const enc = encoding.createEncoder()
  switch (frame.type) {
    case 'auth':
      encoding.writeVarUint(enc, FrameType.Auth)
      encoding.writeVarUint(enc, checkUint(frame.version))
      encoding.writeVarString(enc, frame.token)
      break
    case 'auth-ok':
      encoding.writeVarUint(enc, FrameType.AuthOk)
      encoding.writeVarString(enc, frame.sessionId)
      break
    case 'subscribe':
      encoding.writeVarUint(enc, FrameType.Subscribe)
      writeDocId(enc, frame.docId)
      encoding.writeVarUint(enc, checkUint(frame.sinceSeq))
      encoding.writeVarUint(enc, checkUint(frame.snapshotSeq))
      encoding.writeVarUint(enc, checkUint(frame.membershipFrom))
      break
    case 'unsubscribe':
      encoding.writeVarUint(enc, FrameType.Unsubscribe)
      writeDocId(enc, frame.docId)
      break
    case 'envelope':
      encoding.writeVarUint(enc, FrameType.Envelope)
      writeDocId(enc, frame.docId)
      encoding.writeVarUint(enc, checkUint(frame.ref))
      encoding.writeVarUint8Array(enc, frame.envelope)
      break
    case 'deliver':
      encoding.writeVarUint(enc, FrameType.Deliver)
      writeDocId(enc, frame.docId)
      encoding.writeVarUint(enc, checkUint(frame.seq))
      encoding.writeVarUint8Array(enc, frame.envelope)
      break
    case 'ack':
      encoding.writeVarUint(enc, FrameType.Ack)
      writeDocId(enc, frame.docId)
      encoding.writeVarUint(enc, checkUint(frame.ref))
      encoding.writeVarUint(enc, checkUint(frame.seq))
      break
    case 'error':
      encoding.writeVarUint(enc, FrameType.Error)
      encoding.writeVarString(enc, frame.docId)
      encoding.writeVarUint(enc, checkUint(frame.ref))
      encoding.writeVarString(enc, frame.code)
      encoding.writeVarString(enc, frame.message)
      break
    case 'synced':
      encoding.writeVarUint(enc, FrameType.Synced)
      writeDocId(enc, frame.docId)
      encoding.writeVarUint(enc, checkUint(frame.headSeq))
      break
    case 'membership-append':
      encoding.writeVarUint(enc, FrameType.MembershipAppend)
      writeDocId(enc, frame.docId)
      encoding.writeVarUint(enc, checkUint(frame.ref))
      encoding.writeVarUint(enc, checkUint(frame.index))
      encoding.writeVarUint8Array(enc, frame.entry)
      break
    case 'membership':
      encoding.writeVarUint(enc, FrameType.Membership)
      writeDocId(enc, frame.docId)
      encoding.writeVarUint(enc, checkUint(frame.index))
      encoding.writeVarUint8Array(enc, frame.entry)
      break
    case 'snapshot-upload':
      encoding.writeVarUint(enc, FrameType.SnapshotUpload)
      writeDocId(enc, frame.docId)
      encoding.writeVarUint(enc, checkUint(frame.ref))
      encoding.writeVarUint(enc, checkUint(frame.prevSeq))
      encoding.writeVarUint(enc, checkUint(frame.upToSeq))
      encoding.writeVarUint8Array(enc, frame.snapshot)
      break
    case 'snapshot':
      encoding.writeVarUint(enc, FrameType.Snapshot)
      writeDocId(enc, frame.docId)
      encoding.writeVarUint(enc, checkUint(frame.upToSeq))
      encoding.writeVarUint8Array(enc, frame.snapshot)
      encoding.writeUint8(enc, frame.confirmed ? 1 : 0)
      encoding.writeVarUint8Array(enc, frame.confirmation)
      break
    case 'snapshot-confirm':
      encoding.writeVarUint(enc, FrameType.SnapshotConfirm)
      writeDocId(enc, frame.docId)
      encoding.writeVarUint(enc, frame.ref)
      encoding.writeVarUint(enc, frame.upToSeq)
      encoding.writeVarUint8Array(enc, frame.confirmation)
      break
    case 'presence':
      encoding.writeVarUint(enc, FrameType.Presence)
      writeDocId(enc, frame.docId)
      encoding.writeVarUint8Array(enc, frame.payload)
      break
    case 'ping':
      encoding.writeVarUint(enc, FrameType.Ping)
      encoding.writeVarUint(enc, checkUint(frame.nonce))
      break
    case 'pong':
      encoding.writeVarUint(enc, FrameType.Pong)
      encoding.writeVarUint(enc, checkUint(frame.nonce))
      break
    case 'blob-begin':
      encoding.writeVarUint(enc, FrameType.BlobBegin)
      writeDocId(enc, frame.docId)
      encoding.writeVarUint(enc, checkUint(frame.ref))
      writeBlobId(enc, frame.blobId)
      encoding.writeVarUint(enc, checkUint(frame.size))
      encoding.writeVarUint8Array(enc, frame.grant)
      break
    case 'blob-chunk':
      encoding.writeVarUint(enc, FrameType.BlobChunk)
      writeDocId(enc, frame.docId)
      encoding.writeVarUint(enc, checkUint(frame.ref))
      writeBlobId(enc, frame.blobId)
      encoding.writeVarUint(enc, checkUint(frame.offset))
      encoding.writeVarUint8Array(enc, frame.data)
      break
    case 'blob-commit':
      encoding.writeVarUint(enc, FrameType.BlobCommit)
      writeDocId(enc, frame.docId)
      encoding.writeVarUint(enc, checkUint(frame.ref))
      writeBlobId(enc, frame.blobId)
      encoding.writeVarUint(enc, checkUint(frame.size))
      break
    case 'blob-fetch':
      encoding.writeVarUint(enc, FrameType.BlobFetch)
      writeDocId(enc, frame.docId)
      encoding.writeVarUint(enc, checkUint(frame.ref))
      writeBlobId(enc, frame.blobId)
      encoding.writeVarUint(enc, checkUint(frame.offset))
      encoding.writeVarUint8Array(enc, frame.grant)
      break
    case 'blob-data':
      encoding.writeVarUint(enc, FrameType.BlobData)
      writeDocId(enc, frame.docId)
      encoding.writeVarUint(enc, checkUint(frame.ref))
      encoding.writeVarUint(enc, checkUint(frame.offset))
      encoding.writeVarUint8Array(enc, frame.data)
      break
    case 'blob-delete':
      encoding.writeVarUint(enc, FrameType.BlobDelete)
      writeDocId(enc, frame.docId)
      encoding.writeVarUint(enc, checkUint(frame.ref))
      writeBlobId(enc, frame.blobId)
      encoding.writeVarUint8Array(enc, frame.grant)
      break
    case 'erase':
      encoding.writeVarUint(enc, FrameType.Erase)
      writeDocId(enc, frame.docId)
      encoding.writeVarUint(enc, checkUint(frame.ref))
      encoding.writeVarUint8Array(enc, frame.request)
      break
  }
  return encoding.toUint8Array(enc)
}

function readDocId(dec: decoding.Decoder): string {
  const id = decoding.readVarString(dec)
  if (!isValidDocId(id)) throw new WireError('invalid-doc-id', 'invalid document id')
  return id
}

function readBlobId(dec: decoding.Decoder): string {
  const id = decoding.readVarString(dec)
  if (!isValidBlobId(id)) throw new WireError('invalid-blob-id', 'invalid blob id')
  return id
}

function decodeBody(dec: decoding.Decoder, tag: number): Frame {
  // lib0 returns imprecise numbers above 2^53 for long varuints: refuse them at the edge.
  const u = () => checkUint(decoding.readVarUint(dec))
  const s = () => decoding.readVarString(dec)
  const b = () => decoding.readVarUint8Array(dec)
  switch (tag) {
    case FrameType.Auth:
      return { type: 'auth', version: u(), token: s() }
    case FrameType.AuthOk:
      return { type: 'auth-ok', sessionId: s() }
    case FrameType.Subscribe:
      return {
        type: 'subscribe',
        docId: readDocId(dec),
        sinceSeq: u(),
        snapshotSeq: u(),
        membershipFrom: u(),
      }
    case FrameType.Unsubscribe:
      return { type: 'unsubscribe', docId: readDocId(dec) }
    case FrameType.Envelope:
      return { type: 'envelope', docId: readDocId(dec), ref: u(), envelope: b() }
    case FrameType.Deliver:
      return { type: 'deliver', docId: readDocId(dec), seq: u(), envelope: b() }
    case FrameType.Ack:
      return { type: 'ack', docId: readDocId(dec), ref: u(), seq: u() }
    case FrameType.Error:
      return { type: 'error', docId: s(), ref: u(), code: s(), message: s() }
    case FrameType.Synced:
      return { type: 'synced', docId: readDocId(dec), headSeq: u() }
    case FrameType.MembershipAppend:
      return { type: 'membership-append', docId: readDocId(dec), ref: u(), index: u(), entry: b() }
    case FrameType.Membership:
      return { type: 'membership', docId: readDocId(dec), index: u(), entry: b() }
    case FrameType.SnapshotUpload:
      return {
        type: 'snapshot-upload',
        docId: readDocId(dec),
        ref: u(),
        prevSeq: u(),
        upToSeq: u(),
        snapshot: b(),
      }
    case FrameType.Snapshot: {
      const head = { type: 'snapshot', docId: readDocId(dec), upToSeq: u(), snapshot: b() } as const
      const flag = decoding.readUint8(dec)
      if (flag > 1) throw new WireError('malformed-frame', 'confirmed must be 0 or 1')
      return { ...head, confirmed: flag === 1, confirmation: b() }
    }
    case FrameType.SnapshotConfirm:
      return {
        type: 'snapshot-confirm',
        docId: readDocId(dec),
        ref: u(),
        upToSeq: u(),
        confirmation: b(),
      }
    case FrameType.Presence:
      return { type: 'presence', docId: readDocId(dec), payload: b() }
    case FrameType.Ping:
      return { type: 'ping', nonce: u() }
    case FrameType.Pong:
      return { type: 'pong', nonce: u() }
    case FrameType.BlobBegin: {
      const head = { docId: readDocId(dec), ref: u(), blobId: readBlobId(dec) }
      return { type: 'blob-begin', ...head, size: u(), grant: b() }
    }
    case FrameType.BlobChunk: {
      const head = { docId: readDocId(dec), ref: u(), blobId: readBlobId(dec) }
      return { type: 'blob-chunk', ...head, offset: u(), data: b() }
    }
    case FrameType.BlobCommit: {
      const head = { docId: readDocId(dec), ref: u(), blobId: readBlobId(dec) }
      return { type: 'blob-commit', ...head, size: u() }
    }
    case FrameType.BlobFetch: {
      const head = { docId: readDocId(dec), ref: u(), blobId: readBlobId(dec) }
      return { type: 'blob-fetch', ...head, offset: u(), grant: b() }
    }
    case FrameType.BlobData:
      return { type: 'blob-data', docId: readDocId(dec), ref: u(), offset: u(), data: b() }
    case FrameType.BlobDelete: {
      const head = { docId: readDocId(dec), ref: u(), blobId: readBlobId(dec) }
      return { type: 'blob-delete', ...head, grant: b() }
    }
    case FrameType.Erase:
      return { type: 'erase', docId: readDocId(dec), ref: u(), request: b() }
    default:
      throw new WireError('unknown-frame-type', `unknown frame type ${tag}`)
  }
}

/**
 * Decode one frame. Throws {@link WireError} on truncated input, trailing bytes, an unknown
 * frame type or an invalid document id. Byte fields are copies, safe to keep, except the `data`
 * of `blob-chunk` and `blob-data`, a view into `bytes` (copy it to keep it beyond `bytes`).
 *
 * @example
 * ```ts
 * socket.onmessage = (event) => {
 *   const frame = decodeFrame(new Uint8Array(event.data))
 *   if (frame.type === 'ack') console.log('stored as', frame.seq)
 * }
 * ```
 */
export function decodeFrame(bytes: Uint8Array): Frame {
  const dec = decoding.createDecoder(bytes)
  let frame: Frame
  try {
    frame = decodeBody(dec, decoding.readVarUint(dec))
  } catch (err) {
    if (err instanceof WireError) throw err
    throw new WireError('malformed-frame', 'truncated or invalid frame')
  }
  if (decoding.hasContent(dec)) throw new WireError('malformed-frame', 'trailing bytes after frame')
  return copyBytes(frame)
}

// lib0 returns views into the input buffer; copy so a frame never pins a large socket buffer.
function copyBytes(frame: Frame): Frame {
  switch (frame.type) {
    case 'envelope':
    case 'deliver':
      return { ...frame, envelope: frame.envelope.slice() }
    case 'membership':
    case 'membership-append':
      return { ...frame, entry: frame.entry.slice() }
    case 'snapshot':
      return {
        ...frame,
        snapshot: frame.snapshot.slice(),
        confirmation: frame.confirmation.slice(),
      }
    case 'snapshot-upload':
      return { ...frame, snapshot: frame.snapshot.slice() }
    case 'snapshot-confirm':
      return { ...frame, confirmation: frame.confirmation.slice() }
    case 'presence':
      return { ...frame, payload: frame.payload.slice() }
    case 'blob-begin':
    case 'blob-fetch':
    case 'blob-delete':
      return { ...frame, grant: frame.grant.slice() }
    case 'erase':
      return { ...frame, request: frame.request.slice() }
    case 'blob-chunk':
    case 'blob-data':
      // Not copied: a chunk is nearly the whole frame, so the view pins little more than itself,
      // and a copy per chunk doubles the garbage of every file transfer.
      return frame
    default:
      return frame
  }
}
