"""OpenSpec folders from Python: list, show and validate."""

import json

import pytest

import twinsync

SPEC = """# auth Specification

## Purpose
Sign users in.

## Requirements
### Requirement: Login
The system SHALL let users sign in.

#### Scenario: Good password
- **WHEN** the password matches
- **THEN** the user is signed in
"""


@pytest.fixture
def workspace(tmp_path):
    change = tmp_path / "openspec" / "changes" / "add-login"
    change.mkdir(parents=True)
    (tmp_path / "openspec" / "specs" / "auth").mkdir(parents=True)
    (change / "proposal.md").write_text("# Add login\n\n## Why\nUsers need accounts.\n\n## What Changes\n- **auth:** add a login form\n")
    (change / "tasks.md").write_text("## 1. Build\n- [x] 1.1 Form\n- [ ] 1.2 Session\n")
    (tmp_path / "openspec" / "specs" / "auth" / "spec.md").write_text(SPEC)
    return tmp_path


def test_list_show_validate_as_the_openspec_cli(workspace):
    listed = twinsync.openspec_list(str(workspace / "openspec" / "changes"))
    assert [(c["name"], c["completedTasks"], c["totalTasks"]) for c in listed["changes"]] == [("add-login", 1, 2)]
    assert '"auth"' in json.dumps(twinsync.openspec_list(str(workspace), specs=True))
    assert "add-login" in json.dumps(twinsync.openspec_show(str(workspace), "add-login", kind="change"))
    assert isinstance(twinsync.openspec_validate(str(workspace))["valid"], bool)
    with pytest.raises(twinsync.NotFoundError, match="nope"):
        twinsync.openspec_show(str(workspace), "nope")


def test_no_openspec_folder_is_not_found(tmp_path):
    with pytest.raises(twinsync.NotFoundError, match="openspec"):
        twinsync.openspec_list(str(tmp_path))


def test_sync_previews_then_copies_the_folder_into_its_database(workspace):
    preview = twinsync.openspec_sync(str(workspace), dry_run=True)
    assert preview["mode"] == "preview"
    assert sorted(r["id"] for r in preview["rows"]) == ["add-login", "auth"]
    synced = twinsync.openspec_sync(str(workspace), policy="manual")
    assert (synced["mode"], synced["report"]["policy"]) == ("synced", "manual")
    assert sorted((i["id"], i["outcome"]) for i in synced["report"]["items"]) == [("add-login", "created"), ("auth", "created")]
    assert (workspace / ".twinsync" / "openspec.db").is_file()
    assert twinsync.openspec_sync(str(workspace))["report"]["items"] == []


def test_the_lifecycle_status_is_set_from_outside(workspace):
    twinsync.openspec_sync(str(workspace))
    row = twinsync.openspec_set_status(str(workspace), "add-login", "approved")
    assert (row["id"], row["status"]) == ("add-login", "approved")
    spec = twinsync.openspec_set_status(str(workspace), "auth", "review", kind="spec")
    assert (spec["type"], spec["status"]) == ("spec", "review")
    with pytest.raises(twinsync.InvalidInput, match="done"):
        twinsync.openspec_set_status(str(workspace), "add-login", "done")  # type: ignore[arg-type]
    with pytest.raises(twinsync.NotFoundError, match="nope"):
        twinsync.openspec_set_status(str(workspace), "nope", "approved")


def test_sync_errors_name_the_problem(workspace, tmp_path_factory):
    with pytest.raises(twinsync.InvalidInput, match="yolo"):
        twinsync.openspec_sync(str(workspace), policy="yolo")  # type: ignore[arg-type]
    with pytest.raises(twinsync.NotFoundError, match="nope"):
        twinsync.openspec_sync(str(workspace), change="nope")
    with pytest.raises(twinsync.NotFoundError, match="openspec"):
        twinsync.openspec_sync(str(tmp_path_factory.mktemp("empty")))
