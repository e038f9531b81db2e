"""OpenSpec and design functions of the uniffi Python bindings, on real files: the
project's OpenSpec corpus (tests/openspec-corpus), compared with what the real OpenSpec CLI
prints for it (test.sh runs the pinned CLI into TWINSYNC_OPENSPEC_EXPECTED), and a real
Storybook index."""

import json
import os
import pathlib
import shutil

import pytest

import twinsync_uniffi as ts

HERE = pathlib.Path(__file__).resolve().parent
# Default: the checkout's corpus (python -> tests -> uniffi -> bindings -> checkout).
CORPUS = pathlib.Path(os.environ.get("TWINSYNC_OPENSPEC_DIR") or HERE.parents[3] / "tests" / "openspec-corpus")
# The CLI's answers on CORPUS, written by test.sh when it runs the suite.
EXPECTED = os.environ.get("TWINSYNC_OPENSPEC_EXPECTED")
# A Storybook 7.6 build's index.json (public, see SOURCES.md beside it); default: the
# checkout's copy (python -> tests -> uniffi -> bindings -> checkout).
INDEX = pathlib.Path(os.environ.get("TWINSYNC_STORYBOOK_INDEX") or HERE.parents[3] / "crates" / "twinsync-design"
                     / "tests" / "fixtures" / "research" / "crayfisher-zari_digital-agency-design-system__index.v4.json")


@pytest.fixture(scope="module")
def corpus():
    assert (CORPUS / "openspec" / "changes").is_dir(), f"no OpenSpec corpus at {CORPUS} (set TWINSYNC_OPENSPEC_DIR)"
    return CORPUS


def expected(name):
    assert EXPECTED, "no CLI answers: run bindings/uniffi/test.sh (it sets TWINSYNC_OPENSPEC_EXPECTED)"
    with open(pathlib.Path(EXPECTED) / name, encoding="utf-8") as f:
        return json.load(f)


def scrub(v):
    """Drops what depends on the machine or the clock."""
    if isinstance(v, dict):
        return {k: scrub(x) for k, x in v.items() if k not in ("root", "lastModified", "durationMs")}
    if isinstance(v, list):
        return [scrub(x) for x in v]
    return v


def raises(case, fragment):
    """Expects the error case `case` whose message contains `fragment`."""
    return pytest.raises(case, match=fragment.replace(".", r"\."))


# --- OpenSpec: list, show, validate ---------------------------------------------------


def test_openspec_list_is_the_cli_list_of_the_corpus(corpus):
    ours = json.loads(ts.openspec_list(str(corpus)))
    theirs = expected("list.json")
    # The default order follows file times, which differ between checkouts.
    by_name = lambda doc: sorted(scrub(doc)["changes"], key=lambda c: c["name"])
    assert len(ours["changes"]) == 11
    assert by_name(ours) == by_name(theirs)


def test_openspec_list_specs_is_the_cli_list_of_specs(corpus):
    ours = json.loads(ts.openspec_list(str(corpus / "openspec" / "specs"), specs=True))
    assert scrub(ours) == scrub(expected("list-specs.json"))
    assert len(ours["specs"]) == 7


def test_openspec_show_a_change_gives_its_deltas(corpus):
    ours = json.loads(ts.openspec_show(str(corpus), "add-update-workflow", ts.OpenspecKind.CHANGE))
    assert scrub(ours) == scrub(expected("show-change/add-update-workflow.json"))
    assert ours["deltaCount"] == 5
    assert {d["spec"] for d in ours["deltas"]} == {"cli-update", "cli-list", "cli-refresh"}
    # Without a kind the id alone finds the change.
    assert json.loads(ts.openspec_show(str(corpus), "add-update-workflow")) == ours


def test_openspec_show_a_spec_gives_its_requirements(corpus):
    ours = json.loads(ts.openspec_show(str(corpus), "cli-list", kind=ts.OpenspecKind.SPEC))
    assert scrub(ours) == scrub(expected("show-spec/cli-list.json"))
    assert ours["requirementCount"] == len(ours["requirements"]) == 4


def test_openspec_validate_reports_what_the_cli_reported(corpus):
    ours = json.loads(ts.openspec_validate(str(corpus)))
    assert ours.pop("valid") is False
    assert scrub(ours) == scrub(expected("validate.json"))
    failed = sorted(i["id"] for i in ours["items"] if not i["valid"])
    assert failed == [
        "add-global-install-scope",
        "auth/session",
        "broken",
        "cli-list",
        "empty-change",
        "legacy-simple-deltas",
        "malformed-deltas",
        "placeholder",
    ]
    strict = json.loads(ts.openspec_validate(str(corpus), strict=True))
    assert strict.pop("valid") is False
    assert scrub(strict) == scrub(expected("validate-strict.json"))


