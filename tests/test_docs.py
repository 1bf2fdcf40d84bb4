"""The documentation under docs/: links resolve, the stage-dump recipe runs and
prints what docs/pipeline.md says, and nothing in the repository cites a file
outside it (the contract is docs/api.md and docs/behaviour.md)."""
from __future__ import annotations

import contextlib
import io
import pathlib
import re

import pytest

from sourcegrad.testing import load_source

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [ROOT / "README.md", *DOCS]


def test_the_three_pages_exist_and_the_readme_links_them():
    names = {p.name for p in DOCS}
    assert {"api.md", "behaviour.md", "pipeline.md"} <= names
    readme = (ROOT / "README.md").read_text()
    for name in ("api.md", "behaviour.md", "pipeline.md"):
        assert f"(docs/{name})" in readme


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_relative_links_resolve(page):
    text = page.read_text()
    for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
        assert (page.parent / target).exists(), f"{page.name}: broken link {target}"


def _code_blocks(text, lang="python"):
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)


def test_the_stage_recipes_print_what_the_page_says(tmp_path):
    text = (ROOT / "docs" / "pipeline.md").read_text()
    section = text[text.index("## Dumping a stage"):]
    blocks = _code_blocks(section)
    recipe = next(b for b in blocks if "pipeline.front" in b)
    printed = blocks[1]  # what stage="activity" shows: the normalized function, annotated
    printed = printed[printed.index("def f"):]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        # the recipe defines f itself: it must live in a file for sourcegrad to read it
        module = load_source(str(tmp_path / "recipe.py"), recipe)
    assert printed.strip() in out.getvalue()
    assert "['h', 'matmul', 'mul', 'sum_1', 'w', 'x']" in out.getvalue()
    # and sg.source(g, stage="activity") prints the block the page shows
    import sourcegrad as sg
    g = sg.grad(module.f, (0, 1))
    assert sg.source(g, stage="activity").strip() == blocks[1].strip()


def test_behaviour_items_cited_by_the_code_exist():
    """Code and tests cite items as "docs/behaviour.md 4.10"; each must exist."""
    items = set(re.findall(r"^(\d+\.\d+) ", (ROOT / "docs" / "behaviour.md").read_text(),
                           flags=re.M))
    cited = set()
    for path in [*(ROOT / "sourcegrad").rglob("*.py"), *(ROOT / "tests").glob("*.py")]:
        for ref in re.findall(r"docs/behaviour\.md ((?:\d+\.\d+(?:, )?)+)", path.read_text()):
            cited.update(re.findall(r"\d+\.\d+", ref))
    assert cited, "no citations found: the pattern is stale"
    assert cited <= items, f"cited but missing in docs/behaviour.md: {sorted(cited - items)}"


def test_no_file_cites_what_is_outside_the_repository():
    outside = re.compile(r"SPEC\.md|\.\./shared|shared/reference|mindspore_autodiff_behaviour"
                         r"|\(SPEC\)|SPEC:|SPEC's|reference \d+\.\d+|reference section")
    roots = ["sourcegrad", "tests", "samples", "benchmarks"]
    paths = [ROOT / "README.md"] + [p for r in roots for p in (ROOT / r).rglob("*")
                                    if p.suffix in (".py", ".md", ".ipynb")]
    me = pathlib.Path(__file__).resolve()
    found = [f"{p.relative_to(ROOT)}: {m.group(0)}" for p in paths if p.resolve() != me
             for m in outside.finditer(p.read_text(encoding="utf-8"))]
    assert not found, found
