import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { defineConfig, loadEnv } from 'vite'
import { cspPlugin, relaySources } from '../csp.js'
import { sourceAliases } from '../vite-aliases.js'

const here = dirname(fileURLToPath(import.meta.url))

// Outside this monorepo a plain `vite` with no config is enough (add a CSP as ../csp.ts does).
export default defineConfig(({ mode }) => ({
  root: here,
  resolve: { alias: sourceAliases(resolve(here, '../../packages')), dedupe: ['yjs', 'lib0'] },
  // Strict CSP: scripts only from this origin, connections only to the relay (a loopback one
  // unless VITE_VALV_RELAY_URL names it).
  plugins: [cspPlugin({ relays: relaySources(loadEnv(mode, here, ['VITE_', 'VALV_'])) })],
  server: { host: '127.0.0.1' },
}))
