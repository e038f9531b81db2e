"""Design from Python: story coverage and CSF3 scaffolds from a components file."""

import json

import pytest

import twinsync

from conftest import run_beside_a_counter


@pytest.fixture
def design(tmp_path):
    """A Button with size sm|md|lg, and Storybook stories for sm and md."""
    (tmp_path / "components.json").write_text(json.dumps({"components": [{
        "name": "Button", "source": "src/Button.tsx", "title": "Components/Button",
        "props": [{"name": "size", "kind": "variant", "options": ["sm", "md", "lg"]}]}]}))
    story = lambda v: {"id": f"components-button--{v}", "title": "Components/Button", "name": v,
                       "importPath": "./src/Button.stories.tsx", "type": "story", "tags": ["dev"]}
    (tmp_path / "index.json").write_text(json.dumps({"v": 5, "entries": {
        f"components-button--{v}": story(v) for v in ("sm", "md")}}))
    return tmp_path


def test_coverage_counts_the_variants_the_index_shows(design):
    report = twinsync.design_coverage(str(design / "components.json"), str(design / "index.json"))
    (button,) = report["components"]
    assert (button["component"], button["covered_variants"], button["total_variants"]) == ("Button", 2, 3)
    assert button["missing_variants"] == [{"size": "lg"}]


def test_coverage_errors(design):
    with pytest.raises(twinsync.NotFoundError, match="nope.json") as e:
        twinsync.design_coverage(str(design / "nope.json"), str(design / "index.json"))
    assert e.value.code == "NOT_FOUND"
    with pytest.raises(twinsync.InvalidInput):
        twinsync.design_coverage(str(design / "index.json"), str(design / "components.json"))


def test_scaffold_writes_one_story_file_per_component(design):
    out = design / "stories"
    planned = twinsync.design_scaffold(str(design / "components.json"), str(out), dry_run=True, root=str(design))
    assert (planned["dry_run"], planned["files"][0]["outcome"], planned["files"][0]["stories"]) == (True, "created", 3)
    assert not out.exists()
    written = twinsync.design_scaffold(str(design / "components.json"), str(out), root=str(design))
    with open(written["files"][0]["path"]) as f:
        assert "Components/Button" in f.read()
    again = twinsync.design_scaffold("components.json", "stories", root=str(design))
    assert again["files"][0]["outcome"] == "unchanged"
    with pytest.raises(twinsync.NotFoundError):
        twinsync.design_scaffold(str(design / "nope.json"), str(out), root=str(design))


def test_scaffold_releases_the_gil(tmp_path):
    components = [{"name": f"Widget{i}", "source": f"src/Widget{i}.tsx", "title": f"Components/Widget{i}",
                   "props": [{"name": "size", "kind": "variant", "options": ["sm", "md", "lg"]},
                             {"name": "tone", "kind": "variant", "options": ["plain", "loud"]}]}
                  for i in range(300)]
    (tmp_path / "components.json").write_text(json.dumps({"components": components}))
    result, during = run_beside_a_counter(
        lambda: twinsync.design_scaffold("components.json", "stories", root=str(tmp_path)))
    assert len(result["files"]) == 300 and all(f["stories"] == 6 for f in result["files"])
    assert during > 0, "another Python thread ran while the scaffold did"
