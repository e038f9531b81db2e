// Compiled by `tsc --noEmit` in `npm test`: the checked-in declarations describe the
// API as users call it, and wrong calls do not type-check.
import * as ts from '../index.js'
import type { DriftReport, OperationSummary, TwinsyncError, ErrorCode, DesignScaffoldAnswer, TwinsyncEvent, WatchSummary, CredentialInfo, TestSession } from '../index.js'

const hash: string = ts.canonicalHash({ a: 1 }, { ignore: ['/updatedAt'], bigIntegers: 'string' })
const canon: string = ts.canonicalizeJson(Buffer.from('{}'))
const text: string = ts.hashText('x', { trimTrailingWhitespace: true })
const drift: DriftReport = ts.detectDrift({}, {}, { 'a.md': hash })
const first: string | undefined = drift.items[0]?.class
const merged: { text: string; conflicts: number } = ts.mergeText('a', 'b', 'c', { style: 'diff3', labels: ['l', 'b', 'r'] })
const json = ts.mergeJson({}, {}, {}, { arrayIdField: 'id' })
const pointer: string | undefined = json.conflicts[0]?.pointer

async function project(dir: string): Promise<void> {
  const p: ts.Project = await ts.open(dir, { actor: 'ci' })
  const s: DriftReport = await p.status()
  const report = await p.sync({ dryRun: true, policy: 'prefer-left', direction: 'left-to-right' })
  const ops: OperationSummary[] = p.history(5).operations
  const undoable: OperationSummary[] = p.undoStack().operations
  const held: boolean = p.lock.status().held
  const token: string = p.lock.acquire({ ttlMs: 1000 }).lock.token
  p.lock.release(token, { force: false })
  try {
    await p.undo()
  } catch (e) {
    if (e instanceof ts.ExpiredError) {
      const code: ErrorCode = e.code
      const base: TwinsyncError = e
      void code, base
    }
  }
  void s, report, ops, undoable, held
}

async function openspecAndDesign(dir: string): Promise<void> {
  const answer = await ts.openspecSync(dir, { dryRun: true, policy: 'manual', change: 'add-login' })
  const ids: string[] = answer.mode === 'preview' ? answer.rows.map((r) => r.id) : answer.report.items.map((i) => i.id)
  const coverage: Record<string, any> = await ts.designCoverage('components.json', 'index.json')
  const scaffold: DesignScaffoldAnswer = await ts.designScaffold('components.json', 'stories', { pairwise: true, root: dir })
  const outcome: 'created' | 'unchanged' | 'merged' | 'conflict' | undefined = scaffold.files[0]?.outcome
  void ids, coverage, outcome
}

// @ts-expect-error: a policy OpenSpec sync does not have
ts.openspecSync('.', { policy: 'prefer-left' })
// @ts-expect-error: options are checked
ts.canonicalHash({}, { ignore: '/x' })
// @ts-expect-error: a style that does not exist
ts.mergeText('a', 'b', 'c', { style: 'fancy' })

void canon, text, first, merged, pointer, project, openspecAndDesign

async function parity(dir: string): Promise<void> {
  const p: ts.Project = await ts.open(dir)
  const names: string[] = p.pairs().pairs.map((x) => x.name)
  const drift: DriftReport = await p.status({ pair: 'docs' })
  await p.sync({ pair: 'docs', dryRun: true })
  await p.undo(null, { pair: 'docs' })
  const ops: OperationSummary[] = p.history(5, { pair: 'docs' }).operations
  const events: TwinsyncEvent[] = p.events(0, 10)
  const watch: ts.Watch = p.watch({ pairs: ['docs'], debounceMs: 50 })
  for await (const note of watch) {
    if (note.note === 'synced') {
      const reason: string = note.reason
      void reason
    }
    break
  }
  const summary: WatchSummary = await watch.stop()
  await p.designSync({ pair: 'ui', direction: 'code_to_design', components: { Badge: 'design_to_code' } })
  const cred: CredentialInfo = p.credentialAdd('figma', 'secret', { provider: 'design', metadata: { team: 'x' } })
  const session: TestSession = p.testSessionFinish(p.testSessionStart('story').id, 'passed', { performance: { lcp_ms: 1 } })
  const rows: number = (await ts.openspecQuery(dir, { status: 'approved', sort: 'age', type: 'change' })).count
  await ts.openspecEdit(dir, 'add-login', 'tasks.md', null, { type: 'change', policy: 'merge' })
  void names, drift, ops, events, summary, cred, session, rows
}
