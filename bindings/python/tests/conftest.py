"""Shared fixtures: a fresh folder pair for project tests, where the JCS data is, and a
probe for calls that must release the GIL."""

import os
import pathlib
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
    # Default: shared/ beside the checkout (tests/ -> python -> bindings -> checkout -> its parent).
    d = pathlib.Path(env) if env else pathlib.Path(__file__).resolve().parents[4] / "shared" / "conformance" / "jcs"
    assert (d / "input").is_dir(), f"no JCS conformance data at {d} (set TWINSYNC_JCS_DIR)"
    return d


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
