"""Golden tests of the `parse` stage: each case's tree right after it.

A failure prints the diff; when the change is intended, regenerate with
``SOURCEGRAD_UPDATE_GOLDENS=1 python -m pytest tests/test_stage_parse.py``.
"""
import pytest

from tests.stages.cases import CASES
from tests.stages.golden import check


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden(case):
    check("parse", case)


def test_unknown_stage_is_refused():
    import sourcegrad as sg
    g = sg.grad(CASES["straight"][0])
    with pytest.raises(ValueError, match="stage must be one of 'parse', 'normalize'"):
        sg.source(g, stage="lexing")


def test_environment_variable_prints_the_stages(monkeypatch, capsys):
    import sourcegrad as sg
    fn, _, args = CASES["straight"]
    monkeypatch.setenv("SOURCEGRAD_DUMP", "normalize,optimize")
    sg.grad(lambda x, y: fn(x, y) * 1.0)(*args)  # a fresh function: not from the cache
    err = capsys.readouterr().err
    assert "# ---- sourcegrad stage: normalize ----" in err
    assert "# ---- sourcegrad stage: optimize ----" in err
    assert "stage: reverse" not in err
