// The project handle on a real folder pair and the embedded SQLite store.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, existsSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as ts from '../index.mjs'

function pair() {
  const dir = mkdtempSync(join(tmpdir(), 'twinsync-node-'))
  mkdirSync(join(dir, 'design'))
  mkdirSync(join(dir, 'code'))
  return dir
}

test('init, status, dry run, sync, history, undo stack and undo', async () => {
  const dir = pair()
  try {
    writeFileSync(join(dir, 'design', 'button.json'), '{"name": "Button", "size": "md"}')
    const p = await ts.init(dir, 'design', 'code', { actor: 'ci-bot' })
    assert.ok(p instanceof ts.Project)
    assert.equal(p.actor, 'ci-bot')
    assert.equal(p.dir, dir)

    const s = await p.status()
    assert.deepEqual(s.items.map((i) => [i.key, i.class]), [['button.json', 'added_left']])
    assert.equal(s.items[0].left, ts.canonicalHash({ size: 'md', name: 'Button' }))

    const dry = await p.sync({ dryRun: true })
    assert.equal(dry.plan.actions[0].kind, 'copy_to_right')
    assert.equal(existsSync(join(dir, 'code', 'button.json')), false, 'a dry run changes nothing')

    const report = await p.sync()
    assert.equal(report.status, 'completed')
    assert.equal(report.counts.applied, 1)
    assert.equal(report.actor, 'ci-bot')
    assert.equal(readFileSync(join(dir, 'code', 'button.json'), 'utf8'), '{"name": "Button", "size": "md"}')
    assert.deepEqual((await p.status()).items, [])

    const reopened = await ts.open(join(dir, 'code'))
    assert.equal(reopened.dir, dir, 'open finds the project from a subfolder')
    assert.equal(reopened.history().operations[0].operation_id, report.operation_id)

    const stack = p.undoStack()
    assert.deepEqual(stack.operations.map((o) => o.operation_id), [report.operation_id])
    const u = await p.undo()
    assert.deepEqual(u.restored, ['button.json'])
    assert.equal(existsSync(join(dir, 'code', 'button.json')), false)
    assert.deepEqual(p.undoStack().operations, [])
    assert.equal(p.history(1).operations[0].undone_at !== null, true)

    await assert.rejects(p.undo(report.operation_id), (e) => e instanceof ts.ExpiredError && e.code === 'EXPIRED')
    await assert.rejects(p.undo('feedface'), (e) => e instanceof ts.NotFoundError && e.code === 'NOT_FOUND')
    await assert.rejects(p.sync({ policy: 'coin-toss' }), { code: 'INVALID_INPUT', message: /coin-toss/ })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('conflicts are reported, then resolved by a policy', async () => {
  const dir = pair()
  try {
    writeFileSync(join(dir, 'design', 'a.md'), 'base\n')
    const p = await ts.init(dir, 'design', 'code')
    await p.sync()
    writeFileSync(join(dir, 'design', 'a.md'), 'left\n')
    writeFileSync(join(dir, 'code', 'a.md'), 'right\n')
    const s = await p.status()
    assert.deepEqual(s.counts, { conflict_modify_modify: 1 })
    const r = await p.sync()
    assert.equal(r.counts.conflicts, 1)
    assert.equal(readFileSync(join(dir, 'code', 'a.md'), 'utf8'), 'right\n', 'a conflict overwrites nothing')
    const won = await p.sync({ policy: 'prefer-left' })
    assert.equal(won.counts.applied, 1)
    assert.equal(readFileSync(join(dir, 'code', 'a.md'), 'utf8'), 'left\n')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a sync that would empty a replica stops with UnsafeError', async () => {
  const dir = pair()
  try {
    for (let i = 0; i < 12; i++) writeFileSync(join(dir, 'design', `f${i}.md`), `${i}\n`)
    const p = await ts.init(dir, 'design', 'code')
    await p.sync()
    rmSync(join(dir, 'design'), { recursive: true })
    mkdirSync(join(dir, 'design'))
    await assert.rejects(p.sync(), (e) => e instanceof ts.UnsafeError && e.code === 'UNSAFE' && /would lose 12 of 12/.test(e.message))
    assert.equal(existsSync(join(dir, 'code', 'f0.md')), true, 'nothing was deleted')
    const forced = await p.sync({ allowMassDelete: true })
    assert.equal(forced.counts.applied, 12)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('locks: acquire, contention, renew, release, force', async () => {
  const dir = pair()
  try {
    const mine = await ts.init(dir, 'design', 'code', { actor: 'alice' })
    const theirs = await ts.open(dir, { actor: 'bob' })
    assert.deepEqual(mine.lock.status(), { held: false, lock: null })
    const got = mine.lock.acquire({ ttlMs: 60_000, reason: 'release 1.2' })
    assert.equal(got.acquired, true)
    assert.equal(got.lock.owner, 'alice')
    assert.match(got.lock.token, /.+/)
    const st = theirs.lock.status()
    assert.equal(st.held, true)
    assert.equal(st.lock.reason, 'release 1.2')
    assert.equal('token' in st.lock, false, 'only the acquirer sees the token')
    assert.throws(() => theirs.lock.acquire(), (e) => e instanceof ts.LockedError && /alice/.test(e.message))
    assert.throws(() => theirs.lock.release('bob'), { code: 'LOCKED' })
    assert.throws(() => theirs.lock.renew('bob'), { code: 'LOCKED' })
    assert.equal(theirs.lock.renew(got.lock.token, { ttlMs: 120_000 }).renewed, true, 'the token proves ownership')
    assert.deepEqual(mine.lock.release('alice').released, true)
    mine.lock.acquire()
    const forced = theirs.lock.release('bob', { force: true, reason: 'alice is on leave' })
    assert.deepEqual([forced.released, forced.forced, forced.lock.owner], [true, true, 'alice'])
    assert.equal(mine.lock.status().held, false)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('open and init errors', async () => {
  const dir = pair()
  try {
    await assert.rejects(ts.open(dir), (e) => e instanceof ts.NotFoundError && /not a twinsync project/.test(e.message))
    await assert.rejects(ts.open(join(dir, 'missing')), { code: 'IO' })
    await assert.rejects(ts.init(dir, 'design', 'nowhere'), { code: 'INVALID_INPUT', message: /nowhere/ })
    await ts.init(dir, 'design', 'code')
    await assert.rejects(ts.init(dir, 'design', 'code'), { code: 'INVALID_INPUT', message: /already/ })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('async operations run off the JS thread: the event loop keeps turning', async () => {
  const dir = pair()
  try {
    for (let i = 0; i < 300; i++) writeFileSync(join(dir, 'design', `f${i}.md`), `item ${i}\n`.repeat(50))
    const p = await ts.init(dir, 'design', 'code')
    let ticks = 0
    const timer = setInterval(() => ticks++, 0)
    const pending = p.sync()
    assert.ok(pending instanceof Promise)
    const r = await pending
    clearInterval(timer)
    assert.equal(r.counts.applied, 300)
    assert.ok(ticks > 0, 'timers fired while the sync ran')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
