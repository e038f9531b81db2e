"""Shared fixtures: a fresh folder pair for project tests, where the JCS data is, and a
probe for calls that must release the GIL."""

import os
import pathlib
import subprocess
import threading
from typing import Callable, Tuple, TypeVar

import pytest

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
