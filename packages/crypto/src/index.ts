/**
 * Client-side end-to-end encryption for Valv: identities, documents and their key epochs,
 * sealed envelopes, membership with roles, rotation, invites, recovery and file encryption.
 * The wire formats and public verification live in `@valv/protocol`, re-exported here.
 *
 * @packageDocumentation
 */
export {
  CounterWindow,
  CryptoError,
  type CryptoErrorCode,
  Role,
  roleName,
} from '@valv/protocol'
export { type AuditSigner, documentAuditSigner } from './audit-signer.js'
export { type DeviceCert, PublicCard } from './card.js'
export { DeviceVault, type DeviceVaultOptions } from './device-vault.js'
export type { OpenedEnvelope } from './envelope-crypto.js'
export { signEraseRequest } from './erase-signer.js'
export { type CreateIdentityOptions, Identity } from './identity.js'
export { type InviteCapability, parseInvite } from './invite.js'
export { type ErasableKeyStore, type KeyStore, memoryKeyStore } from './key-store.js'
export { eraseLocalKeys } from './local-copy.js'
export { isSupportedSuite, Suite, type SuiteId } from './primitives/aead.js'
export {
  BLOB_CHUNK_SIZE,
  type BlobEncryptOptions,
  type BlobEncryptStream,
  decryptBlob,
  decryptBlobStream,
  type EncryptedBlob,
  encryptBlob,
  encryptBlobStream,
  encryptedBlobSize,
} from './primitives/blob-stream.js'
export { type PaddingPolicy, padmeLength } from './primitives/padding.js'
export { MIN_PASSPHRASE_LENGTH, type PassphraseParams } from './primitives/passphrase.js'
export { RecoveryKey } from './recovery.js'
export { DocumentSession } from './session.js'
export type {
  ChangeListener,
  CreateDocumentOptions,
  InviteInfo,
  InviteOptions,
  MemberInfo,
  MembershipSink,
  SessionOptions,
} from './session-options.js'
