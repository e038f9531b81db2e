"""Type stubs of the native module (hand-written; checked by mypy in the tests)."""

from typing import (
    Any,
    AsyncIterator,
    Awaitable,
    Callable,
    ClassVar,
    Dict,
    Iterator,
    List,
    Literal,
    Mapping,
    Optional,
    Sequence,
    Union,
)

JSON = Any
"""A JSON-shaped value: dict, list, tuple, str, int, float, bool or None."""

BigIntegers = Literal["error", "string"]
DesignDirection = Literal["code_to_design", "design_to_code", "bidirectional"]

class TwinsyncError(Exception):
    """Base class of every twinsync error; ``code`` says which kind."""

    code: str

class InvalidInput(TwinsyncError):
    code: ClassVar[str]

class NotFoundError(TwinsyncError):
    code: ClassVar[str]

class ConflictError(TwinsyncError):
    code: ClassVar[str]

class LockedError(TwinsyncError):
    code: ClassVar[str]

class ExpiredError(TwinsyncError):
    code: ClassVar[str]

class UnsafeError(TwinsyncError):
    code: ClassVar[str]

class TwinsyncIOError(TwinsyncError):
    code: ClassVar[str]

def canonicalize(
    value: JSON,
    *,
    ignore: Optional[Sequence[str]] = None,
    big_integers: Optional[BigIntegers] = None,
    max_depth: Optional[int] = None,
) -> str:
    """RFC 8785 canonical JSON text of a Python value."""

def canonicalize_json(
    text: Union[str, bytes],
    *,
    ignore: Optional[Sequence[str]] = None,
    big_integers: Optional[BigIntegers] = None,
    max_depth: Optional[int] = None,
) -> str:
    """RFC 8785 canonical JSON text of a JSON document."""

def canonical_hash(
    value: JSON,
    *,
    ignore: Optional[Sequence[str]] = None,
    big_integers: Optional[BigIntegers] = None,
    max_depth: Optional[int] = None,
) -> str:
    """``sha256:<hex>`` of the canonical JSON of a Python value."""

def canonical_hash_json(
    text: Union[str, bytes],
    *,
    ignore: Optional[Sequence[str]] = None,
    big_integers: Optional[BigIntegers] = None,
    max_depth: Optional[int] = None,
) -> str:
    """``sha256:<hex>`` of the canonical form of a JSON document."""

def hash_text(text: str, *, trim_trailing_whitespace: bool = False) -> str:
    """``sha256:<hex>`` of normalised text (no BOM, LF line ends)."""

def hash_bytes(data: bytes) -> str:
    """``sha256:<hex>`` of bytes as they are."""

def tree_digest(
    entries: Mapping[str, JSON],
    *,
    ignore: Optional[Sequence[str]] = None,
    big_integers: Optional[BigIntegers] = None,
    trim_trailing_whitespace: bool = False,
) -> str:
    """The tree digest of ``{key: digest | text | JSON}``."""

def detect_drift(
    base: Mapping[str, JSON],
    left: Mapping[str, JSON],
    right: Mapping[str, JSON],
    *,
    ignore: Optional[Sequence[str]] = None,
    big_integers: Optional[BigIntegers] = None,
    trim_trailing_whitespace: bool = False,
) -> Dict[str, Any]:
    """Three-way drift: ``{"items", "counts", "in_sync"}`` as ``twinsync status --json``."""

def plan(
    base: Mapping[str, JSON],
    left: Mapping[str, JSON],
    right: Mapping[str, JSON],
    *,
    policy: Optional[str] = None,
    direction: Optional[str] = None,
    now_ms: Optional[int] = None,
    ignore: Optional[Sequence[str]] = None,
    big_integers: Optional[BigIntegers] = None,
    trim_trailing_whitespace: bool = False,
) -> Dict[str, Any]:
    """The plan a sync of the three maps would run."""

def merge_text(
    base: str,
    left: str,
    right: str,
    *,
    labels: Optional[Sequence[str]] = None,
    style: Optional[Literal["merge", "diff3", "zdiff3"]] = None,
    favor: Optional[Literal["none", "ours", "theirs", "union"]] = None,
    marker_size: Optional[int] = None,
) -> Dict[str, Any]:
    """diff3 merge: ``{"text", "conflicts"}``, markers as ``git merge-file`` writes them."""

