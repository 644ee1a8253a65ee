"""The docs and messages cite what exists: tests by name, files by path, sections by heading; and the
package imports lightly. (Lint and types are steps of scripts/test.sh of their own, before the tests.)"""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent


def test_unpickling_the_provider_does_not_import_the_http_stack():
    # A no-op preview unpickles the provider (importing kore_resources) and runs check and diff, which make
    # no HTTP call: requests and PyJWT are imported on first use (docs/performance.md, start-up).
    code = "import sys, kore_resources; print(sorted({'requests', 'urllib3', 'jwt'} & set(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_every_test_the_docs_cite_exists():
    """docs/reliability.md (and the other docs) prove each claim by naming a test: the name must exist."""
    import re

    defined = {
        name
        for path in [*(ROOT / "tests").rglob("*.py"), *(ROOT / "kore-sandbox" / "tests").rglob("*.py")]
        for name in re.findall(r"^def (test_\w+)", path.read_text(encoding="utf-8"), re.M)
    }
    cited = {
        (doc.name, name)
        for doc in [ROOT / "README.md", ROOT / "kore-sandbox" / "README.md", *(ROOT / "docs").glob("*.md")]
        for name in re.findall(r"`(test_\w+)`", doc.read_text(encoding="utf-8"))
    }
    assert len(cited) > 20  # the docs do cite their tests (this check is not vacuous)
    missing = sorted(f"{doc}: {name}" for doc, name in cited if name not in defined)
    assert not missing, "cited tests that do not exist: " + ", ".join(missing)


def test_every_file_the_docs_cite_exists():
    """The docs send a maintainer to files (`kore_resources/resources/bot_training.py`, `scripts/demo.sh`):
    after a file moves, the docs must follow."""
    import re

    docs = [
        ROOT / "README.md",
        ROOT / "CHANGELOG.md",
        ROOT / "kore-sandbox" / "README.md",
        *(ROOT / "docs").glob("*.md"),
    ]
    folders = "kore_resources|kore-sandbox|tests|scripts|docs|bench|templates"
    pattern = rf"`((?:{folders})/[\w./-]+\.(?:py|sh|md|json|yaml|toml))`"
    cited = {
        (doc.name, path) for doc in docs for path in re.findall(pattern, doc.read_text(encoding="utf-8"))
    }
    assert len(cited) > 10  # the docs do cite files (this check is not vacuous)
    # docs/xo/...: pages of Kore.ai's documentation site, which docs/kore-api.md cites by their path there
    ours = {(doc, path) for doc, path in cited if not path.startswith("docs/xo/")}
    missing = sorted(f"{doc}: {path}" for doc, path in ours if not (ROOT / path).exists())
    assert not missing, "cited files that do not exist: " + ", ".join(missing)


def test_every_section_the_code_cites_exists():
    """Messages and docstrings send a reader to a section (`README, "Versions and compatibility"`,
    `docs/pipeline.md, "6. The rest of the bot"`): the heading must exist, whatever follows it."""
    import re

    sources = [
        *(ROOT / "kore_resources").rglob("*.py"),
        *(ROOT / "kore-sandbox").rglob("*.py"),
        ROOT / "__main__.py",
    ]
    cited = {
        (source.relative_to(ROOT).as_posix(), doc, section.replace("\\'", "'"))
        for source in sources
        for doc, section in re.findall(
            r"(README|docs/[\w-]+\.md), \"([^\"]+)\"", source.read_text(encoding="utf-8")
        )
    }
    assert len(cited) >= 4  # the code does cite sections (this check is not vacuous)
    missing = []
    for source, doc, section in sorted(cited):
        text = (ROOT / ("README.md" if doc == "README" else doc)).read_text(encoding="utf-8")
        headings = [line.lstrip("#").strip() for line in text.splitlines() if line.startswith("#")]
        if not any(heading.startswith(section) for heading in headings):
            missing.append(f"{source}: {doc}, {section!r}")
    assert not missing, "cited sections that do not exist: " + ", ".join(missing)
