/** Id of the root folder (a virtual node, always present). */
export const DRIVE_ROOT = 'root'
/** Id of the trash (a virtual node, always present): deleted nodes live here until purged. */
export const DRIVE_TRASH = 'trash'

/** Kind of a drive node. */
export type DriveNodeKind = 'folder' | 'file'

/** Classification label: one of the common levels or an agency's own label. */
export type DriveClassification = 'public' | 'internal' | 'confidential' | (string & {})

/** One stored version of a file: a reference to an encrypted blob, never the bytes. */
export interface DriveFileVersion {
  /** Stable id of the version. */
  readonly id: string
  /**
   * Id of the encrypted blob on the relay (`uploadFile` of `@valv/provider-websocket`, or the
   * app's own blob store).
   */
  readonly blobId: string
  /** Plaintext size in bytes. */
  readonly size: number
  /** Media type of the plaintext. */
  readonly mimeType: string
  /** Creation time, ms since the epoch. */
  readonly createdAt: number
  /** Member who uploaded it. */
  readonly author: string
  /** Reference to the content key (e.g. a key id in the doc's keyring), if the app uses one. */
  readonly contentKeyRef?: string
  /**
   * The file key (`UploadedFile.key`, base64url) that decrypts the blob. It lives only here,
   * inside the encrypted document, so whoever can read the drive can read its files.
   */
  readonly fileKey?: string
}

/** Metadata a caller may set on a node. */
export interface DriveMetadataPatch {
  /** Display title (the name is the file-system name). */
  readonly title?: string
  /** Owner member id. */
  readonly owner?: string
  /** Classification label; `null` clears it. */
  readonly classification?: DriveClassification | null
  /** Retention date (ISO 8601 date, `YYYY-MM-DD`); `null` clears it. */
  readonly retainUntil?: string | null
}

/** A node as the UI sees it. */
export interface DriveNode {
  /** Stable id. */
  readonly id: string
  /** Folder or file. */
  readonly kind: DriveNodeKind
  /** Name in its folder (last writer wins). */
  readonly name: string
  /** Effective parent after conflict resolution: a folder id, {@link DRIVE_ROOT} or {@link DRIVE_TRASH}. */
  readonly parent: string
  /** Display title (defaults to the name). */
  readonly title: string
  /** Owner member id. */
  readonly owner: string
  /** Creation time, ms since the epoch. */
  readonly createdAt: number
  /** Last change of name, metadata or versions, ms since the epoch. */
  readonly modifiedAt: number
  /** Classification label, `null` if unset. */
  readonly classification: DriveClassification | null
  /** Retention date (`YYYY-MM-DD`), `null` if unset. */
  readonly retainUntil: string | null
  /** Whether the node is in the trash (directly or through a deleted folder). */
  readonly trashed: boolean
}

/** A change described in drive terms, delivered to {@link Drive.observe} listeners. */
export interface DriveEvent {
  /** Ids of the nodes whose data changed (moves, renames, metadata, versions). */
  readonly nodes: readonly string[]
}
