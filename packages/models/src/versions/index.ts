export { diffText, type TextDiffPart } from './diff.js'
export { VersionError, type VersionErrorCode } from './errors.js'
export {
  VERSIONS_ROOT,
  type VersionEvent,
  VersionHistory,
  type VersionHistoryOptions,
  type VersionInfo,
  type VersionRef,
} from './history.js'
