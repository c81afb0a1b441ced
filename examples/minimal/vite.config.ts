import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'
import { sourceAliases } from '../vite-aliases.js'

const here = dirname(fileURLToPath(import.meta.url))

// Outside this monorepo a plain `vite` with no config is enough.
export default defineConfig({
  root: here,
  resolve: { alias: sourceAliases(resolve(here, '../../packages')), dedupe: ['yjs', 'lib0'] },
  server: { host: '127.0.0.1' },
})
