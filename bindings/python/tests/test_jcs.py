"""The repository's RFC 8785 conformance data (tests/jcs), checked through the Python binding."""

import json
import math
import struct

import pytest

import twinsync


def cases(jcs_dir):
    return sorted(p.name for p in (jcs_dir / "input").iterdir())


@pytest.mark.parametrize("name", ["arrays.json", "french.json", "structures.json", "unicode.json", "values.json", "weird.json"])
def test_jcs_files(jcs_dir, name):
    assert name in cases(jcs_dir)
    raw = (jcs_dir / "input" / name).read_bytes()
    expected = (jcs_dir / "output" / name).read_bytes()
    hexed = (jcs_dir / "outhex" / name.replace(".json", ".txt")).read_text().split()
    assert bytes(int(h, 16) for h in hexed) == expected
    assert twinsync.canonicalize_json(raw).encode() == expected
    assert twinsync.canonicalize(json.loads(raw)).encode() == expected
    assert twinsync.canonical_hash_json(raw) == twinsync.hash_bytes(expected)
    # Objects in: written and hashed straight from the dicts, without JSON text between.
    assert twinsync.canonical_hash(json.loads(raw)) == twinsync.hash_bytes(expected)


@pytest.mark.parametrize("name", ["es6_static_u64.txt", "es6 vector, 100k lines"])
def test_jcs_numbers(jcs_dir, es6_vector, name):
    text = (jcs_dir / "numbers" / name).read_text() if name.endswith(".txt") else es6_vector
    values, expected = [], []
    for line in text.splitlines():
        hexbits, _, want = line.partition(",")
        v = struct.unpack(">d", int(hexbits, 16).to_bytes(8, "big"))[0]
        if not math.isfinite(v):
            continue
        values.append(v)
        expected.append(want or None)
    assert len(values) > 100
    got = twinsync.canonicalize(values)[1:-1].split(",")
    assert len(got) == len(values)
    for v, g, want in zip(values, got, expected):
        # Without an expected form (the static list), the JSON text must denote the same double.
        assert (g == want) if want is not None else (float(g) == v), f"{v!r}: got {g}, expected {want}"
    if expected[0] is not None:
        text = "[" + ",".join(expected) + "]"
        assert twinsync.canonicalize_json(text) == text
