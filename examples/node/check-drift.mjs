#!/usr/bin/env node
// Fail CI when design and code have drifted apart.
//
//   node examples/node/check-drift.mjs [project-dir]
//
// Opens the twinsync project (the folder with .twinsync/, or a subfolder of it),
// scans both sides, prints what drifted, writes a JSON report for the CI artifacts
// when TWINSYNC_REPORT is set, and exits 1 on drift (2 on conflicts) so the job fails.
import { writeFileSync } from 'node:fs'
import { open, TwinsyncError } from 'twinsync'

const dir = process.argv[2] ?? '.'
try {
  const project = await open(dir)
  const drift = await project.status()
  if (process.env.TWINSYNC_REPORT) writeFileSync(process.env.TWINSYNC_REPORT, JSON.stringify(drift, null, 2))
  if (drift.items.length === 0) {
    console.log(`twinsync: ${drift.in_sync} items in sync`)
    process.exit(0)
  }
  for (const item of drift.items) console.log(`${item.class.padEnd(24)} ${item.key}`)
  const conflicts = drift.items.filter((i) => i.class.startsWith('conflict_')).length
  console.log(`twinsync: ${drift.items.length} drifted (${conflicts} in conflict), ${drift.in_sync} in sync`)
  console.log('run `twinsync sync` (or `twinsync sync --dry-run` to see the plan) and commit the result')
  process.exit(conflicts > 0 ? 2 : 1)
} catch (e) {
  if (!(e instanceof TwinsyncError)) throw e
  console.error(`twinsync: ${e.code}: ${e.message}`)
  process.exit(3)
}
