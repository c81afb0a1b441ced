#!/usr/bin/env node
// valv-audit: check an exported audit trail offline. Exit 0 = intact, 1 = broken, 2 = usage.
import { readFileSync } from 'node:fs'
import { toHex } from '@valv/protocol'
import { parseTrailFile } from './audit/file.js'
import { describeEntry } from './audit/record.js'
import { verifyTrail } from './audit/verify.js'
import { ComplianceError } from './errors.js'

const USAGE = `usage: valv-audit verify <trail-file> [--signers <file>] [--json]
       valv-audit show <trail-file> [--signers <file>]

verify  checks every signature, position and hash link and that the signed head seals the
        whole trail; prints the first break. --signers names a file of allowed hex public
        keys, one per line (without it any key is accepted: integrity, not authorship).
show    verifies, then prints each verified entry as one JSON line.
Exit status: 0 intact, 1 broken, 2 usage or unreadable file.
`

async function main(argv: string[]): Promise<number> {
  const [command, file, ...rest] = argv
  if ((command !== 'verify' && command !== 'show') || file === undefined) {
    process.stderr.write(USAGE)
    return 2
  }
  let signers: Set<string> | undefined
  let json = false
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--json') json = true
    else if (rest[i] === '--signers' && rest[i + 1] !== undefined) {
      const text = readFileSync(rest[++i] as string, 'utf8')
      signers = new Set(
        text
          .split(/\s+/)
          .filter((k) => k !== '')
          .map((k) => k.toLowerCase()),
      )
    } else {
      process.stderr.write(USAGE)
      return 2
    }
  }
  let records: Uint8Array[]
  try {
    records = parseTrailFile(readFileSync(file, 'utf8'))
  } catch (err) {
    if (!(err instanceof ComplianceError)) throw err
    report(json, { ok: false, code: 'malformed', message: err.message })
    return 1
  }
  const verdict = await verifyTrail(records, signers === undefined ? {} : { signers })
  if (command === 'show') {
    for (const entry of verdict.entries) {
      process.stdout.write(`${JSON.stringify(describeEntry(entry))}\n`)
    }
  }
  if (!verdict.ok) {
    const { index, code, message } = verdict
    report(json, { ok: false, index, code, message })
    return 1
  }
  report(json, {
    ok: true,
    trailId: verdict.trailId,
    entries: verdict.entries.length,
    head: toHex(verdict.head.hash),
    sealedBy: toHex(verdict.head.signer),
    sealedAt: new Date(verdict.head.time).toISOString(),
  })
  return 0
}

function report(json: boolean, r: Record<string, unknown>): void {
  if (json) process.stdout.write(`${JSON.stringify(r)}\n`)
  else if (r.ok) {
    process.stdout.write(
      `ok: ${r.entries} entries of trail ${r.trailId}; head ${r.head} sealed by ${r.sealedBy} at ${r.sealedAt}\n`,
    )
  } else {
    const where = r.index === undefined ? '' : ` at record ${r.index}`
    process.stdout.write(`BROKEN${where}: ${r.code}: ${r.message}\n`)
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    process.stderr.write(`valv-audit: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exitCode = 2
  },
)
