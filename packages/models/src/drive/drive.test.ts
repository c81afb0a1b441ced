import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { Drive } from './drive.js'
import { DriveError } from './errors.js'
import { normalizeSearchText } from './search.js'
import { DRIVE_ROOT, DRIVE_TRASH, type DriveEvent } from './types.js'

const sync = (a: Y.Doc, b: Y.Doc) => {
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)))
  Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)))
}

const pair = () => {
  const d1 = new Y.Doc()
  const d2 = new Y.Doc()
  return { d1, d2, a: new Drive(d1, { member: 'anna' }), b: new Drive(d2, { member: 'bo' }) }
}

describe('drive', () => {
  it('builds a tree of folders and files with metadata and versions', () => {
    let t = 100
    const drive = new Drive(new Y.Doc(), { member: 'anna', now: () => t++ })
    const docs = drive.createFolder('Dokument')
    const sub = drive.createFolder('Avtal', { parent: docs })
    const f = drive.createFile('avtal.pdf', {
      parent: sub,
      metadata: {
        title: 'Ramavtal 2026',
        classification: 'confidential',
        retainUntil: '2036-01-01',
      },
    })
    expect(drive.children().map((n) => n.name)).toEqual(['Dokument'])
    expect(drive.ancestors(f)).toEqual([sub, docs, DRIVE_ROOT])
    expect(drive.node(f)).toMatchObject({
      kind: 'file',
      title: 'Ramavtal 2026',
      owner: 'anna',
      classification: 'confidential',
      retainUntil: '2036-01-01',
      trashed: false,
      parent: sub,
    })
    const v1 = drive.addVersion(f, { blobId: 'blob-1', size: 10, mimeType: 'application/pdf' })
    const v2 = drive.addVersion(f, {
      blobId: 'blob-2',
      size: 12,
      mimeType: 'application/pdf',
      contentKeyRef: 'k1',
    })
    expect(drive.versions(f)).toEqual([v1, v2])
    expect(drive.latestVersion(f)).toMatchObject({
      blobId: 'blob-2',
      author: 'anna',
      contentKeyRef: 'k1',
    })
    expect(drive.node(f).modifiedAt).toBe(v2.createdAt)
    drive.rename(sub, 'Kontrakt')
    drive.move(f, DRIVE_ROOT)
    expect(drive.children().map((n) => n.name)).toEqual(['Dokument', 'avtal.pdf'])
    drive.setMetadata(f, { classification: 'Sekretess enligt OSL 21:7', retainUntil: null })
    expect(drive.node(f)).toMatchObject({
      classification: 'Sekretess enligt OSL 21:7',
      retainUntil: null,
    })
  })

  it('trashes folders with their children, restores and purges', () => {
    const drive = new Drive(new Y.Doc(), { member: 'anna' })
    const a = drive.createFolder('A')
    const f = drive.createFile('f', { parent: a })
    drive.delete(a)
    expect(drive.isTrashed(f)).toBe(true)
    expect(drive.children(DRIVE_TRASH).map((n) => n.id)).toEqual([a])
    expect(drive.search('f')).toEqual([])
    expect(drive.search('f', { includeTrashed: true }).map((n) => n.id)).toEqual([f])
    drive.restore(a)
    expect(drive.ancestors(f)).toEqual([a, DRIVE_ROOT])
    expect(() => drive.purge(a)).toThrowError(expect.objectContaining({ code: 'not-in-trash' }))
    drive.delete(a)
    drive.purge(a)
    expect(drive.nodeIds()).toEqual([])
  })

  it('links file versions to blobs and hands back the purged ones for deletion', () => {
    const drive = new Drive(new Y.Doc(), { member: 'anna' })
    const a = drive.createFolder('A')
    const f = drive.createFile('f.pdf', { parent: a })
    const g = drive.createFile('g.txt')
    const v1 = { blobId: 'b1', size: 10, mimeType: 'application/pdf', fileKey: 'k1_-' }
    drive.addVersion(f, v1)
    drive.addVersion(f, { blobId: 'b2', size: 12, mimeType: 'application/pdf', fileKey: 'k2' })
    drive.addVersion(g, { blobId: 'b3', size: 1, mimeType: 'text/plain' })
    expect(drive.latestVersion(f)).toMatchObject({ blobId: 'b2', fileKey: 'k2' })
    expect(() => drive.addVersion(f, { ...v1, fileKey: 'not base64!' })).toThrowError(
      expect.objectContaining({ code: 'bad-argument' }),
    )
    drive.delete(a)
    expect(drive.purge(a).map((v) => v.blobId)).toEqual(['b1', 'b2'])
    expect(drive.latestVersion(g)?.blobId).toBe('b3')
  })

  it('rejects bad input and leaves the document unchanged', () => {
    const doc = new Y.Doc()
    const drive = new Drive(doc, { member: 'anna' })
    const a = drive.createFolder('A')
    const b = drive.createFolder('B', { parent: a })
    const f = drive.createFile('f')
    const before = Y.encodeStateAsUpdate(doc)
    const bad: [() => unknown, string][] = [
      [() => drive.move(a, b), 'cycle'],
      [() => drive.move(a, a), 'cycle'],
      [() => drive.move(b, f), 'not-a-folder'],
      [() => drive.createFile('x', { parent: f }), 'not-a-folder'],
      [() => drive.move('nope', a), 'not-found'],
      [() => drive.rename(a, '  '), 'invalid-name'],
      [() => drive.rename(a, 'a/b'), 'invalid-name'],
      [() => drive.createFolder('..'), 'invalid-name'],
      [() => drive.createFolder('x\u0000'), 'invalid-name'],
      [() => drive.addVersion(a, { blobId: 'b', size: 1, mimeType: 'x/y' }), 'not-a-file'],
      [() => drive.addVersion(f, { blobId: '', size: 1, mimeType: 'x/y' }), 'bad-argument'],
      [() => drive.addVersion(f, { blobId: 'b', size: -1, mimeType: 'x/y' }), 'bad-argument'],
      [() => drive.setMetadata(f, { retainUntil: '31/12/2030' }), 'bad-argument'],
      [() => drive.createFile('ok', { metadata: { classification: ' ' } }), 'bad-argument'],
      [() => drive.children(f), 'not-a-folder'],
    ]
    for (const [fn, code] of bad) {
      expect(fn).toThrowError(expect.objectContaining({ code }))
      expect(fn).toThrowError(DriveError)
    }
    expect(Y.encodeStateAsUpdate(doc)).toEqual(before)
  })

  it('ignores the later of two concurrent moves that together would make a cycle', () => {
    const { d1, d2, a, b } = pair()
    const x = a.createFolder('X')
    const y = a.createFolder('Y')
    sync(d1, d2)
    a.move(x, y)
    b.move(y, x)
    sync(d1, d2)
    const place = (d: Drive) => [d.node(x).parent, d.node(y).parent]
    expect(place(a)).toEqual(place(b))
    // exactly one of the two moves took effect, the other was ignored
    const [px, py] = place(a)
    expect((px === y && py === DRIVE_ROOT) || (py === x && px === DRIVE_ROOT)).toBe(true)
  })

  it('keeps a file added to a folder that is concurrently deleted (in the trash with it)', () => {
    const { d1, d2, a, b } = pair()
    const folder = a.createFolder('Projekt')
    sync(d1, d2)
    a.delete(folder)
    const f = b.createFile('plan.docx', { parent: folder })
    sync(d1, d2)
    for (const d of [a, b]) {
      expect(d.ancestors(f)).toEqual([folder, DRIVE_TRASH])
      expect(d.isTrashed(f)).toBe(true)
    }
  })

  it('keeps concurrent renames and versions consistent', () => {
    const { d1, d2, a, b } = pair()
    const f = a.createFile('a.txt')
    sync(d1, d2)
    a.rename(f, 'from-anna.txt')
    b.rename(f, 'from-bo.txt')
    a.addVersion(f, { blobId: 'x', size: 1, mimeType: 'text/plain' })
    b.addVersion(f, { blobId: 'y', size: 1, mimeType: 'text/plain' })
    sync(d1, d2)
    expect(a.node(f).name).toBe(b.node(f).name)
    expect(a.versions(f).map((v) => v.blobId)).toEqual(b.versions(f).map((v) => v.blobId))
    expect(a.versions(f)).toHaveLength(2)
  })

  it('reports changed node ids', () => {
    const { d1, d2, a, b } = pair()
    const events: DriveEvent[] = []
    b.observe((e) => events.push(e))
    const f = a.createFile('x')
    sync(d1, d2)
    a.rename(f, 'y')
    sync(d1, d2)
    expect(events).toEqual([{ nodes: [f] }, { nodes: [f] }])
  })
})

describe('drive search', () => {
  it('matches word prefixes, case-insensitively, with å ä ö kept distinct', () => {
    const drive = new Drive(new Y.Doc(), { member: 'Örjan' })
    const a = drive.createFile('Årsredovisning 2025.pdf')
    const b = drive.createFile('Ärendelista.xlsx', { metadata: { classification: 'internal' } })
    const c = drive.createFile('Arende.txt', { metadata: { title: 'Café möte' } })
    const ids = (q: string) => drive.search(q).map((n) => n.id)
    expect(ids('årsred')).toEqual([a])
    expect(ids('ÅRSRED 2025')).toEqual([a])
    expect(ids('ärende')).toEqual([b])
    expect(ids('arende')).toEqual([c])
    expect(ids('cafe MÖ')).toEqual([c])
    expect(ids('intern')).toEqual([b])
    expect(ids('örjan').sort()).toEqual([a, b, c].sort())
    expect(ids('orjan')).toEqual([])
    expect(ids('')).toEqual([])
    drive.rename(a, 'Budget.pdf')
    expect(ids('årsred')).toEqual([])
    // decomposed input (a + combining ring) is the same letter as å
    expect(normalizeSearchText('A\u030aR')).toBe('år')
  })
})
