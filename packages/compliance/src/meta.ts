import type * as Y from 'yjs'

/**
 * The map inside a document (so inside its encryption) where compliance metadata lives:
 * `marking` (classification and secrecy) and `retention` (retention policy and legal hold).
 */
export const COMPLIANCE_MAP = 'valv.compliance'

/** The document's compliance map. */
export const complianceMap = (doc: Y.Doc): Y.Map<unknown> => doc.getMap(COMPLIANCE_MAP)
