"""Canonical hashing from Python: values, JSON text, text, bytes and tree digests."""

import hashlib
import json
from decimal import Decimal

import pytest

import twinsync


def sha(b: bytes) -> str:
    return "sha256:" + hashlib.sha256(b).hexdigest()


def test_canonical_hash_is_sha256_of_the_rfc8785_form():
    v = {"b": [1, 2.5, "x", (3, None)], "a": {"d": None, "c": True}}
    assert twinsync.canonicalize(v) == '{"a":{"c":true,"d":null},"b":[1,2.5,"x",[3,null]]}'
    assert twinsync.canonical_hash(v) == sha(b'{"a":{"c":true,"d":null},"b":[1,2.5,"x",[3,null]]}')
    assert twinsync.canonical_hash("\u00e9") == sha('"\u00e9"'.encode())
    assert twinsync.canonicalize(1.0) == "1"
    assert twinsync.canonicalize(1e21) == "1e+21"
    assert twinsync.canonicalize(-0.0) == "0"


class Text(str):
    pass


class Number(int):
    pass


class Mapping(dict):
    pass


def test_values_hash_as_their_json_text_does():
    # Python objects are canonicalised directly (no JSON text between); this checks
    # that path against the JSON-text path on what it must get exactly right: keys in
    # UTF-16 order (an astral character sorts before U+FFFD and U+E000), subclasses,
    # tuples, the 2^53 limit, -0.0, and documents larger than the 64 KiB hashing chunk.
    values = [
        {"\U0001f600": 1, "\ufffd": 2, "\ue000": 3, "z": 4, "é": 5, "": 6, "a\u0000b": 7, "\u20ac": 8},
        {Text("b"): Text("x\n\"\\\u2028"), "a": Number(7), "c": Mapping(d=True, e=None), "t": (1, 2.5, -0.0)},
        [2**53, -(2**53), 1e21, 1e-7, 0.1, 5e-324, 1.7976931348623157e308, True, False, None],
        {"rows": [{"id": i, "name": f"row {i} \u6f22\u5b57", "w": i / 7} for i in range(3000)]},
    ]
    for v in values:
        text = json.dumps(v, ensure_ascii=False)
        assert twinsync.canonical_hash(v) == twinsync.canonical_hash_json(text), text[:80]
        assert twinsync.canonicalize(v) == twinsync.canonicalize_json(text), text[:80]
    nested: list = [1]
    for _ in range(254):
        nested = [nested]
    # 255 levels of lists: within the default limit of 256, and at the limit.
    assert twinsync.canonicalize(nested) == "[" * 255 + "1" + "]" * 255
    assert twinsync.canonicalize(nested, max_depth=255) == "[" * 255 + "1" + "]" * 255
    with pytest.raises(twinsync.InvalidInput, match="deeper than 254"):
        twinsync.canonical_hash(nested, max_depth=254)
    # However large max_depth is, Python values nest at most 1000 deep (both walks recurse).
    for _ in range(1000):
        nested = [nested]
    with pytest.raises(twinsync.InvalidInput, match="deeper than 1000"):
        twinsync.canonical_hash(nested, max_depth=5000)


def test_ignore_patterns_drop_volatile_members():
    a = {"id": 1, "updatedAt": "2024", "items": [{"id": 7, "name": "x"}]}
    b = {"id": 1, "updatedAt": "2025", "items": [{"id": 9, "name": "x"}]}
    assert twinsync.canonical_hash(a) != twinsync.canonical_hash(b)
    ig = ["/updatedAt", "/items/*/id"]
    assert twinsync.canonical_hash(a, ignore=ig) == twinsync.canonical_hash(b, ignore=ig)
    assert twinsync.canonicalize(a, ignore=["/**/id"]) == '{"items":[{"name":"x"}],"updatedAt":"2024"}'


def test_json_text_and_bytes_hash_like_the_values_they_hold():
    text = '{ "b": 1.0, "a": [1e2] }'
    assert twinsync.canonicalize_json(text) == '{"a":[100],"b":1}'
    assert twinsync.canonical_hash_json(text) == twinsync.canonical_hash({"a": [100], "b": 1})
    assert twinsync.canonical_hash_json(text.encode()) == twinsync.canonical_hash_json(text)


