"""twinsync for Python: canonical hashing, drift, merge, plan, coverage and the sync engine.

Outputs are dicts and lists shaped like the JSON the twinsync CLI prints with
``--json`` (snake_case keys); see bindings/API.md. Errors derive from
:class:`TwinsyncError`, whose ``code`` attribute holds the core error code.
"""

from ._twinsync import (
    ConflictError,
    ExpiredError,
    InvalidInput,
    LockedError,
    NotFoundError,
    Project,
    ProjectLock,
    TwinsyncError,
    TwinsyncIOError,
    UnsafeError,
    canonical_hash,
    canonical_hash_json,
    canonicalize,
    canonicalize_json,
    coverage,
    detect_drift,
    hash_bytes,
    hash_text,
    init,
    merge_json,
    merge_text,
    open,
    plan,
    tree_digest,
)

__all__ = [
    "ConflictError",
    "ExpiredError",
    "InvalidInput",
    "LockedError",
    "NotFoundError",
    "Project",
    "ProjectLock",
    "TwinsyncError",
    "TwinsyncIOError",
    "UnsafeError",
    "canonical_hash",
    "canonical_hash_json",
    "canonicalize",
    "canonicalize_json",
    "coverage",
    "detect_drift",
    "hash_bytes",
    "hash_text",
    "init",
    "merge_json",
    "merge_text",
    "open",
    "plan",
    "tree_digest",
]
