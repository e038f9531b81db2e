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
