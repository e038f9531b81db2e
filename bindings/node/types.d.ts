/** Output shapes of the twinsync bindings: the JSON the CLI prints with `--json` (snake_case keys). */

/** A digest as the CLI prints it: `sha256:<64 lowercase hex>`. */
export type Digest = string

/** How an item differs between base, left and right. */
export type DriftClass =
  | 'in_sync' | 'changed_left' | 'changed_right' | 'changed_alike'
  | 'added_left' | 'added_right' | 'added_alike'
  | 'deleted_left' | 'deleted_right' | 'deleted_both'
  | 'conflict_modify_modify' | 'conflict_modify_delete' | 'conflict_delete_modify' | 'conflict_add_add'

/** One drifted item and the digest each place holds (`null`: absent). */
export interface DriftItem {
  key: string
  class: DriftClass
  base: Digest | null
  left: Digest | null
  right: Digest | null
}

/** Drift as `twinsync status --json` prints it: drifted items, counts per class, and how many are in sync. */
export interface DriftReport {
  items: DriftItem[]
  counts: Partial<Record<DriftClass, number>>
  in_sync: number
}

/** One operation as `twinsync history --json` lists it. */
export interface OperationSummary {
  operation_id: string
  status: 'completed' | 'partial' | 'failed'
  trigger: string
  actor: string
  started_at: string
  duration_ms: number
  counts: { planned: number; applied: number; skipped: number; conflicts: number; failed: number }
  reversible_until: string | null
  undone_at: string | null
}

/** A lock as shown to anyone but its acquirer (no token). */
export interface LockInfo {
  name: string
  owner: string
  reason: string | null
  acquired_at: string
  expires_at: string
}

/** One change or spec an OpenSpec sync touched. */
export interface OpenspecSyncItem {
  kind: 'change' | 'spec'
  id: string
  directions: string[]
  /** `created`, `updated`, `merged`, `moved`, `deleted`, `restored`, `conflict`, `failed`, joined by `+`. */
  outcome: string
  files: string[]
  conflicts: string[]
  error: string | null
  resolved: number
}

/** What `openspecSync` did, or with `dryRun` the rows it would change (`docs`: [document, planned action]). */
export type OpenspecSyncAnswer =
  | {
      mode: 'synced'
      db: string
      report: {
        trigger: string
        policy: 'fs-wins' | 'merge' | 'manual'
        checked: number
        items: OpenspecSyncItem[]
        conflicts: number
        failed: number
        duration_ms: number
      }
    }
  | { mode: 'preview'; db: string; rows: { kind: 'change' | 'spec'; id: string; path: string; row: string; docs: [string, string][] }[] }

/** What `designScaffold` wrote (or, with `dryRun`, would write), one story file per component. */
export interface DesignScaffoldAnswer {
  dry_run: boolean
  files: {
    component: string
    path: string
    outcome: 'created' | 'unchanged' | 'merged' | 'conflict'
    conflicts: number
    stories: number
    total_variants: number
    skipped: number
    pairwise: boolean
    story_ids: string[]
  }[]
}

/** One outbox event, as a line of `twinsync events --json`. */
export interface TwinsyncEvent {
  id: number
  type: string
  time: string
  pair: string
  correlation_id: string
  payload: Record<string, any>
}

/** A watch note, as a line of `twinsync watch --json`. */
export type WatchNote =
  | { note: 'synced'; pair: string; reason: 'start' | 'change' | 'periodic' | 'retry'; report: Record<string, any> }
  | { note: 'failed'; pair: string; error: string; retry_in_ms: number }
  | { note: 'warning'; pair: string; message: string }

/** What a watch did, when it stops. */
export interface WatchSummary {
  syncs: number
  applied: number
  conflicts: number
  failed: number
}

/** A credential's metadata, as `twinsync credentials list --json` prints it: never its value. */
export interface CredentialInfo {
  name: string
  provider: string
  status: 'pending' | 'valid' | 'expired' | 'revoked'
  key_id: string
  metadata: Record<string, string>
  created_at: string
  updated_at: string
  last_validated_at: string | null
  rotated_at: string | null
  rotate_every_ms: number | null
  rotation_due_at: string | null
  reminded_for: string | null
}

/** A browser test session, as `twinsync test-session show --json` prints it. */
export interface TestSession {
  id: string
  story_id: string
  status: 'running' | 'passed' | 'failed' | 'aborted'
  started_at: string
  ended_at: string | null
  performance: Record<string, any> | null
  correlation_id: string
  actor: string
  latency_ms: number | null
}
