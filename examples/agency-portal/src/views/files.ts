import type { Identity } from '@valv/crypto'
import { DRIVE_ROOT, DRIVE_TRASH, Drive, type DriveNode } from '@valv/models/drive'
import { fromBase64Url, toBase64Url } from '@valv/protocol'
import { deleteFile, downloadFile, uploadFile } from '@valv/provider-websocket'
import { memberNames, type OpenDocument } from '../documents.js'
import { announce, field, h } from '../dom.js'
import { t } from '../i18n.js'
import { onDispose } from '../lifecycle.js'

const CLASSES = ['public', 'internal', 'confidential'] as const
const CLASS_LABEL = {
  public: 'classPublic',
  internal: 'classInternal',
  confidential: 'classConfidential',
} as const

function classLabel(c: string | null): string {
  return c === null ? t('classNone') : c in CLASS_LABEL ? t(CLASS_LABEL[c as 'public']) : c
}

function sizeLabel(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} kB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

/** Save `blob` as a download named `name` (made in this tab; nothing goes to a server). */
function save(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob)
  h('a', { href: url, download: name }).click()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}

/**
 * A shared encrypted drive: the `Drive` model of `@valv/models` (folders, moves, trash,
 * search, classification) in this document, and files encrypted here in the browser with a
 * fresh key each, uploaded to and downloaded from the relay (`uploadFile`/`downloadFile`). The
 * file key lives only in the drive, inside the encrypted document; the relay stores ciphertext
 * under an id that reveals nothing of the content.
 */
