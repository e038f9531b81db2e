"""Shared fixtures: a fresh folder pair for project tests, and where the JCS data is."""

import os
import pathlib

import pytest


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
