import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { defineConfig, loadEnv } from 'vite'
import { cspPlugin, relaySources } from '../csp.js'
import { sourceAliases } from '../vite-aliases.js'

const here = dirname(fileURLToPath(import.meta.url))

export default defineConfig(({ mode }) => ({
  root: here,
  resolve: {
    alias: sourceAliases(resolve(here, '../../packages')),
    dedupe: ['yjs', 'lib0', 'y-protocols', 'y-prosemirror'],
  },
  // Strict CSP (no inline script, no eval; connections only to the relay): see ../csp.ts.
  plugins: [cspPlugin({ relays: relaySources(loadEnv(mode, here, ['VITE_', 'VALV_'])) })],
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 2000 },
  server: { host: '127.0.0.1' },
}))
