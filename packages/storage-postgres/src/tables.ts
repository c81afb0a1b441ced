import type { ResolvedOptions } from './options.js'

/** Fully quoted names of the adapter's tables for one schema and prefix. */
export interface Tables {
  readonly schema: string
  readonly meta: string
  readonly values: string
  readonly blobs: string
  readonly chunks: string
  readonly blobIds: string
  /** Unquoted `schema.prefix`, used to scope advisory locks. */
  readonly scope: string
}

/** Quoted table names for the resolved options. */
export function tablesFor(options: ResolvedOptions): Tables {
  const q = (name: string) => `"${options.schema}"."${options.tablePrefix}${name}"`
  return {
    schema: `"${options.schema}"`,
    meta: q('meta'),
    values: q('values'),
    blobs: q('blobs'),
    chunks: q('chunks'),
    blobIds: q('blob_ids'),
    scope: `${options.schema}.${options.tablePrefix}`,
  }
}
