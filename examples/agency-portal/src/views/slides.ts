import { Presentation } from '@valv/models/slides'
import type { OpenDocument } from '../documents.js'
import { h } from '../dom.js'
import { mountEditor } from '../editor.js'
import { t } from '../i18n.js'
import { onDispose } from '../lifecycle.js'

/** Slides in order with move up/down (keyboard-friendly reordering) and text boxes per slide. */
export function renderSlides(open: OpenDocument, body: HTMLElement): void {
  const deck = new Presentation(open.doc)
  let selected: string | undefined
  const list = h('ol', { class: 'slides', 'aria-label': t('slidesList') })
  const stage = h('section', { class: 'stage', 'aria-live': 'off' })
  const canWrite = () => open.session.canWrite()

  let drawn = ''
  const editors: (() => void)[] = []
  const drawStage = () => {
    const ids = deck.slideIds()
    if (selected === undefined || !ids.includes(selected)) selected = ids[0]
    const slideId = selected
    const boxes =
      slideId === undefined
        ? []
        : deck.elementIds(slideId).filter((id) => deck.getElement(slideId, id).kind === 'text')
    // Rebuild only when the slide or its text boxes change, so typing never loses focus.
    const key = `${slideId}:${ids.indexOf(slideId ?? '')}:${boxes.join(',')}:${canWrite()}`
    if (key === drawn) return
    drawn = key
    for (const destroy of editors.splice(0)) destroy()
    if (slideId === undefined) return void stage.replaceChildren(h('p', {}, t('noSlides')))
    stage.replaceChildren(
      h('h2', {}, t('slideN', { n: ids.indexOf(slideId) + 1 })),
      h(
        'div',
        { class: 'slide-canvas' },
        ...boxes.map((id, i) =>
          h(
            'div',
            { class: 'text-box' },
            mountEditor(deck.text(slideId, id), {
              label: t('textBoxN', { n: i + 1 }),
              editable: canWrite,
              awareness: open.provider.awareness,
              track: (destroy) => editors.push(destroy),
              subscribe: (update) => open.session.onChange(update),
            }),
          ),
        ),
      ),
      h(
        'button',
        {
          type: 'button',
          disabled: !canWrite(),
          onclick: () => {
            deck.addElement(
              slideId,
              { kind: 'text' },
              { x: 40, y: 40 + boxes.length * 80, width: 600, height: 60 },
            )
          },
        },
        t('addTextBox'),
      ),
    )
  }

  const drawList = () => {
    const ids = deck.slideIds()
    list.replaceChildren(
      ...ids.map((id, i) =>
        h(
          'li',
          { class: id === selected ? 'current' : '' },
          h(
            'button',
            {
              type: 'button',
              'aria-current': id === selected ? 'true' : undefined,
              onclick: () => {
                selected = id
                drawList()
                drawStage()
              },
            },
            t('slideN', { n: i + 1 }),
          ),
          h(
            'button',
            {
              type: 'button',
              disabled: !canWrite() || i === 0,
              'aria-label': `${t('moveUp')}: ${t('slideN', { n: i + 1 })}`,
              onclick: () => deck.moveSlide(id, i - 1),
            },
            '↑',
          ),
          h(
            'button',
            {
              type: 'button',
              disabled: !canWrite() || i === ids.length - 1,
              'aria-label': `${t('moveDown')}: ${t('slideN', { n: i + 1 })}`,
              onclick: () => deck.moveSlide(id, i + 1),
            },
            '↓',
          ),
        ),
      ),
    )
  }

  onDispose(
    deck.observe((e) => {
      if (e.type !== 'slide-changed') drawList()
      drawStage()
    }),
  )
  onDispose(() => deck.destroy())
  const add = h(
    'button',
    {
      type: 'button',
      disabled: !canWrite(),
      onclick: () => {
        const id = deck.addSlide()
        deck.addElement(id, { kind: 'text' }, { x: 40, y: 40, width: 600, height: 60 })
        selected = id
        drawList()
        drawStage()
      },
    },
    t('addSlide'),
  )
  onDispose(() => {
    for (const destroy of editors.splice(0)) destroy()
  })
  body.append(
    h(
      'div',
      { class: 'slides-layout' },
      h('nav', { 'aria-label': t('slidesList') }, list, add),
      stage,
    ),
  )
  drawList()
  drawStage()
}
