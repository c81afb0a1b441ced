import { type MemberInfo, PublicCard, Role } from '@valv/crypto'
import { INVITE_SEPARATOR, type OpenDocument } from '../documents.js'
import { field, h } from '../dom.js'
import { t } from '../i18n.js'

const ROLE_LABEL = {
  [Role.Admin]: 'roleAdmin',
  [Role.Editor]: 'roleEditor',
  [Role.Commenter]: 'roleCommenter',
  [Role.Viewer]: 'roleViewer',
  [Role.None]: 'roleRemoved',
} as const

function roleSelect(id: string): HTMLSelectElement {
  return h(
    'select',
    { id },
    ...[Role.Editor, Role.Commenter, Role.Viewer, Role.Admin].map((r) =>
      h('option', { value: String(r) }, t(ROLE_LABEL[r])),
    ),
  )
}

/**
 * Apply a membership change to the text's comments document too, where this user administers
 * it and the person is a member, so a role means the same in both.
 */
async function alsoInComments(
  comments: OpenDocument | undefined,
  userId: string,
  fn: (c: OpenDocument) => Promise<void>,
): Promise<void> {
  if (comments === undefined || comments.session.role !== Role.Admin) return
  if (!comments.session.members().some((m) => m.userId === userId && m.role !== Role.None)) return
  await fn(comments)
}

function memberList(
  open: OpenDocument,
  error: HTMLElement,
  comments: OpenDocument | undefined,
): HTMLElement {
  const list = h('ul', { class: 'members', 'data-testid': 'members' })
  const isAdmin = open.session.role === Role.Admin
  const seen = new Set<string>()
  const rows = open.session.members().filter((m: MemberInfo) => {
    // One row per person: a user with several devices appears once.
    const key = m.userId ?? String(m.index)
    if (m.role === Role.None || seen.has(key)) return false
    seen.add(key)
    return true
  })
  for (const m of rows) {
    const name = m.displayName || m.userId?.slice(0, 8) || '?'
    const remove =
      isAdmin && !m.self && m.userId
        ? h(
            'button',
            {
              type: 'button',
              class: 'danger',
              onclick: async () => {
                if (!confirm(t('removeConfirm', { name }))) return
                try {
                  const userId = m.userId as string
                  await open.session.unshare(userId)
                  await alsoInComments(comments, userId, (c) => c.session.unshare(userId))
                  list.replaceWith(memberList(open, error, comments))
                } catch (err) {
                  error.textContent = t('error', { message: (err as Error).message })
                }
              },
            },
            `${t('remove')}: ${name}`,
          )
        : null
    const roleLabel = t(ROLE_LABEL[m.role as keyof typeof ROLE_LABEL])
    let role: HTMLElement = h('span', {}, ` – ${roleLabel}`)
    if (isAdmin && !m.self && m.userId) {
      const select = roleSelect(`role-${m.index}`)
      select.value = String(m.role)
      select.setAttribute('aria-label', t('roleOf', { name }))
      select.addEventListener('change', async () => {
        try {
          const userId = m.userId as string
          const next = Number(select.value) as Role
          await open.session.setRole(userId, next)
          await alsoInComments(comments, userId, (c) => c.session.setRole(userId, next))
          list.replaceWith(memberList(open, error, comments))
        } catch (err) {
          error.textContent = t('error', { message: (err as Error).message })
        }
      })
      role = select
    }
    list.append(
      h('li', {}, h('span', {}, `${name} ${m.self ? t('you') : ''}`), ' ', role, ' ', remove),
    )
  }
  return list
}

function inviteForm(
  open: OpenDocument,
  error: HTMLElement,
  comments: OpenDocument | undefined,
): HTMLElement {
  const role = roleSelect('invite-role')
  const single = h('input', { type: 'checkbox', id: 'invite-single', checked: true })
  const expires = h(
    'select',
    { id: 'invite-expires' },
    h('option', { value: String(24 * 3600) }, t('hours24')),
    h('option', { value: String(7 * 24 * 3600) }, t('days7')),
    h('option', { value: '0' }, t('never')),
  )
  const out = h('input', { type: 'text', readonly: true, id: 'invite-link' })
  const outField = field(t('inviteLink'), out)
  outField.hidden = true
  return h(
    'form',
    {
      onsubmit: async (e) => {
        e.preventDefault()
        try {
          const seconds = Number(expires.value)
          const options = {
            role: Number(role.value) as Role,
            singleUse: single.checked,
            ...(seconds > 0 ? { expiresAt: new Date(Date.now() + seconds * 1000) } : {}),
          }
          // The same role in the comments document, where a commenter may write.
          const [main, second] = await Promise.all([
            open.session.createInviteLink(options),
            comments?.session.role === Role.Admin
              ? comments.session.createInviteLink(options)
              : undefined,
          ])
          let fragment = main
          if (second !== undefined) {
            fragment += `${INVITE_SEPARATOR}${second.slice(second.indexOf('#') + 1)}`
          }
          out.value = `${location.origin}${location.pathname}${fragment}`
          outField.hidden = false
          out.select()
        } catch (err) {
          error.textContent = t('error', { message: (err as Error).message })
        }
      },
    },
    h('h3', {}, t('createInvite')),
    field(t('role'), role),
    field(t('expires'), expires),
    h('div', { class: 'check' }, single, h('label', { for: 'invite-single' }, t('singleUse'))),
    h('button', { type: 'submit', class: 'primary' }, t('createInvite')),
    outField,
  )
}

function cardForm(
  open: OpenDocument,
  error: HTMLElement,
  refresh: () => void,
  comments: OpenDocument | undefined,
): HTMLElement {
  const card = h('textarea', { rows: 3, id: 'share-card' })
  const role = roleSelect('share-role')
  return h(
    'form',
    {
      onsubmit: async (e) => {
        e.preventDefault()
        try {
          const who = PublicCard.parse(card.value.trim())
          await open.session.share(who, Number(role.value) as Role)
          if (comments?.session.role === Role.Admin) {
            await comments.session.share(who, Number(role.value) as Role)
          }
          card.value = ''
          refresh()
        } catch (err) {
          error.textContent = t('error', { message: (err as Error).message })
        }
      },
    },
    h('h3', {}, t('shareWithCard')),
    field(t('card'), card),
    field(t('role'), role),
    h('button', { type: 'submit' }, t('add')),
  )
}

/**
 * A modal dialog: members (admins can remove them), invite links and sharing by public card.
 * For a text document, `comments` is its comments document: every change applies to both.
 */
export function openShareDialog(
  open: OpenDocument,
  opener: HTMLElement,
  comments?: OpenDocument,
): void {
  const error = h('p', { role: 'alert', class: 'error' })
  const isAdmin = open.session.role === Role.Admin
  const dialog = h('dialog', { 'aria-labelledby': 'share-h', class: 'share' })
  let members = memberList(open, error, comments)
  const refresh = () => {
    const next = memberList(open, error, comments)
    members.replaceWith(next)
    members = next
  }
  const close = () => {
    dialog.close()
    dialog.remove()
    opener.focus()
  }
  dialog.append(h('h2', { id: 'share-h' }, t('share')), h('h3', {}, t('members')), members, error)
  if (isAdmin) {
    dialog.append(inviteForm(open, error, comments), cardForm(open, error, refresh, comments))
  }
  dialog.append(h('button', { type: 'button', onclick: close }, t('close')))
  dialog.addEventListener('close', () => {
    dialog.remove()
    opener.focus()
  })
  document.body.append(dialog)
  dialog.showModal()
}