def merge_json(base: JSON, left: JSON, right: JSON, *, array_id_field: Optional[str] = None) -> Dict[str, Any]:
    """Structural JSON merge: ``{"value", "conflicts"}``."""

def coverage(
    input: Mapping[str, Any],
    *,
    missing_limit: Optional[int] = None,
    required_kinds: Optional[Sequence[Literal["interaction", "visual", "a11y", "unit"]]] = None,
) -> Dict[str, Any]:
    """Coverage of ``{components, stories, tests}``."""

class ProjectLock:
    """The project lock of one project handle."""

    def acquire(self, *, ttl_ms: Optional[int] = None, reason: Optional[str] = None) -> Dict[str, Any]: ...
    def renew(self, caller: str, *, ttl_ms: Optional[int] = None) -> Dict[str, Any]: ...
    def release(self, caller: str, *, force: bool = False, reason: Optional[str] = None) -> Dict[str, Any]: ...
    def status(self) -> Dict[str, Any]: ...

class Project:
    """An open project: its replicas, store and locks."""

    @property
    def dir(self) -> str: ...
    @property
    def actor(self) -> str: ...
    @property
    def lock(self) -> ProjectLock: ...
    def pairs(self) -> Dict[str, List[Dict[str, Any]]]: ...
    def status(self, *, pair: Optional[str] = None) -> Dict[str, Any]: ...
    def sync(
        self,
        *,
        pair: Optional[str] = None,
        dry_run: bool = False,
        policy: Optional[str] = None,
        direction: Optional[str] = None,
        allow_mass_delete: bool = False,
        formatting: bool = False,
    ) -> Dict[str, Any]: ...
    def undo(self, operation_id: Optional[str] = None, *, pair: Optional[str] = None) -> Dict[str, Any]: ...
    def history(self, limit: int = 20, *, pair: Optional[str] = None) -> Dict[str, List[Dict[str, Any]]]: ...
    def undo_stack(self, limit: int = 50, *, pair: Optional[str] = None) -> Dict[str, List[Dict[str, Any]]]: ...
    def events(self, since: int = 0, limit: int = 1000) -> List[Dict[str, Any]]: ...
    def watch(
        self, *, pairs: Optional[List[str]] = None, debounce_ms: Optional[int] = None, period_ms: Optional[int] = None
    ) -> Watch: ...
    def design_drift(self, *, pair: Optional[str] = None) -> Dict[str, Any]: ...
    def design_sync(
        self,
        *,
        pair: Optional[str] = None,
        direction: Optional[DesignDirection] = None,
        components: Optional[Dict[str, DesignDirection]] = None,
        policy: Optional[str] = None,
        dry_run: bool = False,
    ) -> Dict[str, Any]: ...
    def credentials(self) -> Dict[str, List[Dict[str, Any]]]: ...
    def credential(self, name: str) -> Dict[str, Any]: ...
    def credential_add(
        self,
        name: str,
        secret: str,
        *,
        provider: Literal["notification", "design", "documentation", "testing", "ai", "analytics"],
        rotate_every_ms: Optional[int] = None,
        metadata: Optional[Dict[str, str]] = None,
    ) -> Dict[str, Any]: ...
    def credential_rotate(self, name: str, secret: str, *, rotate_every_ms: Optional[int] = None) -> Dict[str, Any]: ...
    def credential_revoke(self, name: str) -> Dict[str, Any]: ...
    def credential_validate(self, name: str) -> Dict[str, Any]: ...
    def test_session_start(self, story_id: str, *, correlation_id: Optional[str] = None) -> Dict[str, Any]: ...
    def test_session_finish(
        self,
        id: str,
        status: Literal["passed", "failed", "aborted"],
        *,
        performance: Optional[Dict[str, Any]] = None,
    ) -> Dict[str, Any]: ...
    def test_session(self, id: str) -> Dict[str, Any]: ...
    def test_sessions(self, *, story: Optional[str] = None, limit: int = 50) -> Dict[str, List[Dict[str, Any]]]: ...

