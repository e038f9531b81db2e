"""Every export: the Python column of the Exports table in bindings/API.md must be
exactly what the loaded package offers (`dir(twinsync)`'s public names, and its
classes' public members and the iterator and context protocol methods), and each
listed name must be used by some test of this run.

"Used" is recorded while the suite runs where Python lets us see it: conftest.py
profiles every call into the native module (`sys.setprofile` reports calls of C
functions and methods), so a function or method counts only when a test really called
it. Properties, classes, exceptions and the protocol methods (`for`, `with`, `async
for` call those from C, which the profiler does not report) fall back on the test
sources: the bare name, or the statement that calls the protocol. This test runs last
(conftest.py orders it), so it sees the whole run; run alone it fails, as nothing
else was called.
"""

import inspect
import os
import pathlib
import re
import types
from typing import List, Set

import twinsync

from conftest import CALLED

HERE = pathlib.Path(__file__).resolve().parent
# The protocol methods that carry behaviour (`__iter__`/`__enter__` only return self).
PROTOCOL = ("__next__", "__exit__", "__anext__", "__aexit__")


def api_md() -> str:
    env = os.environ.get("TWINSYNC_API_MD")
    path = pathlib.Path(env) if env else HERE.parents[1] / "API.md"
    assert path.is_file(), f"no API.md at {path} (set TWINSYNC_API_MD)"
    return path.read_text()


def listed() -> List[str]:
    table = api_md().split("<!-- exports:begin -->")[1].split("<!-- exports:end -->")[0]
    rows = [r for r in table.splitlines() if r.startswith("|") and not r.startswith(("| Python", "| ---"))]
    return [n for n in (r.split("|")[1].strip().strip("`") for r in rows) if n]


def public_names() -> List[str]:
    return [
        n for n in dir(twinsync) if not n.startswith("_") and not isinstance(getattr(twinsync, n), types.ModuleType)
    ]


def exported() -> Set[str]:
    names = set(public_names())
    for name in public_names():
        value = getattr(twinsync, name)
        if inspect.isclass(value) and not issubclass(value, BaseException):
            names |= {f"{name}.{m}" for m in dir(value) if not m.startswith("_") and m not in dir(object)}
            names |= {f"{name}.{m}" for m in PROTOCOL if m in vars(value)}
    return names


def recorded(name: str) -> bool:
    """Whether profiling can see calls of `name`: a function or a method, not a
    property, class, exception or protocol method."""
    cls, _, member = name.partition(".")
    value = getattr(twinsync, cls)
    if not member:
        return not inspect.isclass(value)
    return member not in PROTOCOL and callable(inspect.getattr_static(value, member))


def sources() -> str:
    return "\n".join(p.read_text() for p in sorted(HERE.glob("test_*.py")) if p.name != "test_exports.py")


def test_all_is_the_public_names():
    assert sorted(twinsync.__all__) == sorted(public_names())


def test_api_md_lists_exactly_the_public_names():
    want, have = set(listed()), exported()
    assert sorted(want - have) == [], "listed in API.md, not exported"
    assert sorted(have - want) == [], "exported, not listed in API.md"


def test_every_listed_export_is_called_by_some_test():
    text = sources()

    def used(name: str) -> bool:
        if recorded(name):
            return name in CALLED
        last = name.rpartition(".")[2]
        if last == "__next__":
            return re.search(r"(?<!async )\bfor\s+\w+\s+in\s+\w*watch\b|\bnext\(", text) is not None
        if last == "__exit__":
            return re.search(r"(?<!async )\bwith\s+\w+\.watch\(", text) is not None
        if last == "__anext__":
            return re.search(r"\basync\s+for\s+\w+\s+in\s+\w*watch\b|\banext\(", text) is not None
        if last == "__aexit__":
            return re.search(r"\basync\s+with\s+\w+\.watch\(", text) is not None
        return re.search(rf"\b{re.escape(last)}\b", text) is not None

    assert [n for n in listed() if not used(n)] == []
