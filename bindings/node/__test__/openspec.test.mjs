// OpenSpec folders from Node: list, show and validate, parsed off the JS thread.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as ts from '../index.mjs'

function workspace() {
  const dir = mkdtempSync(join(tmpdir(), 'twinsync-openspec-'))
  const change = join(dir, 'openspec', 'changes', 'add-login')
  mkdirSync(change, { recursive: true })
  mkdirSync(join(dir, 'openspec', 'specs', 'auth'), { recursive: true })
  writeFileSync(join(change, 'proposal.md'), '# Add login\n\n## Why\nUsers need accounts.\n\n## What Changes\n- **auth:** add a login form\n')
  writeFileSync(join(change, 'tasks.md'), '## 1. Build\n- [x] 1.1 Form\n- [ ] 1.2 Session\n')
  writeFileSync(
    join(dir, 'openspec', 'specs', 'auth', 'spec.md'),
    '# auth Specification\n\n## Purpose\nSign users in.\n\n## Requirements\n### Requirement: Login\nThe system SHALL let users sign in.\n\n#### Scenario: Good password\n- **WHEN** the password matches\n- **THEN** the user is signed in\n',
  )
  return dir
}

test('openspecList, openspecShow and openspecValidate answer as the OpenSpec CLI', async () => {
  const dir = workspace()
  try {
    const pending = ts.openspecList(join(dir, 'openspec', 'changes'))
    assert.ok(pending instanceof Promise)
    const list = await pending
    assert.equal(list.changes.length, 1)
    assert.deepEqual([list.changes[0].name, list.changes[0].completedTasks, list.changes[0].totalTasks], ['add-login', 1, 2])
    const specs = await ts.openspecList(dir, { specs: true })
    assert.match(JSON.stringify(specs), /"auth"/)
    const shown = await ts.openspecShow(dir, 'add-login', { type: 'change' })
    assert.match(JSON.stringify(shown), /add-login/)
    const v = await ts.openspecValidate(dir)
    assert.equal(typeof v.valid, 'boolean')
    await assert.rejects(ts.openspecShow(dir, 'nope'), (e) => e instanceof ts.NotFoundError && /nope/.test(e.message))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  const empty = mkdtempSync(join(tmpdir(), 'twinsync-openspec-'))
  try {
    await assert.rejects(ts.openspecList(empty), (e) => e instanceof ts.NotFoundError && /openspec/.test(e.message))
  } finally {
    rmSync(empty, { recursive: true, force: true })
  }
})

test('openspecSync previews, then copies the folder into .twinsync/openspec.db', async () => {
  const dir = workspace()
  try {
    const pending = ts.openspecSync(dir, { dryRun: true })
    assert.ok(pending instanceof Promise)
    const preview = await pending
    assert.equal(preview.mode, 'preview')
    assert.deepEqual(preview.rows.map((r) => r.id).sort(), ['add-login', 'auth'])
    const synced = await ts.openspecSync(dir, { policy: 'merge' })
    assert.equal(synced.mode, 'synced')
    assert.equal(synced.report.policy, 'merge')
    assert.deepEqual(synced.report.items.map((i) => [i.id, i.outcome]).sort(), [['add-login', 'created'], ['auth', 'created']])
    const again = await ts.openspecSync(dir)
    assert.deepEqual(again.report.items, [])
    await assert.rejects(ts.openspecSync(dir, { policy: 'yolo' }), (e) => e instanceof ts.InvalidInputError && /yolo/.test(e.message))
    await assert.rejects(ts.openspecSync(dir, { change: 'nope' }), (e) => e instanceof ts.NotFoundError && /nope/.test(e.message))
    // The lifecycle status from outside.
    const row = await ts.openspecSetStatus(dir, 'add-login', 'approved')
    assert.deepEqual([row.id, row.status], ['add-login', 'approved'])
    const spec = await ts.openspecSetStatus(dir, 'auth', 'review', { type: 'spec' })
    assert.deepEqual([spec.type, spec.status], ['spec', 'review'])
    await assert.rejects(ts.openspecSetStatus(dir, 'add-login', 'done'), (e) => e instanceof ts.InvalidInputError && /done/.test(e.message))
    await assert.rejects(ts.openspecSetStatus(dir, 'nope', 'approved'), (e) => e instanceof ts.NotFoundError && /nope/.test(e.message))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
