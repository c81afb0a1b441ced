import { readFileSync } from 'node:fs'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
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

const EDITOR = 3 // Role.Editor
const CANARIES = [
  'hemligt-protokoll',
  'budget-kanarie',
  'offline-kanarie',
  'efter-borttagning',
  'kommentar-kanarie',
]

let stack: Stack
let anna: User
let bo: User
let textDocUrl = ''

const editor = (page: Page) => page.getByRole('textbox', { name: /Dokumenttext|Document text/ })
/** The editor's document text without other members' cursor labels (y-prosemirror decorations). */
const documentText = (page: Page) =>
  editor(page).evaluate((el) => {
    const copy = el.cloneNode(true) as HTMLElement
    for (const c of copy.querySelectorAll('.ProseMirror-yjs-cursor')) c.remove()
    return copy.textContent
  })
const cell = (page: Page, a1: string) => page.locator(`input[data-cell="${a1}"]`)

/** Click an export button and return the downloaded file's text. */
async function downloaded(page: Page, button: string | RegExp): Promise<string> {
  const [file] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: button }).click(),
  ])
  return readFileSync(await file.path(), 'utf8')
}

async function setCell(page: Page, a1: string, input: string): Promise<void> {
  await cell(page, a1).click()
  await cell(page, a1).fill(input)
  await cell(page, a1).press('Enter')
}

beforeAll(async () => {
  stack = await startStack()
}, 120_000)

afterAll(async () => {
  await stack?.close()
})