def test_big_integers_follow_the_policy():
    big = 12345678901234567890
    with pytest.raises(twinsync.InvalidInput, match="beyond 2\\^53"):
        twinsync.canonical_hash(big)
    assert twinsync.canonicalize(big, big_integers="string") == '"12345678901234567890"'
    assert twinsync.canonicalize(2**53) == "9007199254740992"


def test_bad_input_raises_invalid_input_naming_the_path():
    with pytest.raises(twinsync.InvalidInput, match='duplicate key "a"') as e:
        twinsync.canonical_hash_json('{"a":1,"a":2}')
    assert e.value.code == "INVALID_INPUT"
    assert isinstance(e.value, twinsync.TwinsyncError)
    with pytest.raises(twinsync.InvalidInput, match="/a/1: a set is not JSON"):
        twinsync.canonical_hash({"a": [1, {2}]})
    with pytest.raises(twinsync.InvalidInput, match="/x: NaN is not a JSON number"):
        twinsync.canonical_hash({"x": float("nan")})
    with pytest.raises(twinsync.InvalidInput, match="keys must be strings"):
        twinsync.canonical_hash({1: "a"})
    with pytest.raises(twinsync.InvalidInput, match="Decimal is not JSON"):
        twinsync.canonical_hash(Decimal("1.5"))
    with pytest.raises(twinsync.InvalidInput, match="JSON Pointer"):
        twinsync.canonical_hash({}, ignore=["updatedAt"])
    with pytest.raises(twinsync.InvalidInput, match="big_integers"):
        twinsync.canonical_hash({}, big_integers="round")  # type: ignore[arg-type]
    with pytest.raises(twinsync.InvalidInput, match="deeper than 2"):
        twinsync.canonicalize([[[1]]], max_depth=2)
    with pytest.raises(twinsync.InvalidInput, match="expected str or bytes"):
        twinsync.canonicalize_json(12)  # type: ignore[arg-type]
    with pytest.raises(twinsync.InvalidInput, match="invalid JSON"):
        twinsync.canonicalize_json("[1,")
    deep: list = []
    for _ in range(2000):
        deep = [deep]
    with pytest.raises(twinsync.InvalidInput, match="deeper than"):
        twinsync.canonical_hash(deep)


def test_hash_text_normalises_hash_bytes_does_not():
    assert twinsync.hash_text("a\r\nb\n") == twinsync.hash_text("\ufeffa\nb\n") == sha(b"a\nb\n")
    assert twinsync.hash_text("a  \n", trim_trailing_whitespace=True) == twinsync.hash_text("a\n")
    assert twinsync.hash_bytes(b"abc") == "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert twinsync.hash_bytes(b"a\r\n") != twinsync.hash_bytes(b"a\n")


def test_tree_digest_takes_digests_or_contents():
    by_content = twinsync.tree_digest({"b.json": {"x": 1}, "a.md": "# A\n"})
    by_digest = twinsync.tree_digest({"a.md": twinsync.hash_text("# A\r\n"), "b.json": twinsync.canonical_hash({"x": 1.0})})
    assert by_content == by_digest
    assert by_content != twinsync.tree_digest({"a.md": "# A\n"})
    with pytest.raises(twinsync.InvalidInput, match="escape"):
        twinsync.tree_digest({"../escape": "x"})
    with pytest.raises(twinsync.InvalidInput, match="invalid digest"):
        twinsync.tree_digest({"a": "sha256:nothex"})
    with pytest.raises(twinsync.InvalidInput, match="expected an object"):
        twinsync.tree_digest([1, 2])  # type: ignore[arg-type]


def test_exception_hierarchy_and_codes():
    expected = {
        twinsync.InvalidInput: "INVALID_INPUT",
        twinsync.NotFoundError: "NOT_FOUND",
        twinsync.ConflictError: "CONFLICT",
        twinsync.LockedError: "LOCKED",
        twinsync.ExpiredError: "EXPIRED",
        twinsync.UnsafeError: "UNSAFE",
        twinsync.TwinsyncIOError: "IO",
    }
    for cls, code in expected.items():
        assert issubclass(cls, twinsync.TwinsyncError)
        assert issubclass(cls, Exception)
        assert cls.code == code
        assert cls.__module__ == "twinsync"
