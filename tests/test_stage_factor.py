"""Golden tests of the optimizer's `factor` pass (optimize/factor.py): each case's
tree right after it.

A failure prints the diff; when the change is intended, regenerate with
``SOURCEGRAD_UPDATE_GOLDENS=1 python -m pytest tests/test_stage_factor.py``.
"""
import pytest

from tests.stages.cases import CASES
from tests.stages.golden import check


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden(case):
    check("factor", case)
