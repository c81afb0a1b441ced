/**
 * Office document models on Yjs. Each model is a typed view over plain Yjs types, so it works on
 * any `Y.Doc` and therefore through Valv's encrypted sync unchanged.
 *
 * @packageDocumentation
 */

export * from './chat/index.js'
export * from './comments/index.js'
export * from './drive/index.js'
export * from './richtext/index.js'
export * from './sheet/index.js'
export * from './slides/index.js'
export * from './undo/index.js'
export * from './versions/index.js'
