// The parity suite: named pairs, events, watch, design pairs, the OpenSpec database,
// credentials and test sessions, on a copy of the shared fixture project
// (bindings/fixtures), doing and expecting what bindings/fixtures/parity.json says:
// the Python and Kotlin suites read the same file.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { cpSync, mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as ts from '../index.mjs'

const fixtures = new URL('../../fixtures/', import.meta.url).pathname
const spec = JSON.parse(readFileSync(join(fixtures, 'parity.json'), 'utf8'))

/** A fresh copy of the fixture project, and the project opened in it. */
async function fixture() {
  const dir = mkdtempSync(join(tmpdir(), 'twinsync-parity-'))
  cpSync(join(fixtures, spec.project), dir, { recursive: true })
  return { dir, p: await ts.open(dir, { actor: spec.actor }) }
}

async function rejectsWith(promise, code) {
  await assert.rejects(promise, (e) => e instanceof ts.TwinsyncError && e.code === code)
}

function throwsWith(fn, code) {
  assert.throws(fn, (e) => e instanceof ts.TwinsyncError && e.code === code)
}

test('pairs: list, then status, sync, history, undo stack and undo of a named pair', async () => {
  const { dir, p } = await fixture()
  try {
    assert.ok(p.lock instanceof ts.ProjectLock)
    const pairs = p.pairs().pairs.map(({ name, kind, left, right }) => ({ name, kind, left, right }))
    assert.deepEqual(pairs, spec.pairs)
    await rejectsWith(p.status(), spec.no_default_pair)
    await rejectsWith(p.status({ pair: spec.unknown_pair.name }), spec.unknown_pair.code)
    throwsWith(() => p.history(5, { pair: spec.unknown_pair.name }), spec.unknown_pair.code)

    const d = spec.docs
    const status = await p.status({ pair: d.pair })
    assert.deepEqual(status.items.map((i) => [i.key, i.class]), d.status)
    const dry = await p.sync({ pair: d.pair, dryRun: true })
    assert.equal(dry.plan.actions.length, d.status.length)
    const report = await p.sync({ pair: d.pair })
    assert.equal(report.counts.applied, d.applied)
    for (const [to, from] of Object.entries(d.copied)) {
      assert.equal(readFileSync(join(dir, to), 'utf8'), readFileSync(join(dir, from), 'utf8'))
    }
    assert.deepEqual((await p.status({ pair: d.pair })).items, [])
    assert.deepEqual(p.history(10, { pair: d.pair }).operations.map((o) => o.operation_id), [report.operation_id])
    assert.deepEqual(p.history(10, { pair: spec.design.pair }).operations, [])
    assert.equal(p.undoStack(10, { pair: d.pair }).operations[0].operation_id, report.operation_id)
    const undone = await p.undo(null, { pair: d.pair })
    assert.equal(undone.operation_id, report.operation_id)
    assert.equal(undone.restored.length, d.applied)
    for (const to of Object.keys(d.copied)) assert.equal(existsSync(join(dir, to)), false, `${to} is gone again`)
    assert.deepEqual(p.undoStack(10, { pair: d.pair }).operations, [])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('events since an id, shaped as `twinsync events --json` prints them', async () => {
  const { dir, p } = await fixture()
  try {
    const before = p.events()
    const since = before.length ? before[before.length - 1].id : 0
    const report = await p.sync({ pair: spec.docs.pair })
    const after = p.events(since)
    assert.deepEqual(after.map((e) => e.type), spec.docs.events)
    for (const e of after) {
      assert.deepEqual(Object.keys(e).sort(), ['correlation_id', 'id', 'pair', 'payload', 'time', 'type'])
      assert.equal(e.pair, spec.docs.pair)
      assert.ok(e.id > since)
    }
    const ofSync = after.filter((e) => e.correlation_id === report.operation_id)
    assert.deepEqual(ofSync.map((e) => e.type), spec.docs.operation_events)
    assert.deepEqual(p.events(since, 1), after.slice(0, 1))
    assert.deepEqual(p.events(after[after.length - 1].id), [])
    throwsWith(() => p.events(-1), 'INVALID_INPUT')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('watch: an async iterator of notes that a file change feeds and stop() ends', async () => {
  const { dir, p } = await fixture()
  const w = spec.watch
  try {
    assert.throws(() => p.watch({ pairs: [spec.unknown_pair.name] }), (e) => e.code === spec.unknown_pair.code)
    const watch = p.watch({ pairs: [w.pair], debounceMs: w.debounce_ms, periodMs: w.period_ms })
    assert.ok(watch instanceof ts.Watch)
    const notes = []
    for await (const note of watch) {
      notes.push(note)
      assert.equal(note.note, w.note, JSON.stringify(note))
      assert.equal(note.pair, w.pair)
      if (note.reason === 'start') writeFileSync(join(dir, w.write.path), w.write.text)
      if (existsSync(join(dir, w.arrives))) break // leaving the loop stops the watch
    }
    assert.equal(readFileSync(join(dir, w.arrives), 'utf8'), w.write.text)
    assert.equal(notes[0].reason, 'start')
    assert.ok(notes.some((n) => n.reason === 'change'), JSON.stringify(notes))
    // Stopped by the loop's end: nothing more comes, and a second stop is harmless.
    assert.deepEqual(await watch.next(), { done: true })
    assert.deepEqual(await watch.stop(), { syncs: 0, applied: 0, conflicts: 0, failed: 0 })

    const again = p.watch({ pairs: [w.pair], debounceMs: w.debounce_ms, periodMs: w.period_ms })
    const summary = await again.stop()
    assert.equal(summary.failed, 0)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('design pairs: drift and sync of the design pair', async () => {
  const { dir, p } = await fixture()
  const d = spec.design
  try {
    const dry = await p.designSync({ dryRun: true })
    assert.equal(existsSync(join(dir, d.written)), false, 'a dry run writes nothing')
    assert.equal(dry.plan.actions.length, d.applied)
    const report = await p.designSync({ pair: d.pair, direction: 'code_to_design' })
    assert.equal(report.counts.applied, d.applied)
    assert.equal(report.scope, d.pair)
    const drift = await p.designDrift({ pair: d.pair })
    assert.deepEqual(drift.components.map((c) => c.component).sort(), d.components)
    assert.equal(drift.totals.drifted, 0)
    const design = readFileSync(join(dir, d.written), 'utf8')
    writeFileSync(join(dir, d.written), design.replace(d.edit.find, d.edit.replace))
    const after = await p.designDrift()
    assert.equal(after.components.find((c) => c.component === d.edit.component).status, d.edit.status)
    await rejectsWith(p.designSync({ direction: 'sideways' }), 'INVALID_INPUT')
    await rejectsWith(p.designSync({ components: { Badge: 'up' } }), 'INVALID_INPUT')
    await rejectsWith(p.designDrift({ pair: spec.unknown_pair.name }), spec.unknown_pair.code)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('OpenSpec database: query, edit and history', async () => {
  const { dir } = await fixture()
  const o = spec.openspec
  try {
    await ts.openspecSync(dir)
    const q = await ts.openspecQuery(dir, { type: 'change' })
    assert.equal(q.count, 1)
    const row = q.items[0]
    assert.deepEqual([row.id, row.status, row.completedTasks, row.totalTasks], [o.change, o.status, o.completed, o.total])
    assert.equal((await ts.openspecQuery(dir, { search: 'no-such-word-anywhere' })).count, 0)
    await rejectsWith(ts.openspecQuery(dir, { sort: 'size' }), 'INVALID_INPUT')

    const edit = await ts.openspecEdit(dir, o.change, o.doc, o.text)
    assert.equal(edit.failed, 0)
    assert.equal(readFileSync(join(dir, o.file), 'utf8'), o.text)
    assert.equal((await ts.openspecQuery(dir)).items.find((r) => r.id === o.change).completedTasks, o.completed_after_edit)
    await rejectsWith(ts.openspecEdit(dir, o.change, o.unknown_doc.doc, 'x'), o.unknown_doc.code)

    const history = await ts.openspecHistory(dir, { limit: 10 })
    assert.equal(history.operations.length, 2, 'the sync and the edit')
    assert.equal(history.operations[0].trigger, 'user_edit')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('every error class is a TwinsyncError with its code', () => {
  const classes = {
    INVALID_INPUT: ts.InvalidInputError, NOT_FOUND: ts.NotFoundError, CONFLICT: ts.ConflictError,
    LOCKED: ts.LockedError, EXPIRED: ts.ExpiredError, UNSAFE: ts.UnsafeError, IO: ts.IoError,
  }
  assert.deepEqual(Object.keys(classes), ts.errorCodes())
  for (const [code, cls] of Object.entries(classes)) {
    assert.equal(ts.errorClasses[code], cls)
    const e = new cls('m')
    assert.ok(e instanceof cls)
    assert.ok(e instanceof ts.TwinsyncError)
    assert.equal(e.code, code)
  }
})

test('credentials: metadata only, never the secret', async () => {
  const { dir, p } = await fixture()
  const c = spec.credential
  const saved = process.env.TWINSYNC_MASTER_KEY
  process.env.TWINSYNC_MASTER_KEY = c.master_key
  try {
    const seen = []
    const added = p.credentialAdd(c.name, c.secret, { provider: c.provider, metadata: c.metadata })
    seen.push(added)
    assert.deepEqual([added.name, added.provider, added.metadata], [c.name, c.provider, c.metadata])
    seen.push(p.credentialValidate(c.name))
    seen.push(p.credentialRotate(c.name, `${c.secret}-rotated`, { rotateEveryMs: 86_400_000 }))
    assert.equal(seen[2].rotate_every_ms, 86_400_000)
    assert.deepEqual(p.credentials().credentials.map((x) => x.name), [c.name])
    assert.equal(p.credential(c.name).status, seen[2].status)
    seen.push(p.credentialRevoke(c.name))
    assert.deepEqual(seen.map((x) => x.status), c.statuses)
    const everything = JSON.stringify([seen, p.credentials(), p.events()])
    assert.equal(everything.includes(c.secret), false, 'the secret never comes back')
    throwsWith(() => p.credential(c.unknown.name), c.unknown.code)
    throwsWith(() => p.credentialAdd('other', c.secret, { provider: c.bad_provider.provider }), c.bad_provider.code)
  } finally {
    if (saved === undefined) delete process.env.TWINSYNC_MASTER_KEY
    else process.env.TWINSYNC_MASTER_KEY = saved
    rmSync(dir, { recursive: true, force: true })
  }
})

test('test sessions: start, finish, get and list', async () => {
  const { dir, p } = await fixture()
  const t = spec.test_session
  try {
    const started = p.testSessionStart(t.story, { correlationId: t.correlation_id })
    assert.deepEqual([started.story_id, started.status, started.correlation_id], [t.story, 'running', t.correlation_id])
    assert.equal(started.latency_ms, null)
    throwsWith(() => p.testSessionFinish(started.id, t.bad_status.status), t.bad_status.code)
    const finished = p.testSessionFinish(started.id, t.status, { performance: t.performance })
    assert.deepEqual([finished.status, finished.performance], [t.status, t.performance])
    assert.ok(finished.latency_ms >= 0)
    assert.deepEqual(p.testSession(started.id), finished)
    assert.deepEqual(p.testSessions({ story: t.story }).sessions, [finished])
    assert.deepEqual(p.testSessions({ story: 'another-story', limit: 5 }).sessions, [])
    assert.ok(p.events().some((e) => e.type === t.event && e.correlation_id === t.correlation_id))
    throwsWith(() => p.testSession(t.unknown.id), t.unknown.code)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
