#!/usr/bin/env node
/**
 * `valv-postgres-migrate`: create or upgrade the Valv tables as a deployment step.
 *
 *     DATABASE_URL=postgres://owner@db/valv valv-postgres-migrate --schema valv --table-prefix valv_
 *
 * Exits 0 and prints the installed schema version, or exits 1 with the error's code.
 */
import { parseArgs } from 'node:util'
import { StorageError } from '@valv/storage'
import { migratePostgres } from './migrate-cli.js'

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    schema: { type: 'string' },
    'table-prefix': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
})
if (values.help) {
  console.log(
    'usage: valv-postgres-migrate [--url postgres://…] [--schema name] [--table-prefix prefix]',
  )
  console.log('       (the URL defaults to $DATABASE_URL)')
  process.exit(0)
}
const connectionString = values.url ?? process.env.DATABASE_URL
try {
  const version = await migratePostgres({
    ...(connectionString === undefined ? {} : { connectionString }),
    ...(values.schema === undefined ? {} : { schema: values.schema }),
    ...(values['table-prefix'] === undefined ? {} : { tablePrefix: values['table-prefix'] }),
  })
  console.log(`valv storage schema version ${version}`)
} catch (error) {
  // The message never contains credentials: pg reports host and SQLSTATE only.
  console.error(error instanceof StorageError ? `${error.code}: ${error.message}` : String(error))
  process.exit(1)
}
