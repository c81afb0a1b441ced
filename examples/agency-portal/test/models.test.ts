import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocketServer } from 'ws'
import {
  axeViolations,
  createDoc,
  inviteLink,
  newUser,
  readAll,
  type Stack,
  shot,
  startStack,
  type User,
  visit,
} from './portal.js'

// The portal on Valv's own models, two users in two Chromium contexts through one real relay:
// chat (Chat), shared files (Drive + uploadFile/downloadFile), comments (Comments), sheet rows
// and columns (Sheet), cross-tab sync (BroadcastProvider) and the relay URL from config only.

const EDITOR = 3 // Role.Editor
const COMMENTER = 2 // Role.Commenter
let stack: Stack
let anna: User
let bo: User

const editor = (page: Page) => page.getByRole('textbox', { name: /Dokumenttext|Document text/ })
const cell = (page: Page, a1: string) => page.locator(`input[data-cell="${a1}"]`)
const status = (page: Page) => page.getByTestId('sync-status').textContent()

/** Anna creates a document of `kind` and Bo joins it with `role` (default editor). */
async function shared(kind: string, title: string, role = EDITOR): Promise<void> {
  await createDoc(anna, kind, title)
  const link = await inviteLink(anna, role)
  // A link that differs from the current URL only in its fragment would not reload the page.
  await bo.page.goto('about:blank')
  await visit(bo.page, link)
  await bo.page.getByRole('heading', { name: title, level: 1 }).waitFor({ timeout: 30_000 })
}

async function setCell(page: Page, a1: string, input: string): Promise<void> {
  await cell(page, a1).click()
  await cell(page, a1).fill(input)
  await cell(page, a1).press('Enter')
}

/** Every cell's shown value, row by row (what the user sees). */
const gridValues = (page: Page) =>
  page
    .locator('table.sheet tbody tr')
    .evaluateAll((rows) =>
      rows.map((r) => [...r.querySelectorAll('input')].map((i) => (i as HTMLInputElement).value)),
    )

beforeAll(async () => {
  stack = await startStack()
  anna = await newUser(stack, 'Anna')
  bo = await newUser(stack, 'Bo')
}, 180_000)

afterAll(async () => {
  await stack?.close()
})