export function renderFiles(open: OpenDocument, body: HTMLElement, me: Identity): void {
  const drive = new Drive(open.doc, { member: me.userId })
  onDispose(() => drive.destroy())
  let folder = DRIVE_ROOT
  const status = h('p', { role: 'status', 'data-testid': 'files-status' })
  const error = h('p', { role: 'alert', class: 'error' })
  const crumbs = h('p', { class: 'crumbs' })
  const list = h('ul', { class: 'files', 'data-testid': 'files' })
  const query = h('input', { type: 'search', id: 'files-search', autocomplete: 'off' })
  const writable = () => open.session.canWrite()
  const fail = (err: unknown) => {
    status.textContent = ''
    error.textContent = t('error', { message: (err as Error).message })
  }

  const download = async (node: DriveNode) => {
    const version = drive.latestVersion(node.id)
    const key = version?.fileKey === undefined ? undefined : fromBase64Url(version.fileKey)
    if (version === null || key === undefined) return
    status.textContent = t('downloading', { name: node.name })
    try {
      const plain = downloadFile(open.provider, open.session, { blobId: version.blobId, key })
      save(await new Response(plain).blob(), node.name)
      status.textContent = t('downloaded', { name: node.name })
    } catch (err) {
      fail(err)
    }
  }

  // Remove for good: the nodes leave the drive, then their blobs leave the relay.
  const purge = async (node: DriveNode) => {
    try {
      const versions = drive.purge(node.id)
      await Promise.all(versions.map((v) => deleteFile(open.provider, open.session, v.blobId)))
      status.textContent = t('purged', { name: node.name })
    } catch (err) {
      fail(err)
    }
  }

  const folderOptions = (except: string) =>
    [DRIVE_ROOT, ...drive.descendants(DRIVE_ROOT)]
      .filter((id) => id === DRIVE_ROOT || drive.node(id).kind === 'folder')
      .filter((id) => id !== except && !drive.ancestors(id).includes(except))
      .map((id) =>
        h(
          'option',
          { value: id },
          id === DRIVE_ROOT
            ? t('filesRoot')
            : [...drive.ancestors(id).reverse().slice(1), id]
                .map((a) => drive.node(a).name)
                .join(' / '),
        ),
      )

  const row = (node: DriveNode, names: Map<string, string>) => {
    const version = node.kind === 'file' ? drive.latestVersion(node.id) : null
    const name =
      node.kind === 'folder'
        ? h(
            'button',
            {
              type: 'button',
              class: 'link',
              onclick: () => {
                folder = node.id
                query.value = ''
                draw()
              },
            },
            `📁 ${node.name}`,
          )
        : h('span', { class: 'name' }, node.name)
    const details = [
      version ? sizeLabel(version.size) : '',
      names.get(node.owner) ?? '',
      `${t('classification')}: ${classLabel(node.classification)}`,
    ].filter(Boolean)
    const actions: HTMLElement[] = []
    if (node.kind === 'file' && version?.fileKey !== undefined) {
      actions.push(
        h(
          'button',
          { type: 'button', onclick: () => void download(node) },
          `${t('downloadFile')}: ${node.name}`,
        ),
      )
    }
    if (writable() && !node.trashed) {
      const move = h(
        'select',
        { 'aria-label': t('moveTo', { name: node.name }) },
        h('option', { value: '' }, t('moveTo', { name: node.name })),
        ...folderOptions(node.id),
      )
      move.addEventListener('change', () => {
        if (move.value === '') return
        try {
          drive.move(node.id, move.value)
        } catch (err) {
          fail(err)
        }
      })
      actions.push(
        move,
        h(
          'button',
          { type: 'button', class: 'danger', onclick: () => drive.delete(node.id) },
          `${t('toTrash')}: ${node.name}`,
        ),
      )
    }
    if (writable() && node.trashed && node.parent === DRIVE_TRASH) {
      actions.push(
        h(
          'button',
          { type: 'button', onclick: () => drive.restore(node.id) },
          `${t('restoreFile')}: ${node.name}`,
        ),
        h(
          'button',
          { type: 'button', class: 'danger', onclick: () => void purge(node) },
          `${t('purgeFile')}: ${node.name}`,
        ),
      )
    }
    return h(
      'li',
      { 'data-node': node.id },
      name,
      h('span', { class: 'muted' }, ` – ${details.join(' · ')}`),
      ' ',
      ...actions,
    )
  }

  const crumb = (id: string, label: string) =>
    h(
      'button',
      {
        type: 'button',
        class: 'link',
        onclick: () => {
          folder = id
          draw()
        },
      },
      label,
    )

  function draw(): void {
    // The folder may have been moved to the trash or purged by someone else meanwhile.
    if (folder !== DRIVE_ROOT && folder !== DRIVE_TRASH && !drive.nodeIds().includes(folder)) {
      folder = DRIVE_ROOT
    }
    const names = memberNames(open.session)
    const q = query.value.trim()
    const nodes = q !== '' ? drive.search(q) : drive.children(folder)
    crumbs.replaceChildren(
      crumb(DRIVE_ROOT, t('filesRoot')),
      ...(folder === DRIVE_ROOT || folder === DRIVE_TRASH
        ? []
        : [...drive.ancestors(folder).reverse().slice(1), folder].flatMap((id) => [
            ' / ',
            crumb(id, drive.node(id).name),
          ])),
      ' · ',
      crumb(DRIVE_TRASH, t('trash')),
    )
    list.replaceChildren(
      ...(nodes.length === 0 ? [h('li', {}, t('noFiles'))] : nodes.map((n) => row(n, names))),
    )
  }
  onDispose(drive.observe(draw))
  onDispose(open.session.onChange(draw))
  query.addEventListener('input', draw)

  const file = h('input', { type: 'file', id: 'file-input' })
  const classification = h(
    'select',
    { id: 'file-class' },
    h('option', { value: '' }, t('classNone')),
    ...CLASSES.map((c) => h('option', { value: c }, t(CLASS_LABEL[c]))),
  )
  const upload = h(
    'form',
    {
      class: 'card',
      'aria-labelledby': 'upload-h',
      onsubmit: async (e) => {
        e.preventDefault()
        const chosen = file.files?.[0]
        if (chosen === undefined || !writable()) return
        error.textContent = ''
        status.textContent = t('uploading', { name: chosen.name })
        try {
          // Encrypted and padded here, then streamed to the relay in chunks, resumably.
          const stored = await uploadFile(open.provider, open.session, chosen.stream(), {
            size: chosen.size,
          })
          // The node is made only once the blob is durable, so it never points at nothing.
          const target = folder === DRIVE_TRASH ? DRIVE_ROOT : folder
          open.doc.transact(() => {
            const id = drive.createFile(chosen.name, {
              parent: target,
              ...(classification.value
                ? { metadata: { classification: classification.value } }
                : {}),
            })
            drive.addVersion(id, {
              blobId: stored.blobId,
              size: chosen.size,
              mimeType: chosen.type || 'application/octet-stream',
              fileKey: toBase64Url(stored.key),
            })
          })
          file.value = ''
          status.textContent = t('uploaded', { name: chosen.name })
          announce(status.textContent)
        } catch (err) {
          fail(err)
        }
      },
    },
    h('h2', { id: 'upload-h' }, t('uploadFile')),
    field(t('chooseFile'), file),
    field(t('classification'), classification),
    h('button', { type: 'submit', class: 'primary' }, t('upload')),
  )
  const folderName = h('input', { type: 'text', id: 'folder-name', autocomplete: 'off' })
  const newFolder = h(
    'form',
    {
      class: 'card',
      'aria-labelledby': 'folder-h',
      onsubmit: (e) => {
        e.preventDefault()
        if (!writable() || !folderName.value.trim()) return
        try {
          const target = folder === DRIVE_TRASH ? DRIVE_ROOT : folder
          drive.createFolder(folderName.value.trim(), { parent: target })
          folderName.value = ''
        } catch (err) {
          fail(err)
        }
      },
    },
    h('h2', { id: 'folder-h' }, t('newFolder')),
    field(t('folderName'), folderName),
    h('button', { type: 'submit' }, t('createFolder')),
  )
  body.append(
    h(
      'section',
      { 'aria-labelledby': 'files-h' },
      h('h2', { id: 'files-h' }, t('filesHeading')),
      field(t('searchFiles'), query),
      crumbs,
      list,
      status,
      error,
    ),
    h('div', { class: 'grid2' }, upload, newFolder),
  )
  draw()
}