describe('agency portal in headless Chromium against the real relay', () => {
  it('two users share a text document: typing and cursors appear for the other', async () => {
    const first = await stack.browser.newContext()
    const welcome = await first.newPage()
    await welcome.goto(stack.url)
    await welcome.locator('#create-h').waitFor()
    expect(await axeViolations(welcome)).toEqual([]) // identity creation and restore forms
    await first.close()
    anna = await newUser(stack, 'Anna')
    expect(await axeViolations(anna.page)).toEqual([])
    await createDoc(anna, 'text', 'Protokoll')
    textDocUrl = anna.page.url()
    const link = await inviteLink(anna, EDITOR)
    expect(link).toContain('#valv-invite')
    bo = await newUser(stack, 'Bo', link)
    await bo.page.getByRole('heading', { name: 'Protokoll', level: 1 }).waitFor()

    await editor(anna.page).click()
    await editor(anna.page).pressSequentially('hemligt-protokoll ')
    await expect
      .poll(() => editor(bo.page).textContent(), { timeout: 15_000 })
      .toContain('hemligt-protokoll')
    await editor(bo.page).click()
    await bo.page.keyboard.press('End')
    await bo.page.keyboard.type('Bo skriver')
    await expect
      .poll(() => editor(anna.page).textContent(), { timeout: 15_000 })
      .toContain('Bo skriver')
    // Bo's caret is drawn in Anna's editor with his name (awareness, sent encrypted).
    await expect
      .poll(
        async () =>
          (await anna.page.locator('.ProseMirror-yjs-cursor').allTextContents()).map((s) =>
            s.replace(/\u2060/g, ''),
          ),
        {
          timeout: 15_000,
        },
      )
      .toContain('Bo')

    await expect
      .poll(() => anna.page.getByTestId('presence').textContent())
      .toMatch(/Anna.*Bo|Bo.*Anna/)
    expect(await axeViolations(anna.page)).toEqual([])
    await shot(anna.page, 'agency-portal-two-users.png', true)
  }, 180_000)

  it('a formula edited by one user recalculates for both', async () => {
    await createDoc(anna, 'sheet', 'Budget')
    const link = await inviteLink(anna, EDITOR)
    await visit(bo.page, link)
    await bo.page.getByRole('heading', { name: 'Budget', level: 1 }).waitFor()
    await setCell(anna.page, 'A1', '2')
    await setCell(anna.page, 'A2', '3')
    await setCell(anna.page, 'A3', '=SUM(A1:A2)')
    await setCell(anna.page, 'B1', 'budget-kanarie')
    await expect.poll(() => cell(bo.page, 'A3').inputValue(), { timeout: 15_000 }).toBe('5')
    await setCell(bo.page, 'A1', '10')
    await expect.poll(() => cell(anna.page, 'A3').inputValue(), { timeout: 15_000 }).toBe('13')
    await expect.poll(() => cell(bo.page, 'A3').inputValue()).toBe('13')
    await cell(bo.page, 'B1').click()
    await bo.page.keyboard.press('ArrowDown') // keyboard navigation between rows
    expect(await bo.page.evaluate(() => document.activeElement?.getAttribute('data-cell'))).toBe(
      'B2',
    )
    expect(await axeViolations(bo.page)).toEqual([])
    await shot(anna.page, 'agency-portal-sheet.png')
    const csv = await downloaded(anna.page, /Exportera som CSV/)
    expect(csv.split(/\r?\n/).slice(0, 3)).toEqual([
      '10,budget-kanarie,,,,,,',
      '3,,,,,,,',
      '=SUM(A1:A2),,,,,,,', // formulas as typed, so the file imports back
    ])
  }, 120_000)

  it('an edit made offline survives closing the tab and merges when back online', async () => {
    await visit(bo.page, textDocUrl)
    await visit(anna.page, textDocUrl)
    await editor(bo.page).waitFor()
    await expect
      .poll(() => editor(bo.page).textContent(), { timeout: 15_000 })
      .toContain('Bo skriver')
    await bo.context.setOffline(true)
    await expect
      .poll(() => bo.page.getByTestId('sync-status').textContent())
      .toMatch(/Frånkopplad|Offline/)
    await editor(bo.page).click()
    await bo.page.keyboard.press('Control+End')
    await bo.page.keyboard.type(' offline-kanarie')
    await expect
      .poll(() => bo.page.getByTestId('sync-status').getAttribute('data-unsynced'))
      .not.toBe('0')
    await editor(anna.page).click()
    await anna.page.keyboard.press('Control+End')
    await anna.page.keyboard.type(' samtidigt')
    await new Promise((r) => setTimeout(r, 500))
    expect(await editor(anna.page).textContent()).not.toContain('offline-kanarie')
    // The tab is closed while offline: the edit lives only in Bo's encrypted IndexedDB queue.
    await bo.page.close()
    await bo.context.setOffline(false)
    bo.page = await bo.context.newPage()
    await visit(bo.page, textDocUrl)
    await expect
      .poll(() => editor(anna.page).textContent(), { timeout: 20_000 })
      .toContain('offline-kanarie')
    await expect
      .poll(() => editor(bo.page).textContent(), { timeout: 20_000 })
      .toContain('samtidigt')
    expect(await documentText(bo.page)).toBe(await documentText(anna.page))
  }, 120_000)

  it('an admin removes a member, who then cannot read new content', async () => {
    await anna.page.getByRole('button', { name: /^(Dela|Share)$/ }).click()
    expect(await axeViolations(anna.page)).toEqual([]) // the modal share dialog
    // Demote Bo to viewer: his editor turns read-only and says why.
    await anna.page.getByLabel(/Roll för Bo|Role of Bo/).selectOption('1')
    await expect
      .poll(() => bo.page.getByRole('alert').allTextContents(), { timeout: 15_000 })
      .toContainEqual(expect.stringMatching(/bara läsa|only read/))
    expect(await editor(bo.page).getAttribute('contenteditable')).toBe('false')
    await anna.page.getByRole('button', { name: /(Ta bort|Remove): Bo/ }).click()
    await expect
      .poll(() => anna.page.getByTestId('members').textContent(), { timeout: 15_000 })
      .not.toContain('Bo')
    await anna.page.getByRole('button', { name: /^(Stäng|Close)$/ }).click()
    await editor(anna.page).click()
    await anna.page.keyboard.press('Control+End')
    await anna.page.keyboard.type(' efter-borttagning')
    await expect
      .poll(() => bo.page.getByRole('alert').allTextContents(), { timeout: 15_000 })
      .toContainEqual(expect.stringMatching(/tagits bort|were removed/))
    await new Promise((r) => setTimeout(r, 1500))
    expect(await editor(bo.page).textContent()).not.toContain('efter-borttagning')
  }, 120_000)

  it('slides reorder, chat, version restore, comments and the English UI, with no axe findings', async () => {
    const page = anna.page
    await page.locator('#lang').selectOption('en')
    await expect.poll(() => page.locator('html').getAttribute('lang')).toBe('en')
    await createDoc(anna, 'slides', 'Plan')
    await page.getByRole('button', { name: 'New slide' }).click()
    await page.getByRole('textbox', { name: 'Text box 1' }).click()
    await page.keyboard.type('first slide')
    await page.getByRole('button', { name: 'New slide' }).click()
    await page.getByRole('textbox', { name: 'Text box 1' }).click()
    await page.keyboard.type('second slide')
    await page.getByRole('button', { name: 'Move down: Slide 1' }).press('Enter')
    await page.getByRole('button', { name: 'Slide 1', exact: true }).click()
    await expect
      .poll(() => page.getByRole('textbox', { name: 'Text box 1' }).textContent())
      .toBe('second slide')
    expect(await axeViolations(page)).toEqual([])

    await createDoc(anna, 'chat', 'Kanslichatt')
    await page.getByRole('textbox', { name: 'Message' }).fill('hej kansliet')
    await page.getByRole('textbox', { name: 'Message' }).press('Enter')
    await expect.poll(() => page.getByRole('log').textContent()).toContain('hej kansliet')
    expect(await axeViolations(page)).toEqual([])

    await visit(page, textDocUrl)
    await page.getByLabel('Version name').fill('Före granskning')
    await page.getByRole('button', { name: 'Save version' }).click()
    await editor(page).click()
    await page.keyboard.press('Control+End')
    await page.keyboard.type(' strykes')
    await expect.poll(() => editor(page).textContent()).toContain('strykes')
    await page.getByRole('button', { name: 'Restore: Före granskning' }).click()
    await expect.poll(() => editor(page).textContent()).not.toContain('strykes')
    expect(await editor(page).textContent()).toContain('efter-borttagning')

    await editor(page).locator('p').first().click({ clickCount: 3 })
    await page.getByLabel('Comment on the selected text').fill('kommentar-kanarie')
    await page.getByRole('button', { name: 'Comment on selection' }).click()
    const threads = page.getByTestId('threads')
    await expect.poll(() => threads.textContent()).toContain('Anna: kommentar-kanarie')
    expect(await threads.locator('blockquote').textContent()).toContain('hemligt-protokoll')
    expect(await axeViolations(page)).toEqual([])
    await shot(page, 'agency-portal-comments.png', true)
    expect(await downloaded(page, 'Export as Markdown')).toContain('hemligt-protokoll Bo skriver')
  }, 120_000)

  it("the relay's store holds none of the text typed in the browsers", () => {
    const stored = readAll(stack.dataDir)
    expect(stored.length).toBeGreaterThan(1000)
    for (const canary of [
      ...CANARIES,
      'Anna',
      'Protokoll',
      'Budget',
      'first slide',
      'hej kansliet',
    ]) {
      expect(stored.includes(Buffer.from(canary)), canary).toBe(false)
    }
  })
})
