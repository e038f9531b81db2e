// Design from Node: story coverage and CSF3 scaffolds from a components file, off the JS thread.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as ts from '../index.mjs'

// A Button with size sm|md|lg, and Storybook stories for sm and md.
function fixture() {
  const dir = mkdtempSync(join(tmpdir(), 'twinsync-design-'))
  const components = {
    components: [{
      name: 'Button', source: 'src/Button.tsx', title: 'Components/Button',
      props: [{ name: 'size', kind: 'variant', options: ['sm', 'md', 'lg'] }],
    }],
  }
  writeFileSync(join(dir, 'components.json'), JSON.stringify(components))
  const story = (v) => ({ id: `components-button--${v}`, title: 'Components/Button', name: v, importPath: './src/Button.stories.tsx', type: 'story', tags: ['dev'] })
  const index = { v: 5, entries: { 'components-button--sm': story('sm'), 'components-button--md': story('md') } }
  writeFileSync(join(dir, 'index.json'), JSON.stringify(index))
  return dir
}

test('designCoverage counts the variants the Storybook index shows', async () => {
  const dir = fixture()
  try {
    const pending = ts.designCoverage(join(dir, 'components.json'), join(dir, 'index.json'))
    assert.ok(pending instanceof Promise)
    const report = await pending
    const [button] = report.components
    assert.deepEqual([button.component, button.covered_variants, button.total_variants], ['Button', 2, 3])
    assert.deepEqual(button.missing_variants, [{ size: 'lg' }])
    await assert.rejects(ts.designCoverage(join(dir, 'nope.json'), join(dir, 'index.json')), (e) => e instanceof ts.NotFoundError && /nope\.json/.test(e.message))
    await assert.rejects(ts.designCoverage(join(dir, 'index.json'), join(dir, 'components.json')), (e) => e instanceof ts.InvalidInputError)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('designScaffold writes one story file per component, nothing on a dry run', async () => {
  const dir = fixture()
  const out = join(dir, 'stories')
  try {
    const planned = await ts.designScaffold(join(dir, 'components.json'), out, { dryRun: true, root: dir })
    assert.deepEqual([planned.dry_run, planned.files[0].outcome, planned.files[0].stories], [true, 'created', 3])
    assert.equal(existsSync(out), false)
    const written = await ts.designScaffold(join(dir, 'components.json'), out, { root: dir })
    assert.match(readFileSync(written.files[0].path, 'utf8'), /Components\/Button/)
    const again = await ts.designScaffold('components.json', 'stories', { root: dir })
    assert.equal(again.files[0].outcome, 'unchanged')
    await assert.rejects(ts.designScaffold(join(dir, 'nope.json'), out, { root: dir }), (e) => e instanceof ts.NotFoundError && e.code === 'NOT_FOUND')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
