"""Compare a stage's text with its golden file (or write it, when asked)."""
import difflib
import os
import pathlib

import sourcegrad as sg

from tests.stages.cases import CASES

GOLDEN = pathlib.Path(__file__).parent.parent / "golden" / "stages"
UPDATE = os.environ.get("SOURCEGRAD_UPDATE_GOLDENS") == "1"


def stage_text(case: str, stage: str) -> str:
    """``stage``'s output for ``case``, after one call (so shapes are known)."""
    fn, kwargs, args = CASES[case]
    g = sg.grad(fn, **kwargs)
    g(*args)
    return sg.source(g, stage=stage)


def check(stage: str, case: str) -> None:
    text = stage_text(case, stage)
    path = GOLDEN / stage / f"{case}.py.txt"
    if UPDATE or not path.exists():
        if not UPDATE:
            raise AssertionError(f"no golden {path}: run with SOURCEGRAD_UPDATE_GOLDENS=1 "
                                 "to write it, then read it before committing")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return
    want = path.read_text()
    if text != want:
        diff = "".join(difflib.unified_diff(want.splitlines(True), text.splitlines(True),
                                            f"golden/{stage}/{case}", "now"))
        raise AssertionError(f"stage {stage!r} of case {case!r} changed:\n{diff}")
