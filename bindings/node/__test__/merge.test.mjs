// Drift, plan, merges and coverage over plain objects.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as ts from '../index.mjs'

test('detectDrift classifies every drifted key, as `twinsync status --json`', () => {
  const base = { 'same.md': 's', 'edit.md': 'old', 'gone.md': 'g', 'both.json': { v: 1 } }
  const left = { 'same.md': 's', 'edit.md': 'new', 'gone.md': 'g', 'both.json': { v: 2 }, 'new.md': 'n' }
  const right = { 'same.md': 's', 'edit.md': 'old', 'both.json': { v: 3 } }
  const d = ts.detectDrift(base, left, right)
  assert.equal(d.in_sync, 1)
  assert.deepEqual(d.items.map((i) => [i.key, i.class]), [
    ['both.json', 'conflict_modify_modify'],
    ['edit.md', 'changed_left'],
    ['gone.md', 'deleted_right'],
    ['new.md', 'added_left'],
  ])
  assert.deepEqual(d.counts, { changed_left: 1, added_left: 1, deleted_right: 1, conflict_modify_modify: 1 })
  assert.equal(d.items[1].left, ts.hashText('new'))
  assert.equal(d.items[3].base, null)
  assert.deepEqual(ts.detectDrift({}, {}, {}), { items: [], counts: {}, in_sync: 0 })
  assert.throws(() => ts.detectDrift({ '/abs': 'x' }, {}, {}), { code: 'INVALID_INPUT', message: /base/ })
})

test('ignore rules make volatile-only changes in sync', () => {
  const d = ts.detectDrift({ 'c.json': { a: 1, at: 1 } }, { 'c.json': { a: 1, at: 2 } }, { 'c.json': { a: 1, at: 1 } }, { ignore: ['/at'] })
  assert.equal(d.in_sync, 1)
  assert.equal(d.items.length, 0)
})

test('plan picks actions by policy and direction; bad names are rejected', () => {
  const [b, l, r] = [{ 'a.md': '1', 'b.md': 'x' }, { 'a.md': '2', 'b.md': 'y' }, { 'a.md': '3', 'b.md': 'x' }]
  const manual = ts.plan(b, l, r, { nowMs: 1_700_000_000_000 })
  assert.deepEqual(manual.actions.map((a) => [a.key, a.kind]), [['a.md', 'conflict'], ['b.md', 'copy_to_right']])
  assert.match(manual.operation_hash, /^sha256:/)
  const right = ts.plan(b, l, r, { policy: 'prefer-right', nowMs: 1_700_000_000_000 })
  assert.equal(right.actions[0].kind, 'copy_to_left')
  assert.notEqual(right.operation_hash, manual.operation_hash)
  assert.deepEqual(ts.plan(b, l, r, { policy: 'prefer-right', nowMs: 1_700_000_000_000 }), right)
  const pull = ts.plan(b, l, r, { direction: 'right-to-left', nowMs: 1 })
  assert.equal(pull.actions.find((a) => a.key === 'b.md').kind, 'skip')
  assert.throws(() => ts.plan(b, l, r, { policy: 'coin-toss' }), { code: 'INVALID_INPUT', message: /coin-toss/ })
  assert.throws(() => ts.plan(b, l, r, { direction: 'up' }), { code: 'INVALID_INPUT', message: /direction/ })
})

test('mergeText merges like git merge-file, with labels and styles', () => {
  assert.deepEqual(ts.mergeText('a\nb\nc\n', 'A\nb\nc\n', 'a\nb\nC\n'), { text: 'A\nb\nC\n', conflicts: 0 })
  const c = ts.mergeText('a\n', 'b\n', 'c\n', { labels: ['mine', 'orig', 'theirs'], style: 'diff3' })
  assert.equal(c.conflicts, 1)
  assert.equal(c.text, '<<<<<<< mine\nb\n||||||| orig\na\n=======\nc\n>>>>>>> theirs\n')
  assert.equal(ts.mergeText('a\n', 'b\n', 'c\n', { favor: 'theirs' }).text, 'c\n')
  assert.equal(ts.mergeText('a\n', 'b\n', 'c\n', { markerSize: 3 }).text, '<<< left\nb\n===\nc\n>>> right\n')
  assert.throws(() => ts.mergeText('', '', '', { style: 'fancy' }), { code: 'INVALID_INPUT', message: /style/ })
  assert.throws(() => ts.mergeText('', '', '', { labels: ['x'] }), { code: 'INVALID_INPUT', message: /3 labels/ })
})

test('mergeJson merges key by key and reports conflicts by JSON Pointer', () => {
  const m = ts.mergeJson({ a: 1, b: 1 }, { a: 2, b: 1 }, { a: 1, b: 3 })
  assert.deepEqual(m, { value: { a: 2, b: 3 }, conflicts: [] })
  const c = ts.mergeJson({ t: { x: 1 } }, { t: { x: 2 } }, { t: { x: 3 } })
  assert.deepEqual(c.conflicts, [{ pointer: '/t/x', base: 1, left: 2, right: 3 }])
  assert.deepEqual(c.value, { t: { x: 2 } })
  const arr = ts.mergeJson(
    { l: [{ id: 1, v: 0 }, { id: 2, v: 0 }] },
    { l: [{ id: 1, v: 1 }, { id: 2, v: 0 }] },
    { l: [{ id: 1, v: 0 }, { id: 2, v: 2 }] },
    { arrayIdField: 'id' },
  )
  assert.deepEqual(arr.value, { l: [{ id: 1, v: 1 }, { id: 2, v: 2 }] })
})

test('coverage over plain objects, with options and errors', () => {
  const input = {
    components: [{ name: 'Button', axes: [{ name: 'size', options: ['sm', 'md', 'lg'] }] }],
    stories: [
      { id: 'button--sm', component: 'Button', args: { size: 'sm' }, tags: ['a11y'] },
      { id: 'button--md', component: 'Button', args: { size: 'md' }, has_play: true },
    ],
    tests: [{ component: 'Button', kind: 'visual' }],
  }
  const r = ts.coverage(input)
  assert.equal(r.totals.percent, 66.66)
  assert.deepEqual(r.components[0].missing_variants, [{ size: 'lg' }])
  assert.deepEqual(r.components[0].missing_test_kinds, [])
  const strict = ts.coverage(input, { requiredKinds: ['unit'], missingLimit: 0 })
  assert.deepEqual(strict.components[0].missing_test_kinds, ['unit'])
  assert.deepEqual(strict.components[0].missing_variants, [])
  assert.equal(strict.components[0].missing_variants_total, 1)
  assert.throws(() => ts.coverage({ components: [{ name: 'A' }, { name: 'A' }] }), { code: 'INVALID_INPUT', message: /more than once/ })
  assert.throws(() => ts.coverage({ components: 'Button' }), { code: 'INVALID_INPUT', message: /coverage input/ })
  assert.throws(() => ts.coverage(input, { requiredKinds: ['snapshot'] }), { code: 'INVALID_INPUT', message: /snapshot/ })
})
