import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'
import { sourceAliases } from '../vite-aliases.js'

const here = dirname(fileURLToPath(import.meta.url))

export default defineConfig({
  root: here,
  resolve: {
    alias: [
      ...sourceAliases(resolve(here, '../../packages')),
      // y-monaco 0.1.6 imports this deep path, which monaco-editor 0.58's exports map hides.
      {
        find: /^monaco-editor\/esm\/vs\/(.*)$/,
        replacement: 'monaco-editor/$1',
      },
    ],
    // One copy each: two copies of yjs or prosemirror-model break every binding silently.
    dedupe: [
      'yjs',
      'lib0',
      'y-protocols',
      'prosemirror-model',
      'prosemirror-state',
      'prosemirror-view',
      'prosemirror-transform',
    ],
  },
  worker: { format: 'es' },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 5000 },
  server: { host: '127.0.0.1' },
})
