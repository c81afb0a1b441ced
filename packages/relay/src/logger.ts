/**
 * One structured log record. By construction it holds only event names, ids, codes, counts and
 * sizes — never frame payloads, tokens or keys.
 */
export interface LogRecord {
  /** Severity. */
  readonly level: 'info' | 'warn' | 'error'
  /** What happened (stable name). */
  readonly event: string
  readonly [field: string]: string | number | boolean | undefined
}

/** Where log records go. */
export type RelayLogger = (record: LogRecord) => void

/** JSON lines on stdout, with a timestamp. */
export const jsonLogger: RelayLogger = (record) => {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...record })}\n`)
}

/** Discards everything (tests, benchmarks). */
export const silentLogger: RelayLogger = () => {}