def test_openspec_errors_name_the_folder_or_the_id(corpus, tmp_path):
    with raises(ts.TwinsyncError.NotFound, str(tmp_path)):
        ts.openspec_list(str(tmp_path))
    with raises(ts.TwinsyncError.NotFound, str(tmp_path / "missing")):
        ts.openspec_validate(str(tmp_path / "missing"))
    with raises(ts.TwinsyncError.NotFound, "no-such-change"):
        ts.openspec_show(str(corpus), "no-such-change")
    # A change id asked for as a spec is not found either.
    with raises(ts.TwinsyncError.NotFound, "add-update-workflow"):
        ts.openspec_show(str(corpus), "add-update-workflow", ts.OpenspecKind.SPEC)


# --- OpenSpec: sync with the database ----------------------------------------------


@pytest.fixture
def project(corpus, tmp_path):
    """A copy of the corpus's openspec/ folder: syncing writes beside it."""
    shutil.copytree(corpus / "openspec", tmp_path / "openspec")
    return tmp_path


def test_openspec_preview_plans_every_row_and_writes_no_file(project):
    before = sorted(p for p in (project / "openspec").rglob("*"))
    preview = ts.openspec_preview(str(project))
    # 10 active changes (the dot-folder is not synced), 3 archived, 7 specs: all new.
    assert len(preview.rows) == 10 + 3 + 7
    assert {r.row for r in preview.rows} == {"create"}
    row = next(r for r in preview.rows if r.id == "add-update-workflow")
    assert (row.kind, row.path) == (ts.OpenspecKind.CHANGE, "changes/add-update-workflow")
    # Its documents and its delta specs, which the database keeps too.
    assert {d.doc for d in row.docs} == {
        "proposal.md", "tasks.md", "design.md",
        "specs/cli-list/spec.md", "specs/cli-refresh/spec.md", "specs/cli-update/spec.md",
    }
    assert sorted(p for p in (project / "openspec").rglob("*")) == before
    assert pathlib.Path(preview.db) == project / ".twinsync" / "openspec.db"


def test_openspec_sync_copies_the_folder_then_changes_nothing_then_picks_up_an_edit(project):
    first = ts.openspec_sync(str(project))
    db = project / ".twinsync" / "openspec.db"
    assert db.is_file() and pathlib.Path(first.db) == db
    r = first.report
    assert (r.trigger, r.policy, r.checked, r.failed, r.conflicts) == ("manual", "fs-wins", 20, 0, 0)
    assert len(r.items) == 20
    assert {(i.outcome, tuple(i.directions)) for i in r.items} == {("created", ("fs->db",))}
    spec = next(i for i in r.items if i.id == "cli-list")
    assert (spec.kind, spec.files) == (ts.OpenspecKind.SPEC, ["specs/cli-list/spec.md"])

    again = ts.openspec_sync(str(project))
    assert (again.report.checked, again.report.items) == (20, [])
    assert ts.openspec_preview(str(project)).rows == []

    spec_md = project / "openspec" / "specs" / "cli-list" / "spec.md"
    spec_md.write_text(spec_md.read_text(encoding="utf-8") + "\nEdited on disk.\n", encoding="utf-8")
    planned = ts.openspec_preview(str(project)).rows
    assert [(p.id, p.row, [d.doc for d in p.docs]) for p in planned] == [("cli-list", "update", ["spec.md"])]
    edited = ts.openspec_sync(str(project)).report
    assert [(i.id, i.outcome, i.directions, i.files) for i in edited.items] == [
        ("cli-list", "updated", ["fs->db"], ["specs/cli-list/spec.md"])
    ]
    assert ts.openspec_sync(str(project)).report.items == []


def test_openspec_status_is_set_from_outside(project):
    ts.openspec_sync(str(project))
    row = json.loads(ts.openspec_set_status(str(project), "add-update-workflow", "approved"))
    assert (row["id"], row["status"]) == ("add-update-workflow", "approved")
    spec = json.loads(ts.openspec_set_status(str(project), "cli-list", "review", ts.OpenspecKind.SPEC))
    assert (spec["type"], spec["status"]) == ("spec", "review")
    with raises(ts.TwinsyncError.InvalidInput, "done"):
        ts.openspec_set_status(str(project), "add-update-workflow", "done")
    with raises(ts.TwinsyncError.NotFound, "no-such-change"):
        ts.openspec_set_status(str(project), "no-such-change", "approved")


def test_openspec_sync_of_one_change_with_a_policy(project):
    r = ts.openspec_sync(str(project), ts.OpenspecSyncOptions(change="add-update-workflow", policy="manual")).report
    assert r.policy == "manual"
    assert [(i.kind, i.id, i.outcome) for i in r.items] == [(ts.OpenspecKind.CHANGE, "add-update-workflow", "created")]
    # The rest of the folder is still new to the database.
    assert len(ts.openspec_preview(str(project)).rows) == 19


def test_openspec_sync_errors_name_the_problem(project, tmp_path_factory):
    with raises(ts.TwinsyncError.InvalidInput, "yolo"):
        ts.openspec_sync(str(project), ts.OpenspecSyncOptions(policy="yolo"))
    with raises(ts.TwinsyncError.InvalidInput, "yolo"):
        ts.openspec_preview(str(project), ts.OpenspecSyncOptions(policy="yolo"))
    with raises(ts.TwinsyncError.NotFound, "no-such-change"):
        ts.openspec_sync(str(project), ts.OpenspecSyncOptions(change="no-such-change"))
    empty = tmp_path_factory.mktemp("empty")
    with raises(ts.TwinsyncError.NotFound, str(empty)):
        ts.openspec_sync(str(empty))
    assert not (empty / ".twinsync").exists()


