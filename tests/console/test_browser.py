"""Every console action driven in headless Chromium, on a local and an S3 (moto) mount.

The local case is the console exactly as the README's first command starts it (the
embedded default mounts); the S3 case runs on a versioned moto bucket. Screenshots go to
``.run/screenshots/console-<case>/`` (gitignored); ``GENRO_UPDATE_SCREENSHOTS=1`` also
refreshes the README's ``docs/img/console.png`` from the local case. axe-core (npm) runs
in the page at several states: no serious or critical violation is allowed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.console._console import running_console, running_default
from tests.integrations import servers
from tests.integrations.test_example_projects import require_browser

SHOTS = servers.REPO / ".run" / "screenshots"
README_SHOT = servers.REPO / "docs" / "img" / "console.png"
SCRIPT = Path(__file__).parent / "browser" / "console.cjs"
ACTIONS = {
    "browse", "upload", "filter", "sort", "keyboard", "mkdir", "rename", "download",
    "preview", "copy", "share", "delete", "readonly", "pages", "drop",
}  # fmt: skip
MANY = 250  # entries of the folder ``many``: two pages of the page's 200


def axe_script(playwright: Path) -> Path:
    found = playwright.parent / "axe-core" / "axe.min.js"
    if not found.is_file():
        pytest.fail(f"{found} missing: run bash scripts/install.sh (npm phase)")
    return found


@pytest.fixture(params=["local", "s3"])
def case(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str, dict]]:
    """(kind, console URL, what the browser script works on)."""
    kind = request.param
    uploads = [tmp_path / "up-a.bin", tmp_path / "up-b.bin"]
    uploads[0].write_bytes(os.urandom(200_000))
    uploads[1].write_bytes(os.urandom(1_500))
    if kind == "local":
        spec = {"main": "files", "target": "scratch", "readonly": "samples",
                "text": "hello.txt", "versions": False}  # fmt: skip
        many = tmp_path / "default" / "many"
        many.mkdir(parents=True)
        for i in range(MANY):
            (many / f"item-{i:03d}.txt").write_text(str(i))
        with running_default(tmp_path) as url:
            yield kind, url, spec | {"kind": kind, "uploads": [str(p) for p in uploads]}
        return
    replacement = tmp_path / "replace" / "notes.txt"
    replacement.parent.mkdir()
    replacement.write_text("replaced text\n")
    spec = {"main": "main", "target": "scratch", "readonly": "library", "text": "notes.txt",
            "versions": True, "replacement": str(replacement)}  # fmt: skip
    with running_console("s3", tmp_path) as console:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda i: console.storage.node(f"main:many/item-{i:03d}.txt")
                          .write_text(str(i)), range(MANY)))  # fmt: skip
        yield kind, console.url, spec | {"kind": kind, "uploads": [str(p) for p in uploads]}


def test_every_action_in_headless_chromium(case: tuple[str, str, dict], tmp_path: Path) -> None:
    kind, url, spec = case
    playwright = require_browser()
    out = SHOTS / f"console-{kind}"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    spec_file = tmp_path / "case.json"
    spec_file.write_text(json.dumps(spec))
    run = subprocess.run(
        ["node", str(SCRIPT), str(playwright), str(axe_script(playwright)), url,
         str(spec_file), str(out)],
        capture_output=True, text=True, timeout=150, env=servers.clean_env(),
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert "failure" not in result, result.get("failure")
    assert not result["errors"], result["errors"]
    proven = set(result["proven"])
    assert proven >= ACTIONS | ({"versions"} if spec["versions"] else set()), proven

    assert result["mounts"] == [spec["main"], spec["target"], spec["readonly"]]
    assert result["firstPageRows"] == 200 and "more to load" in result["firstPageCount"]
    assert result["allRows"] == MANY
    assert result["dropped"] == "dropped by the test\n"
    assert result["uploaded"] == [True, True] and set(result["uploadStates"]) == {"done"}
    assert result["sizeText"] == "200 kB"
    assert result["filtered"] == 2
    assert (result["sortAsc"], result["sortDesc"]) == ("ascending", "descending")
    assert result["sizesAsc"] == sorted(result["sizesAsc"])
    assert result["sizesDesc"] == sorted(result["sizesDesc"], reverse=True)
    assert result["slashFocusesFilter"] and result["firstRowFocused"] and result["keyboard"]
    assert result["emptyShown"]  # the new folder, before its first file
    assert result["renamed"] and result["downloadSame"]
    assert result["downloadName"] == "renamed.bin"
    first_line = "Hello from genro-storage!" if kind == "local" else "first line"
    assert first_line in result["textPreview"]
    assert result["imageWidth"] == 160
    assert result["pdfHead"] == {"status": 206, "text": "%PDF-"}
    assert result["audioDuration"] > 1
    assert any("chime.wav" in r["url"] for r in result["ranges"]), result["ranges"]
    assert result["videoUpload"] == 201 and result["videoWidth"] == 160
    assert any("clip.webm" in r["url"] for r in result["ranges"]), result["ranges"]
    assert "4 of 4 files" in result["copyDetail"]  # media: png, pdf, wav and the clip
    # the second copy's event stream was cut: the page followed it by asking for its state
    assert result["copyPolledDetail"].startswith("done: 4 of 4 files")
    assert result["signedStatus"] == 200
    if kind == "s3":
        assert result["presignedStatus"] == 200 and result["presignedBody"] == result["signedBody"]
        assert result["versionRows"] == 2
        assert result["oldVersion"] == "first line\nsecond line\n"
        assert result["restored"] == "first line\nsecond line\n"
    else:
        assert result["presigned"] is None
        assert result["signedBody"] == "Hello from genro-storage!\n"
    assert "cannot be undone" in result["confirmText"] and result["keptAfterCancel"]
    assert result["deleted"]
    readonly = result["readonly"]
    assert readonly == {"uploadVisible": False, "mkdirVisible": False, "writeButtons": 0,
                        "badge": 1, "refused": 403}  # fmt: skip

    serious = [
        (state["state"], v["id"], v["help"])
        for state in result["axe"]
        for v in state["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert len(result["axe"]) >= 4 and not serious, serious
    for name in ("01-browse", "02-uploaded", "03-preview-image", "05-copied", "08-readonly"):
        assert (out / f"{name}.png").stat().st_size > 5000
    (out / "result.json").write_text(json.dumps(result, indent=1))
    if kind == "local" and os.environ.get("GENRO_UPDATE_SCREENSHOTS") == "1":
        README_SHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(out / "console.png", README_SHOT)