describe('the portal on the models of @valv/models', () => {
  it('chat: a message reaches the other member under the name from the membership', async () => {
    await shared('chat', 'Kanslichatt')
    await bo.page.getByRole('textbox', { name: /Meddelande|Message/ }).fill('hej från Bo')
    await bo.page.getByRole('textbox', { name: /Meddelande|Message/ }).press('Enter')
    const annaLog = anna.page.getByRole('log')
    await expect.poll(() => annaLog.textContent(), { timeout: 15_000 }).toContain('hej från Bo')
    // The author shown is Bo's certified name, looked up by his member id.
    expect(await annaLog.locator('li strong').allTextContents()).toEqual(['Bo'])
    await anna.page.getByRole('textbox', { name: /Meddelande|Message/ }).fill('chatt-kanarie')
    await anna.page.getByRole('textbox', { name: /Meddelande|Message/ }).press('Enter')
    const boLog = bo.page.getByRole('log')
    await expect
      .poll(() => boLog.locator('li strong').allTextContents(), { timeout: 15_000 })
      .toEqual(['Bo', 'Anna'])
    expect(await axeViolations(bo.page)).toEqual([])
    await shot(bo.page, 'agency-portal-chat.png')
    // Anna redacts her message: Bo sees the tombstone, not the text.
    await anna.page.getByRole('button', { name: /Ta bort meddelandet|Remove message/ }).click()
    await expect
      .poll(() => boLog.textContent(), { timeout: 15_000 })
      .toMatch(/meddelandet är borttaget|message removed/)
    expect(await boLog.textContent()).not.toContain('chatt-kanarie')
    // Bo cannot redact Anna's message; only his own.
    expect(await bo.page.getByRole('button', { name: /Ta bort meddelandet/ }).count()).toBe(1)
  }, 120_000)

  it('files: an upload is encrypted, listed for the other member and downloads byte-identical', async () => {
    await shared('files', 'Delade filer')
    // 300 KiB of random bytes: more than one 256 KiB chunk on the wire.
    const content = randomBytes(300 * 1024)
    await anna.page.locator('#file-input').setInputFiles({
      name: 'beslut.bin',
      mimeType: 'application/octet-stream',
      buffer: content,
    })
    await anna.page.locator('#file-class').selectOption('confidential')
    await anna.page.getByRole('button', { name: /^(Ladda upp|Upload)$/ }).click()
    await expect
      .poll(() => anna.page.getByTestId('files-status').textContent(), { timeout: 30_000 })
      .toMatch(/uppladdad|uploaded/)
    const boFiles = bo.page.getByTestId('files')
    await expect.poll(() => boFiles.textContent(), { timeout: 15_000 }).toContain('beslut.bin')
    expect(await boFiles.textContent()).toMatch(/Sekretess|Confidential/)
    expect(await boFiles.textContent()).toContain('Anna') // the owner, by name
    const [download] = await Promise.all([
      bo.page.waitForEvent('download', { timeout: 30_000 }),
      bo.page.getByRole('button', { name: /(Ladda ner|Download): beslut\.bin/ }).click(),
    ])
    expect(download.suggestedFilename()).toBe('beslut.bin')
    const got = readFileSync(await download.path())
    expect(got.equals(content)).toBe(true)
    // The relay stored the file, but only as ciphertext.
    const stored = readAll(stack.dataDir)
    expect(stored.includes(content.subarray(1000, 1064))).toBe(false)
    expect(stored.includes(Buffer.from('beslut.bin'))).toBe(false)

    // Folders, moves, search and trash, all in the encrypted Drive.
    await bo.page.locator('#folder-name').fill('Protokoll 2026')
    await bo.page.getByRole('button', { name: /Skapa mapp|Create folder/ }).click()
    await expect
      .poll(() => anna.page.getByTestId('files').textContent(), { timeout: 15_000 })
      .toContain('Protokoll 2026')
    await anna.page
      .getByLabel(/Flytta beslut\.bin till|Move beslut\.bin to/)
      .selectOption({ label: 'Protokoll 2026' })
    await expect.poll(() => boFiles.textContent(), { timeout: 15_000 }).not.toContain('beslut.bin')
    await bo.page.getByLabel(/Sök bland filerna|Search the files/).fill('besl')
    await expect.poll(() => boFiles.textContent()).toContain('beslut.bin')
    expect(await axeViolations(bo.page)).toEqual([])
    await shot(bo.page, 'agency-portal-files.png')
    await bo.page.getByRole('button', { name: /(Släng|Trash): beslut\.bin/ }).click()
    await expect.poll(() => boFiles.textContent()).not.toContain('beslut.bin')
    await bo.page.getByLabel(/Sök bland filerna|Search the files/).fill('')
    await bo.page.getByRole('button', { name: /^(Papperskorg|Trash)$/ }).click()
    await expect.poll(() => boFiles.textContent()).toContain('beslut.bin')
    // Deleted for good: the node leaves the drive and the ciphertext leaves the relay's store.
    const storedBefore = readAll(stack.dataDir).length
    await bo.page.getByRole('button', { name: /(Radera för gott|Delete for good): beslut/ }).click()
    await expect
      .poll(() => bo.page.getByTestId('files-status').textContent(), { timeout: 15_000 })
      .toMatch(/raderad|deleted/)
    expect(await boFiles.textContent()).not.toContain('beslut.bin')
    expect(readAll(stack.dataDir).length).toBeLessThan(storedBefore - 300 * 1024)
  }, 150_000)

  it('comments: a commenter, who cannot edit the text, comments and the author sees it', async () => {
    await shared('text', 'Remiss', COMMENTER)
    await editor(anna.page).click()
    await editor(anna.page).pressSequentially('remissvar om budgeten')
    await expect
      .poll(() => editor(bo.page).textContent(), { timeout: 15_000 })
      .toContain('remissvar om budgeten') // all of it, before Bo selects the paragraph
    // Bo's role in the text is Commenter: the editor is read-only for him…
    expect(await editor(bo.page).getAttribute('contenteditable')).toBe('false')
    // …but the comments live in their own document, where commenters write.
    await editor(bo.page).locator('p').first().click({ clickCount: 3 })
    await bo.page.getByLabel(/Kommentar till markerad text|Comment on the selected/).fill('ok?')
    await bo.page
      .getByRole('button', { name: /Kommentera markeringen|Comment on selection/ })
      .click()
    const threads = anna.page.getByTestId('threads')
    await expect.poll(() => threads.textContent(), { timeout: 15_000 }).toContain('Bo: ok?')
    expect(await threads.locator('blockquote').textContent()).toContain('remissvar om budgeten')
    await anna.page.getByRole('button', { name: /Markera som löst|Mark as resolved/ }).click()
    await expect
      .poll(() => bo.page.getByTestId('threads').textContent(), { timeout: 15_000 })
      .toMatch(/Löst|Resolved/)
    expect(await editor(anna.page).textContent()).toBe('remissvar om budgeten')
    expect(await axeViolations(bo.page)).toEqual([])
  }, 120_000)

  it('sheet: rows and columns inserted by both users converge', async () => {
    await shared('sheet', 'Rader')
    await setCell(anna.page, 'A1', 'första')
    await setCell(anna.page, 'A2', 'andra')
    await setCell(anna.page, 'B1', '=A1')
    await expect.poll(() => cell(bo.page, 'A2').inputValue(), { timeout: 15_000 }).toBe('andra')
    // Bo inserts a row above row 1 while Anna inserts a column left of A.
    await cell(bo.page, 'A1').click()
    await bo.page.getByRole('button', { name: /Infoga rad ovanför|Insert row above/ }).click()
    await cell(anna.page, 'A1').click()
    await anna.page
      .getByRole('button', { name: /Infoga kolumn till vänster|Insert column left/ })
      .click()
    for (const page of [anna.page, bo.page]) {
      await expect.poll(() => cell(page, 'B2').inputValue(), { timeout: 15_000 }).toBe('första')
      expect(await cell(page, 'B3').inputValue()).toBe('andra')
      expect(await cell(page, 'C2').inputValue()).toBe('första') // =A1 followed its row
      expect(await cell(page, 'A1').inputValue()).toBe('')
    }
    expect(await gridValues(bo.page)).toEqual(await gridValues(anna.page))
    expect(await anna.page.locator('table.sheet tbody tr').count()).toBe(21)
    await cell(anna.page, 'B3').click()
    await anna.page.getByRole('button', { name: /Ta bort raden|Delete row/ }).click()
    await expect.poll(() => cell(bo.page, 'B3').inputValue(), { timeout: 15_000 }).not.toBe('andra')
    expect(await gridValues(bo.page)).toEqual(await gridValues(anna.page))
    expect(await axeViolations(anna.page)).toEqual([])
  }, 120_000)

  it('cross-tab: two tabs of one profile converge with the relay stopped', async () => {
    await createDoc(anna, 'text', 'Flikar')
    const url = anna.page.url()
    const second = await anna.context.newPage()
    await visit(second, url)
    await editor(second).waitFor()
    await expect.poll(() => status(second), { timeout: 15_000 }).toMatch(/Ansluten|Connected/)
    await stack.stopRelay?.()
    try {
      await expect.poll(() => status(anna.page), { timeout: 15_000 }).not.toMatch(/Ansluten/)
      await expect.poll(() => status(second), { timeout: 15_000 }).not.toMatch(/Ansluten/)
      await editor(anna.page).click()
      await anna.page.keyboard.type('flik-ett ')
      await expect
        .poll(() => editor(second).textContent(), { timeout: 15_000 })
        .toContain('flik-ett')
      await editor(second).click()
      await second.keyboard.press('Control+End')
      await second.keyboard.type('flik-två')
      await expect
        .poll(() => editor(anna.page).textContent(), { timeout: 15_000 })
        .toContain('flik-två')
      expect(await editor(anna.page).textContent()).toBe(await editor(second).textContent())
    } finally {
      await stack.startRelay?.()
      await second.close()
    }
  }, 120_000)

  it('a ?relay= parameter in the URL is ignored: the relay comes from configuration only', async () => {
    // A server an attacker's link would point at; it must never see a connection.
    const evil = new WebSocketServer({ port: 0, host: '127.0.0.1' })
    await new Promise((ok) => evil.once('listening', ok))
    let attempts = 0
    evil.on('connection', (ws) => {
      attempts++
      ws.close()
    })
    const evilUrl = `ws://127.0.0.1:${(evil.address() as { port: number }).port}`
    try {
      const eva = await newUser(stack, 'Eva', `${stack.url}?relay=${encodeURIComponent(evilUrl)}`)
      const docId = await createDoc(eva, 'text', 'Nätfiske')
      await visit(eva.page, `${stack.url}?doc=${docId}&relay=${encodeURIComponent(evilUrl)}`)
      await expect.poll(() => status(eva.page), { timeout: 20_000 }).toMatch(/Ansluten|Connected/)
      await editor(eva.page).click()
      await eva.page.keyboard.type('via rätt relä')
      await expect
        .poll(() => eva.page.getByTestId('sync-status').getAttribute('data-unsynced'))
        .toBe('0')
      expect(attempts).toBe(0)
      await eva.context.close()
    } finally {
      await new Promise((ok) => evil.close(ok))
    }
  }, 120_000)
})
