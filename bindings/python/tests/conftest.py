"""Shared fixtures: a fresh folder pair for project tests, where the JCS data is, and a
probe for calls that must release the GIL."""

import os
import pathlib
import subprocess
import sys
import threading
import types
from typing import Callable, Iterator, List, Set, Tuple, TypeVar

import pytest

import twinsync
from twinsync import _twinsync as _native

_PACKAGE_DIR = str(pathlib.Path(twinsync.__file__).parent)
_classes = {v for v in vars(_native).values() if isinstance(v, type) and not issubclass(v, BaseException)}

T = TypeVar("T")


@pytest.fixture
def pair(tmp_path: pathlib.Path) -> pathlib.Path:
    (tmp_path / "design").mkdir()
    (tmp_path / "code").mkdir()
    return tmp_path


@pytest.fixture(scope="session")
def jcs_dir() -> pathlib.Path:
    env = os.environ.get("TWINSYNC_JCS_DIR")
    # Default: the checkout's tests/jcs (tests/ -> python -> bindings -> checkout).
    d = pathlib.Path(env) if env else pathlib.Path(__file__).resolve().parents[3] / "tests" / "jcs"
    assert (d / "input").is_dir(), f"no JCS conformance data at {d} (set TWINSYNC_JCS_DIR)"
    return d


@pytest.fixture(scope="session")
def es6_vector(jcs_dir: pathlib.Path) -> str:
    """The first 100,000 lines of the ES6 number vector, which Node generates (its own
    Number#toString is the spelling RFC 8785 requires); the Rust conformance test checks
    that these are the upstream bytes."""
    out = subprocess.run(["node", str(jcs_dir / "es6numbers.mjs"), "100000"], check=True, capture_output=True, text=True)
    return out.stdout


def run_beside_a_counter(call: Callable[[], T]) -> Tuple[T, int]:
    """Runs `call` while another Python thread counts; returns its result and how far
    the other thread got meanwhile (0 when `call` held the GIL throughout)."""
    done = threading.Event()
    ticks = 0

    def count() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1

    t = threading.Thread(target=count)
    t.start()
    try:
        before = ticks
        result = call()
        during = ticks - before
    finally:
        done.set()
        t.join()
    return result, during


# What the tests call in the native module, recorded for test_exports.py: names as
# API.md's Exports table spells them (`canonical_hash`, `Project.status`). Calls made
# by the package's own Python code (twinsync/*.py) are not a test's calls.
CALLED: Set[str] = set()


def _record(frame: types.FrameType, event: str, arg: object) -> None:
    if event != "c_call" or frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        return
    owner = getattr(arg, "__self__", None)
    name = getattr(arg, "__name__", "")
    if owner is None and vars(_native).get(name) is arg:
        CALLED.add(name)
    elif type(owner) in _classes:
        CALLED.add(f"{type(owner).__name__}.{arg.__name__}")  # type: ignore[attr-defined]


@pytest.fixture(scope="session", autouse=True)
def record_calls() -> Iterator[None]:
    sys.setprofile(_record)
    threading.setprofile(_record)
    yield
    threading.setprofile(None)  # type: ignore[arg-type]
    sys.setprofile(None)


def pytest_collection_modifyitems(items: List[pytest.Item]) -> None:
    """The every-export-called check runs last, after every test it counts."""
    last = [i for i in items if i.name == "test_every_listed_export_is_called_by_some_test"]
    items[:] = [i for i in items if i not in last] + last