class Watch:
    """A running watch: iterate it for its notes (``for``, or ``async for`` without blocking the
    event loop); ``stop()`` (or leaving a ``with`` / ``async with`` block) ends it."""

    def __iter__(self) -> Iterator[Dict[str, Any]]: ...
    def __next__(self) -> Dict[str, Any]: ...
    def stop(self) -> Dict[str, int]: ...
    def __enter__(self) -> Watch: ...
    def __exit__(self, *exc: object) -> bool: ...
    def __aiter__(self) -> AsyncIterator[Dict[str, Any]]: ...
    def __anext__(self) -> Awaitable[Dict[str, Any]]: ...
    def __aenter__(self) -> Awaitable[Watch]: ...
    def __aexit__(self, *exc: object) -> Awaitable[bool]: ...
    def _try_next(self) -> Optional[Dict[str, Any]]: ...
    def _set_waker(self, waker: Optional[Callable[[], None]]) -> None: ...

def open(dir: str, *, actor: Optional[str] = None) -> Project:
    """Opens the project containing ``dir``."""

def init(dir: str, left: str, right: str, *, actor: Optional[str] = None) -> Project:
    """Makes ``dir`` a project syncing ``left`` and ``right``."""

def openspec_list(dir: str, *, specs: bool = False) -> Dict[str, Any]:
    """OpenSpec ``list --json`` of the ``openspec/`` folder found from ``dir`` upwards."""

def openspec_show(dir: str, id: str, *, kind: Optional[Literal["change", "spec"]] = None) -> Dict[str, Any]:
    """OpenSpec ``show <id> --json``."""

def openspec_validate(dir: str, *, strict: bool = False) -> Dict[str, Any]:
    """OpenSpec ``validate --all --json``, plus ``valid``."""

def openspec_sync(
    dir: str,
    *,
    change: Optional[str] = None,
    dry_run: bool = False,
    policy: Optional[Literal["fs-wins", "merge", "manual"]] = None,
) -> Dict[str, Any]:
    """OpenSpec ``sync --json``: ``{"mode": "synced", db, report}`` or, with ``dry_run``, ``{"mode": "preview", db, rows}``."""

def openspec_set_status(
    dir: str,
    id: str,
    status: Literal["proposing", "approved", "assigned", "in_progress", "review", "archived"],
    *,
    kind: Optional[Literal["change", "spec"]] = None,
) -> Dict[str, Any]:
    """OpenSpec ``status ID STATUS``: the lifecycle status of a change (or spec); returns the row without its documents."""

def openspec_query(
    dir: str,
    *,
    status: Optional[Literal["proposing", "approved", "assigned", "in_progress", "review", "archived"]] = None,
    search: Optional[str] = None,
    sort: Optional[Literal["id", "progress", "age"]] = None,
    kind: Optional[Literal["change", "spec"]] = None,
    deleted: bool = False,
    limit: Optional[int] = None,
) -> Dict[str, Any]:
    """The work queue in the folder's OpenSpec database, as ``twinsync openspec query --json``."""

def openspec_edit(
    dir: str,
    id: str,
    doc: str,
    text: Optional[str],
    *,
    kind: Optional[Literal["change", "spec"]] = None,
    policy: Optional[Literal["fs-wins", "merge", "manual"]] = None,
) -> Dict[str, Any]:
    """Sets a document in the database and syncs it to disk at once (``None`` removes it)."""

def openspec_history(dir: str, *, limit: int = 20) -> Dict[str, List[Dict[str, Any]]]:
    """The syncs of the folder's ``openspec`` pair, newest first."""

def design_coverage(components: str, stories: str) -> Dict[str, Any]:
    """Story coverage of a components file by a Storybook ``index.json``, as ``twinsync design coverage --json``."""

def design_scaffold(
    components: str,
    out_dir: str,
    *,
    pairwise: bool = False,
    dry_run: bool = False,
    root: Optional[str] = None,
) -> Dict[str, Any]:
    """CSF3 story files into ``out_dir``, as ``twinsync design scaffold --json``: ``{"dry_run", "files"}``."""
