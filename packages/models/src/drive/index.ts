export {
  Drive,
  type DriveCreateOptions,
  type DriveOptions,
  type DriveVersionInput,
} from './drive.js'
export { DriveError, type DriveErrorCode } from './errors.js'
export { normalizeSearchText } from './search.js'
export {
  DRIVE_ROOT,
  DRIVE_TRASH,
  type DriveClassification,
  type DriveEvent,
  type DriveFileVersion,
  type DriveMetadataPatch,
  type DriveNode,
  type DriveNodeKind,
} from './types.js'
