"""Every export called: the Python column of the Exports table in bindings/API.md must
be exactly the package's public names (and its classes' public members), and each
listed name must be called (a function or method) or used (a class, a property, an
exception) by some test here. The scan reads the test sources: `name(` for a callable,
the bare name otherwise; iterating a watch calls `Watch.__next__`,
and a `with` block `Watch.__exit__`."""

import inspect
import os
import pathlib
import re
from typing import List, Set

import twinsync

HERE = pathlib.Path(__file__).resolve().parent


def api_md() -> str:
    env = os.environ.get("TWINSYNC_API_MD")
    path = pathlib.Path(env) if env else HERE.parents[1] / "API.md"
    assert path.is_file(), f"no API.md at {path} (set TWINSYNC_API_MD)"
    return path.read_text()


def listed() -> List[str]:
    table = api_md().split("<!-- exports:begin -->")[1].split("<!-- exports:end -->")[0]
    rows = [r for r in table.splitlines() if r.startswith("|") and not r.startswith(("| Python", "| ---"))]
    return [n for n in (r.split("|")[1].strip().strip("`") for r in rows) if n]


def exported() -> Set[str]:
    names = set(twinsync.__all__)
    for name in twinsync.__all__:
        value = getattr(twinsync, name)
        if inspect.isclass(value) and not issubclass(value, BaseException):
            names |= {f"{name}.{m}" for m in vars(value) if not m.startswith("_")}
            names |= {f"{name}.{m}" for m in ("__next__", "__exit__") if m in vars(value)}
    return names


def is_callable(name: str) -> bool:
    cls, _, member = name.partition(".")
    value = getattr(twinsync, cls)
    if not member:
        return not inspect.isclass(value)
    return callable(vars(value)[member])


def sources() -> str:
    return "\n".join(p.read_text() for p in sorted(HERE.glob("test_*.py")) if p.name != "test_exports.py")


def test_api_md_lists_exactly_the_public_names():
    want, have = set(listed()), exported()
    assert sorted(want - have) == [], "listed in API.md, not exported"
    assert sorted(have - want) == [], "exported, not listed in API.md"


def test_every_listed_export_is_called_by_some_test():
    text = sources()

    def called(name: str) -> bool:
        last = name.rpartition(".")[2]
        if last == "__next__":
            return re.search(r"\bfor\s+\w+\s+in\s+\w*watch\b|\bnext\(", text) is not None
        if last == "__exit__":
            return re.search(r"\bwith\s+\w+\.watch\(", text) is not None
        pattern = rf"\b{re.escape(last)}\s*\(" if is_callable(name) else rf"\b{re.escape(last)}\b"
        return re.search(pattern, text) is not None

    assert [n for n in listed() if not called(n)] == []
