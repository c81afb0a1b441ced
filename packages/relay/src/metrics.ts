/** Counters and gauges of a relay, rendered as Prometheus text by {@link renderMetrics}. */
export class RelayMetrics {
  /** This node's id in a cluster: every sample then carries a `node` label. */
  node: string | undefined
  /** Open WebSocket connections. */
  connections = 0
  /** Documents loaded in memory (with at least one subscriber or a queued write). */
  documents = 0
  /** Frames received. */
  messagesIn = 0
  /** Frames sent. */
  messagesOut = 0
  /** Frame bytes received. */
  bytesIn = 0
  /** Frame bytes sent. */
  bytesOut = 0
  /** Bytes written to storage minus bytes deleted, since start (loaded documents included). */
  bytesStored = 0
  /** Rejected requests by reject code. */
  readonly rejections = new Map<string, number>()
  /**
   * Envelopes resent by a client, by outcome: `acked` (already stored: acknowledged again with
   * its sequence number), `acked-from-log` (the same, found by reading the log because the
   * relay's memory of recent writes no longer held it), `stale` (the counter is taken by other
   * bytes, or was passed by a later counter without these bytes ever being stored).
   */
  readonly retries = new Map<string, number>()
  /** Connections closed by the relay, by close code. */
  readonly closes = new Map<number, number>()
  /** Frames dropped without being forwarded, by reason (e.g. `presence-backlog`). */
  readonly dropped = new Map<string, number>()
  /** Connections refused before the WebSocket upgrade, by reason (e.g. `per-ip`). */
  readonly refused = new Map<string, number>()

  /**
   * File transfer counters by event: `bytes-in`, `bytes-out`, `committed`, `downloaded`,
   * `deleted`, `resumed`, `expired` (uncommitted uploads collected), `quota-refused`.
   */
  readonly files = new Map<string, number>()

  /** Add `n` to the file counter `event`. */
  file(event: string, n = 1): void {
    this.files.set(event, (this.files.get(event) ?? 0) + n)
  }

  /** Count one rejection. */
  reject(code: string): void {
    this.rejections.set(code, (this.rejections.get(code) ?? 0) + 1)
  }

  /** Count one resent envelope's `outcome` (see {@link retries}). */
  retry(outcome: string): void {
    this.retries.set(outcome, (this.retries.get(outcome) ?? 0) + 1)
  }

  /** Count one frame dropped for `reason`. */
  drop(reason: string): void {
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + 1)
  }

  /** Count one connection refused for `reason`. */
  refuse(reason: string): void {
    this.refused.set(reason, (this.refused.get(reason) ?? 0) + 1)
  }

  /** Count one close initiated by the relay. */
  closed(code: number): void {
    this.closes.set(code, (this.closes.get(code) ?? 0) + 1)
  }
}

/** Prometheus text exposition (version 0.0.4) of `m`. */
export function renderMetrics(m: RelayMetrics): string {
  const lines: string[] = []
  const gauge = (name: string, help: string, value: number, type = 'gauge') => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${value}`)
  }
  gauge('valv_relay_connections', 'Open WebSocket connections.', m.connections)
  gauge('valv_relay_documents', 'Documents loaded in memory.', m.documents)
  gauge('valv_relay_messages_in_total', 'Frames received.', m.messagesIn, 'counter')
  gauge('valv_relay_messages_out_total', 'Frames sent.', m.messagesOut, 'counter')
  gauge('valv_relay_bytes_in_total', 'Frame bytes received.', m.bytesIn, 'counter')
  gauge('valv_relay_bytes_out_total', 'Frame bytes sent.', m.bytesOut, 'counter')
  gauge('valv_relay_bytes_stored', 'Bytes stored for loaded documents.', m.bytesStored)
  lines.push(
    '# HELP valv_relay_rejections_total Rejected requests by code.',
    '# TYPE valv_relay_rejections_total counter',
  )
  for (const [code, n] of m.rejections)
    lines.push(`valv_relay_rejections_total{code="${code}"} ${n}`)
  lines.push(
    '# HELP valv_relay_closes_total Connections closed by the relay, by close code.',
    '# TYPE valv_relay_closes_total counter',
  )
  for (const [code, n] of m.closes) lines.push(`valv_relay_closes_total{code="${code}"} ${n}`)
  const labelled = (name: string, help: string, label: string, values: Map<string, number>) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`)
    for (const [key, n] of values) lines.push(`${name}{${label}="${key}"} ${n}`)
  }
  labelled('valv_relay_dropped_total', 'Frames dropped unforwarded.', 'reason', m.dropped)
  labelled('valv_relay_refused_total', 'Connections refused.', 'reason', m.refused)
  labelled('valv_relay_retries_total', 'Resent envelopes by outcome.', 'outcome', m.retries)
  labelled('valv_relay_files_total', 'File transfer events and bytes.', 'event', m.files)
  // Process memory, so operators (and the attack tests) can see it return to baseline.
  const mem = process.memoryUsage()
  gauge('process_resident_memory_bytes', 'Resident set size of the relay process.', mem.rss)
  gauge('nodejs_heap_used_bytes', 'V8 heap in use.', mem.heapUsed)
  gauge('nodejs_external_memory_bytes', 'Memory of buffers outside the V8 heap.', mem.external)
  const node = m.node
  if (node !== undefined) {
    const label = `node="${node.replace(/[\\"\n]/g, '_')}"`
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] as string
      if (line.startsWith('#')) continue
      const brace = line.indexOf('{')
      const space = line.indexOf(' ')
      lines[i] =
        brace !== -1 && brace < space
          ? `${line.slice(0, brace + 1)}${label},${line.slice(brace + 1)}`
          : `${line.slice(0, space)}{${label}}${line.slice(space)}`
    }
  }
  return `${lines.join('\n')}\n`
}
