"""Golden derivative sources: the generated code of the samples, the workloads
and a fixed set of fuzz programs.

``sg.source`` of every derivative the tutorial sample prints, of the digits
sample's ``forward_fn``, of every benchmark workload and of the programs kept
under ``tests/golden/programs/`` (before a call: the general derivative; after
one call: the one specialised on the inputs' shapes) is kept under
``tests/golden/``.  A change to any stage of the
pipeline that changes the code a user reads shows up here as a diff.

When such a change is intended (a stage became smarter), regenerate the
goldens and review the diff like any other change:

    python tests/test_golden_sources.py --update
    git diff tests/golden/
"""
from __future__ import annotations

import contextlib
import io
import pathlib
import re
import runpy
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"


def _tutorial_sources() -> dict[str, str]:
    """The sources samples/autodiff_tutorial.py prints, by the heading it prints."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        runpy.run_path(str(ROOT / "samples" / "autodiff_tutorial.py"), run_name="golden")
    sources = {}
    # each "--- derivative of NAME ---" heading is followed by the source, up to
    # the next "--- " heading (or the end)
    parts = re.split(r"^--- (.*) ---$", out.getvalue(), flags=re.M)
    for heading, body in zip(parts[1::2], parts[2::2]):
        if heading.startswith("derivative of "):
            key = re.sub(r"[^A-Za-z0-9]+", "_", heading[len("derivative of "):]).strip("_")
            sources[f"tutorial_{key}"] = body.strip("\n") + "\n"
    return sources


def _digits_sources() -> dict[str, str]:
    """``forward_fn`` of samples/train_digits.py on a random batch (no scikit-learn)."""
    import sourcegrad as sg
    from sourcegrad import nn
    mod = runpy.run_path(str(ROOT / "samples" / "train_digits.py"), run_name="golden")
    np.random.seed(0)
    model = mod["MLP"]()
    _, grad_fn = mod["make_grad_fn"](model, nn.CrossEntropyLoss(), model.trainable_params())
    general = sg.source(grad_fn)
    rng = np.random.default_rng(0)
    grad_fn(rng.standard_normal((32, 64)).astype(np.float32),
            rng.integers(0, 10, 32).astype(np.int32))
    return {"digits_forward_fn_general": general,
            "digits_forward_fn": sg.source(grad_fn)}


def _workload_sources() -> dict[str, str]:
    sys.path.insert(0, str(ROOT))
    try:
        from benchmarks.workloads import all_workloads
    finally:
        sys.path.remove(str(ROOT))
    import sourcegrad as sg
    sources = {}
    for wl in all_workloads():
        g = wl.sourcegrad(sg)
        sources[f"workload_{wl.name}_general"] = sg.source(g)
        g(*wl.make_inputs())
        sources[f"workload_{wl.name}"] = sg.source(g)
    return sources


def _program_sources() -> dict[str, str]:
    """The fuzz programs kept as text under tests/golden/programs/ (a fixed set: the
    generator may change, these do not), each with its grad_position and argument
    shapes in its first lines; the arguments are drawn from a fixed seed."""
    import ast
    import importlib.util

    import sourcegrad as sg
    sources = {}
    for path in sorted((GOLDEN / "programs").glob("fuzz_*.py")):
        header = path.read_text().split("\n", 2)[1]
        positions = ast.literal_eval(header.split("grad_position=")[1].split(";")[0])
        shapes = ast.literal_eval(header.split("arg_shapes=")[1].rstrip(")"))
        spec = importlib.util.spec_from_file_location(f"_sg_golden_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        rng = np.random.RandomState(0)
        args = [float(rng.uniform(-1.2, 1.2)) if s == () else rng.uniform(-1.2, 1.2, size=s)
                for s in shapes]
        g = sg.grad(module.f, positions)
        sources[f"{path.stem}_general"] = sg.source(g)
        g(*args)
        sources[path.stem] = sg.source(g)
    return sources


def current_sources() -> dict[str, str]:
    """Every golden's name and the source sourcegrad generates for it now."""
    sources = {}
    for make in (_tutorial_sources, _digits_sources, _workload_sources, _program_sources):
        sources.update(make())
    return sources


@pytest.fixture(scope="module")
def sources():
    return current_sources()


def test_goldens_cover_the_samples_and_workloads(sources):
    names = set(sources)
    assert {"tutorial_function", "tutorial_forward_fn_weights_model_trainable_params",
            "digits_forward_fn", "workload_mlp", "workload_rnn", "workload_cell",
            "fuzz_0", "fuzz_27_general"} <= names
    stored = {p.stem for p in GOLDEN.glob("*.txt")}
    assert stored == names, ("goldens and generated sources differ in names; run "
                             "python tests/test_golden_sources.py --update")


@pytest.mark.parametrize("name", sorted(p.stem for p in GOLDEN.glob("*.txt")))
def test_generated_source_is_unchanged(name, sources):
    want = (GOLDEN / f"{name}.txt").read_text()
    got = sources.get(name)
    assert got == want, (
        f"the generated source of {name} changed; if intended, run "
        f"python tests/test_golden_sources.py --update and review git diff tests/golden/")


def _update():
    GOLDEN.mkdir(exist_ok=True)
    sources = current_sources()
    for old in GOLDEN.glob("*.txt"):
        if old.stem not in sources:
            old.unlink()
    for name, text in sources.items():
        (GOLDEN / f"{name}.txt").write_text(text)
    print(f"wrote {len(sources)} goldens to {GOLDEN}")


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit("usage: python tests/test_golden_sources.py --update")
    sys.path.insert(0, str(ROOT))
    _update()
