/**
 * The client ↔ relay wire protocol of Valv: frame types, a lib0-based codec, rejection codes
 * and the WebSocket close-code contract. Shared by `@valv/relay` and the providers. Payloads
 * (envelopes, snapshots, membership entries, presence) are opaque bytes here; their format and
 * verification live in `@valv/protocol`.
 *
 * @packageDocumentation
 */

export {
  type BlobBeginFrame,
  type BlobChunkFrame,
  type BlobCommitFrame,
  type BlobDataFrame,
  type BlobDeleteFrame,
  type BlobFetchFrame,
  type BlobFrame,
  isValidBlobId,
} from './blob-frames.js'
export { CloseCode, type CloseCodeValue, isRetryableClose } from './close-codes.js'
export { decodeFrame, encodeFrame, isValidDocId } from './codec.js'
export { RejectCode, type RejectCodeValue } from './error-codes.js'
export { WireError, type WireErrorCode } from './errors.js'
export * from './frames.js'
