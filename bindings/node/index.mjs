// ES module entry: the same exports as the CommonJS entry (index.js), which loads
// the native addon once for both.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const twinsync = require('./index.js')

export const {
  canonicalize,
  canonicalizeJson,
  canonicalHash,
  canonicalHashJson,
  hashText,
  hashBytes,
  treeDigest,
  detectDrift,
  plan,
  mergeText,
  mergeJson,
  coverage,
  init,
  open,
  openspecList,
  openspecShow,
  openspecValidate,
  openspecSync,
  openspecSetStatus,
  openspecQuery,
  openspecEdit,
  openspecHistory,
  designCoverage,
  designScaffold,
  errorCodes,
  Project,
  ProjectLock,
  Watch,
  TwinsyncError,
  InvalidInputError,
  NotFoundError,
  ConflictError,
  LockedError,
  ExpiredError,
  UnsafeError,
  IoError,
  errorClasses,
} = twinsync

export default twinsync
