import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'
import { sourceAliases } from '../vite-aliases.js'

const here = dirname(fileURLToPath(import.meta.url))

export default defineConfig({
  root: here,
  resolve: {
    alias: sourceAliases(resolve(here, '../../packages')),
    dedupe: ['yjs', 'lib0', 'y-protocols', 'y-prosemirror'],
  },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 2000 },
  server: { host: '127.0.0.1' },
})