# --- design: coverage and scaffolds ------------------------------------------------


@pytest.fixture
def components(tmp_path):
    """The sample Button of that Storybook project, as a twinsync components.json:
    `primary: boolean`, `size: small | medium | large` (default medium)."""
    path = tmp_path / "components.json"
    path.write_text(json.dumps({"components": [{
        "name": "Button", "source": "./src/stories/Button.vue", "title": "Example/Button",
        "props": [{"name": "primary", "kind": "boolean", "default": False},
                  {"name": "size", "kind": "variant", "options": ["small", "medium", "large"], "default": "medium"}],
    }]}))
    return path


def test_design_coverage_of_a_real_storybook_index(components):
    r = ts.design_coverage(str(components), str(INDEX))
    assert r.totals == ts.CoverageTotals(components=1, total_variants=6, covered_variants=3, percent=50.0, stories=3,
                                         fully_covered_components=0, components_missing_test_kinds=1, warnings=0)
    (button,) = r.components
    assert (button.component, button.source, button.covered_variants, button.total_variants) == (
        "Button", "./src/stories/Button.vue", 3, 6)
    # Primary shows primary=true; Large and Small show a size; nothing shows primary with small or large.
    assert sorted(json.loads(v)["size"] for v in button.missing_variants if json.loads(v)["primary"]) == ["large", "small"]
    assert button.missing_test_kinds == [ts.TestKind.INTERACTION, ts.TestKind.VISUAL, ts.TestKind.A11Y]
    assert [(s.component, s.story_id, s.name) for s in r.unmatched_stories] == [
        ("Button", "example-button--secondary", "Secondary")]
    assert sorted(r.orphan_stories) == ["example-header--logged-in", "example-header--logged-out",
                                        "example-page--logged-in", "example-page--logged-out"]


def test_design_coverage_errors_name_the_file(components, tmp_path):
    with raises(ts.TwinsyncError.NotFound, "nope.json"):
        ts.design_coverage(str(tmp_path / "nope.json"), str(INDEX))
    with raises(ts.TwinsyncError.NotFound, "index.json"):
        ts.design_coverage(str(components), str(tmp_path / "index.json"))
    # The two files the wrong way round: an index where components belong.
    with raises(ts.TwinsyncError.InvalidInput, "found Storybook index"):
        ts.design_coverage(str(INDEX), str(components))


def test_design_scaffold_dry_run_writes_nothing_then_writes_then_leaves_files_alone(components, tmp_path):
    out = tmp_path / "stories"
    planned = ts.design_scaffold(str(components), str(out), ts.DesignScaffoldOptions(dry_run=True, root=str(tmp_path)))
    assert planned.dry_run is True
    (f,) = planned.files
    assert (f.component, f.outcome, f.stories, f.total_variants, f.skipped, f.pairwise) == (
        "Button", ts.ScaffoldOutcome.CREATED, 6, 6, 0, False)
    assert not out.exists() and not (tmp_path / ".twinsync").exists()

    written = ts.design_scaffold("components.json", "stories", ts.DesignScaffoldOptions(root=str(tmp_path)))
    (w,) = written.files
    assert (written.dry_run, w.outcome, w.story_ids) == (False, ts.ScaffoldOutcome.CREATED, f.story_ids)
    story = pathlib.Path(w.path)
    assert story.parent == out and story.is_file()
    text = story.read_text(encoding="utf-8")
    assert "Example/Button" in text

    # A hand edit survives a second run, which leaves the file as it is.
    edited = text + "\n// kept by hand\n"
    story.write_text(edited, encoding="utf-8")
    again = ts.design_scaffold("components.json", "stories", ts.DesignScaffoldOptions(root=str(tmp_path)))
    assert [x.outcome for x in again.files] == [ts.ScaffoldOutcome.UNCHANGED]
    assert story.read_text(encoding="utf-8") == edited


def test_design_scaffold_pairwise_skips_combinations(tmp_path):
    (tmp_path / "components.json").write_text(json.dumps({"components": [{
        "name": "Chip", "source": "src/Chip.tsx", "title": "Components/Chip",
        "props": [{"name": a, "kind": "variant", "options": ["x", "y", "z"]} for a in ("size", "tone", "shape")]}]}))
    (f,) = ts.design_scaffold("components.json", "stories",
                              ts.DesignScaffoldOptions(pairwise=True, dry_run=True, root=str(tmp_path))).files
    assert (f.pairwise, f.total_variants) == (True, 27)
    assert f.stories + f.skipped == 27 and 9 <= f.stories < 27
    assert len(f.story_ids) == f.stories


def test_design_scaffold_of_a_missing_file_is_not_found(tmp_path):
    with raises(ts.TwinsyncError.NotFound, "nope.json"):
        ts.design_scaffold(str(tmp_path / "nope.json"), str(tmp_path / "stories"))
