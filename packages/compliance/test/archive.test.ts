import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { RichText } from '@valv/models'
import { strFromU8, unzipSync } from 'fflate'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import {
  AuditTrail,
  archivePackage,
  ed25519AuditSigner,
  parseTrailFile,
  richTextToOdt,
  verifyTrail,
} from '../src/index.js'

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

describe('archive package (E-ARK CSIP / FGS structure)', () => {
  it('holds the exports and the audit trail, and METS and the manifest name each with its size and SHA-256', async () => {
    const text = RichText.fromDoc(new Y.Doc())
    text.setJSON({
      type: 'doc',
      content: [{ type: 'paragraph', content: [{ type: 'text', text: 'Beslut åäö' }] }],
    })
    const odt = richTextToOdt(text, { title: 'Beslut' })
    const signer = ed25519AuditSigner(new Uint8Array(32).fill(3))
    const trail = await AuditTrail.open('doc-1')
    await trail.append(signer, {
      type: 'export',
      details: { format: 'odt', reason: 'arkivleverans' },
    })
    const zip = archivePackage({
      id: 'dnr-2026-77',
      label: 'Beslut om åtgärd <&>',
      agency: 'Socialnämnden',
      files: [
        { name: 'beslut.odt', mimeType: 'application/vnd.oasis.opendocument.text', bytes: odt },
      ],
      auditTrail: await trail.export(signer),
      marking: { level: 'K2' },
    })
    const files = unzipSync(zip)
    expect(Object.keys(files).sort()).toEqual([
      'dnr-2026-77/METS.xml',
      'dnr-2026-77/manifest-sha256.txt',
      'dnr-2026-77/metadata/preservation/audit-trail.valv',
      'dnr-2026-77/representations/rep1/data/beslut.odt',
    ])
    const mets = strFromU8(files['dnr-2026-77/METS.xml'] as Uint8Array)
    // Well-formed XML (Python's parser, which the interop reader needs anyway).
    execFileSync(
      'python3',
      ['-c', 'import sys, xml.dom.minidom; xml.dom.minidom.parseString(sys.stdin.buffer.read())'],
      {
        input: mets,
      },
    )
    const refs = [
      ...mets.matchAll(
        /<mets:file [^>]*SIZE="(\d+)"[^>]*CHECKSUM="([0-9a-f]{64})"[^>]*><mets:FLocat [^>]*xlink:href="([^"]+)"/g,
      ),
    ]
    expect(refs).toHaveLength(2)
    for (const [, size, sum, href] of refs) {
      const bytes = files[`dnr-2026-77/${href}`] as Uint8Array
      expect(bytes).toBeDefined()
      expect(bytes.length).toBe(Number(size))
      expect(sha(bytes)).toBe(sum)
    }
    expect(mets).toContain('Klassificering K2')
    expect(mets).toContain('LABEL="Beslut om åtgärd &lt;&amp;&gt;"')
    const manifest = strFromU8(files['dnr-2026-77/manifest-sha256.txt'] as Uint8Array)
    for (const line of manifest.trim().split('\n')) {
      const [sum, path] = line.split('  ')
      expect(sha(files[`dnr-2026-77/${path}`] as Uint8Array)).toBe(sum)
    }
    expect(files['dnr-2026-77/representations/rep1/data/beslut.odt']).toEqual(odt)
    const kept = strFromU8(
      files['dnr-2026-77/metadata/preservation/audit-trail.valv'] as Uint8Array,
    )
    expect((await verifyTrail(parseTrailFile(kept))).ok).toBe(true)
  })

  it('refuses path-like or repeated names and bad ids, writing nothing', () => {
    const f = { name: 'a.odt', mimeType: 'x/y', bytes: new Uint8Array(1) }
    const base = { id: 'p1', label: 'l', agency: 'a', files: [f] }
    for (const bad of [
      { ...base, files: [{ ...f, name: '../a.odt' }] },
      { ...base, files: [{ ...f, name: 'dir/a.odt' }] },
      { ...base, files: [f, f] },
      { ...base, files: [] },
      { ...base, id: 'a/b' },
    ]) {
      expect(() => archivePackage(bad)).toThrowError(
        expect.objectContaining({ code: 'invalid-argument' }),
      )
    }
  })
})
