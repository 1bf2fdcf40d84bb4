"""Control flow: data-dependent branches, loops, break/continue, early return.

Every gradient is checked against central finite differences in float64.
Each data-dependent ``if`` is exercised on both sides by the chosen inputs.
"""
import numpy as np
import pytest

import sourcegrad as sg
from sourcegrad.testing import check_grads

POS = np.array([0.5, 1.5, 2.0])
NEG = np.array([-0.5, -1.5, -2.0])
MIX = np.array([0.7, -1.3, 2.1, -0.4])


# -- if / elif / else ------------------------------------------------------------------

def if_else(x):
    if np.sum(x) > 0:
        y = x * x
    else:
        y = np.sin(x)
    return np.sum(y)


def if_no_else(x):
    y = x * 3.0
    if np.sum(x) > 0:
        y = y * x
    return np.sum(y)


def if_elif_else(x):
    s = np.sum(x)
    if s > 1.0:
        y = np.exp(x)
    elif s > -1.0:
        y = x * x * x
    else:
        y = np.cos(x) * x
    return np.sum(y)


def if_scalar_float(a, b):
    if a > b:
        r = a * b
    else:
        r = a + b * b
    return r


def if_overwrite_in_branch(x):
    y = np.tanh(x)
    if np.max(x) > 1.0:
        y = y * y
        y = y + x
    return np.sum(y * x)


def if_nested(x, w):
    s = np.sum(x * w)
    if s > 0:
        if np.sum(x) > 0:
            r = s * s
        else:
            r = s * 3.0
    else:
        if np.sum(w) > 0:
            r = np.exp(s)
        else:
            r = -s
    return r


def if_assigns_two(x):
    if np.sum(x) > 0:
        a = x * 2.0
        b = np.sin(x)
    else:
        a = x
        b = x * x
    return np.sum(a * b)


def if_and_or(x):
    if np.sum(x) > 0 and np.max(x) < 3.0:
        y = x * x
    elif np.min(x) < -1.0 or np.sum(x) > 10.0:
        y = x * 4.0
    else:
        y = np.sin(x)
    return np.sum(y)


def if_on_argument_comparison(x, y):
    if np.sum(x) > np.sum(y):
        return np.sum(x * y)
    return np.sum(x - y)


@pytest.mark.parametrize("x", [POS, NEG])
def test_if_else_both_branches(x):
    check_grads(if_else, x)


@pytest.mark.parametrize("x", [POS, NEG])
def test_if_without_else(x):
    check_grads(if_no_else, x)


@pytest.mark.parametrize("x", [np.array([1.0, 1.0]), np.array([0.2, 0.1]),
                               np.array([-1.0, -2.0])])
def test_if_elif_else_all_three(x):
    check_grads(if_elif_else, x)


@pytest.mark.parametrize("a, b", [(2.0, 1.0), (1.0, 2.0)])
def test_if_python_floats(a, b):
    got = check_grads(if_scalar_float, a, b)
    assert all(isinstance(g, float) for g in got)


@pytest.mark.parametrize("x", [np.array([0.5, 2.0]), np.array([0.5, 0.2])])
def test_if_overwrites_value_used_before(x):
    check_grads(if_overwrite_in_branch, x)


@pytest.mark.parametrize("x, w", [
    (np.array([1.0, 2.0]), np.array([0.5, 0.5])),      # s>0, sum x>0
    (np.array([-1.0, -2.0]), np.array([-0.5, -0.5])),  # s>0, sum x<0
    (np.array([1.0, 2.0]), np.array([-0.5, -0.5])),    # s<0, sum w<0
    (np.array([-1.0, -2.0]), np.array([0.5, 0.2])),    # s<0, sum w>0
])
def test_nested_if_four_paths(x, w):
    check_grads(if_nested, x, w)


@pytest.mark.parametrize("x", [POS, NEG])
def test_if_assigns_two_names(x):
    check_grads(if_assigns_two, x)


@pytest.mark.parametrize("x", [np.array([0.5, 1.0]), np.array([-0.5, -2.0]),
                               np.array([-0.5, 0.2])])
def test_if_boolean_operators(x):
    check_grads(if_and_or, x)


@pytest.mark.parametrize("x, y", [(POS, NEG), (NEG, POS)])
def test_if_return_in_branch(x, y):
    check_grads(if_on_argument_comparison, x, y)


# -- conditional expressions -----------------------------------------------------------

def ifexp(x):
    y = x * x if np.sum(x) > 0 else np.sin(x) * 2.0
    return np.sum(y)


def ifexp_scalar(a):
    return a * a if a > 0 else -a * 3.0


def ifexp_nested(x):
    s = np.sum(x)
    y = x * 2.0 if s > 1.0 else (x * x if s > -1.0 else np.exp(x))
    return np.sum(y)


def ifexp_inside_expression(x):
    return np.sum(x * (np.cos(x) if np.max(x) > 1.0 else x) + 1.0)


@pytest.mark.parametrize("x", [POS, NEG])
def test_conditional_expression(x):
    check_grads(ifexp, x)


@pytest.mark.parametrize("a", [2.0, -2.0])
def test_conditional_expression_scalar(a):
    check_grads(ifexp_scalar, a)


@pytest.mark.parametrize("x", [np.array([1.0, 1.0]), np.array([0.1, 0.2]),
                               np.array([-1.0, -2.0])])
def test_conditional_expression_nested(x):
    check_grads(ifexp_nested, x)


@pytest.mark.parametrize("x", [POS, np.array([0.1, 0.2])])
def test_conditional_expression_inside_expression(x):
    check_grads(ifexp_inside_expression, x)


# -- for loops -------------------------------------------------------------------------

def for_range(x):
    y = x
    for i in range(4):
        y = np.sin(y) * x
    return np.sum(y)


def for_range_uses_index(x):
    y = x * 0.0
    for i in range(1, 5):
        y = y + x ** i / i
    return np.sum(y)


def for_range_data_length(x, n):
    y = x
    for _ in range(n):
        y = y * x
    return np.sum(y)


def for_accumulate_augassign(x):
    total = 0.0
    for i in range(3):
        total += np.sum(x * x) * (i + 1)
    return total


def for_over_rows(m, v):
    acc = 0.0
    for row in m:
        acc = acc + np.sum(np.tanh(row * v))
    return acc


def for_over_rows_carry(m):
    h = np.zeros(m.shape[1])
    for row in m:
        h = np.tanh(h + row)
    return np.sum(h)


def for_zip(xs, ys):
    acc = 0.0
    for a, b in zip(xs, ys):
        acc = acc + np.sum(a * b)
    return acc


def for_zip_lists(x, w):
    parts = [x, x * 2.0, np.sin(x)]
    ws = [w, w * w, w + 1.0]
    acc = 0.0
    for p, q in zip(parts, ws):
        acc = acc + np.sum(p * q)
    return acc


def for_enumerate(x):
    parts = [x, x * x, np.exp(x)]
    acc = 0.0
    for i, p in enumerate(parts):
        acc = acc + np.sum(p) * (i + 1.0)
    return acc


def for_with_branch(x):
    y = x
    for i in range(4):
        if np.sum(y) > 2.0:
            y = y * 0.5
        else:
            y = y * y + x
    return np.sum(y)


def for_nested(x):
    y = x
    for i in range(3):
        for j in range(2):
            y = np.sin(y) + x * j
    return np.sum(y)


def for_nested_rows(m):
    acc = 0.0
    for row in m:
        for v in row:
            acc = acc + v * v * v
    return acc


def for_else_none_empty(x):
    y = x * 2.0
    for i in range(0):
        y = y * x
    return np.sum(y)


def for_loop_variable_after_loop(x):
    for i in range(3):
        y = x * (i + 1.0)
    return np.sum(y * y)


@pytest.mark.parametrize("fn", [for_range, for_range_uses_index, for_accumulate_augassign,
                                for_with_branch, for_nested, for_else_none_empty,
                                for_loop_variable_after_loop])
def test_for_range(fn):
    check_grads(fn, np.array([0.3, -0.7, 1.1]))


def test_for_with_branch_takes_both_sides():
    # iterations alternate: if side, else side, if side, ...
    x = np.array([0.9, 1.3])
    check_grads(for_with_branch, x)


@pytest.mark.parametrize("n", [0, 1, 3])
def test_for_range_of_integer_argument(n):
    check_grads(for_range_data_length, np.array([0.5, -1.2]), n, wrt=0)


def test_for_over_rows():
    m = np.arange(6.0).reshape(3, 2) / 5.0 - 0.3
    check_grads(for_over_rows, m, np.array([0.4, -0.9]))


def test_for_over_rows_carry():
    check_grads(for_over_rows_carry, np.arange(12.0).reshape(4, 3) / 7.0 - 0.8)


def test_for_nested_over_rows_and_elements():
    check_grads(for_nested_rows, np.arange(6.0).reshape(2, 3) / 4.0 - 0.5)


def test_for_zip_arrays():
    check_grads(for_zip, np.arange(6.0).reshape(3, 2), np.arange(6.0).reshape(3, 2) - 2.5)


def test_for_zip_lists():
    check_grads(for_zip_lists, np.array([0.3, -0.2]), np.array([1.5, 0.5]))


def test_for_enumerate():
    check_grads(for_enumerate, np.array([0.3, -0.2]))


# -- while loops -----------------------------------------------------------------------

def while_data_dependent(x):
    y = x
    while np.sum(y) < 10.0:
        y = y * 1.5 + x
    return np.sum(y * y)


def while_counter(x):
    i = 0
    y = x
    while i < 3:
        y = np.sin(y) * x
        i += 1
    return np.sum(y)


def while_scalar_halving(a):
    r = a
    while r > 1.0:
        r = r * 0.5
    return r * a


def while_with_branch(x):
    y = x
    n = 0
    while np.max(np.abs(y)) < 5.0 and n < 20:
        if np.sum(y) > 0:
            y = y * 2.0
        else:
            y = y * y + 1.0
        n += 1
    return np.sum(y)


@pytest.mark.parametrize("x", [np.array([1.0, 2.0]), np.array([4.0, 7.0])])
def test_while_data_dependent_trip_count(x):
    # second input: the loop body never runs
    check_grads(while_data_dependent, x)


def test_while_counter():
    check_grads(while_counter, np.array([0.4, 1.3]))


@pytest.mark.parametrize("a", [0.7, 5.3])
def test_while_scalar(a):
    check_grads(while_scalar_halving, a)


@pytest.mark.parametrize("x", [np.array([0.5, 0.2]), np.array([-0.6, -0.3])])
def test_while_with_branch(x):
    check_grads(while_with_branch, x)


# -- break / continue ------------------------------------------------------------------

def for_break(x):
    y = x
    for i in range(10):
        y = y * 1.3
        if np.sum(y) > 5.0:
            break
    return np.sum(y * x)


def for_continue(x):
    acc = 0.0
    for row in x:
        if np.sum(row) < 0:
            continue
        acc = acc + np.sum(row * row)
    return acc


def for_continue_range(x):
    y = x
    for i in range(5):
        if i % 2 == 0:
            continue
        y = y * np.cos(y)
    return np.sum(y)


def while_break(x):
    y = x
    while True:
        y = np.sin(y) + y
        if np.sum(y) > 4.0:
            break
    return np.sum(y)


def nested_break_inner_only(x):
    acc = 0.0
    for i in range(3):
        for j in range(5):
            if j > i:
                break
            acc = acc + np.sum(x ** (j + 1))
    return acc


def break_and_continue(x):
    acc = x * 0.0
    for row in x:
        if np.sum(row) < 0:
            continue
        if np.sum(row) > 3.0:
            break
        acc = acc + row * row
    return np.sum(acc)


@pytest.mark.parametrize("x", [np.array([1.0, 1.5]), np.array([0.01, 0.02])])
def test_for_break(x):
    # first: breaks early; second: runs all ten iterations
    check_grads(for_break, x)


def test_for_continue_over_rows():
    check_grads(for_continue, np.array([[1.0, 2.0], [-1.0, -3.0], [0.5, 0.1]]))


def test_for_continue_static_condition():
    check_grads(for_continue_range, np.array([0.3, 0.9]))


def test_while_true_break():
    check_grads(while_break, np.array([0.5, 0.7]))


def test_nested_break_inner_only():
    check_grads(nested_break_inner_only, np.array([0.5, 1.2]))


def test_break_and_continue():
    x = np.array([[1.0, 0.5], [-2.0, 0.5], [0.3, 0.2], [3.0, 2.0], [0.1, 0.1]])
    check_grads(break_and_continue, x)


# -- early return ----------------------------------------------------------------------

def early_return_in_if(x):
    if np.sum(x) < 0:
        return np.sum(x * x)
    y = np.exp(x)
    return np.sum(y * x)


def early_return_in_loop(x):
    y = x
    for i in range(10):
        y = y * 1.5
        if np.sum(y) > 6.0:
            return np.sum(y * x)
    return np.sum(y)


def early_return_in_while(x):
    y = x
    while True:
        y = y + x * x
        if np.sum(y) > 3.0:
            return np.sum(np.sin(y))


def early_return_in_nested_loops(x):
    acc = 0.0
    for i in range(4):
        for j in range(4):
            acc = acc + np.sum(x * (i + j))
            if acc > 5.0:
                return acc * acc
    return acc


def early_return_elif_chain(x):
    s = np.sum(x)
    if s > 2.0:
        return s * s
    elif s > 0.0:
        return np.sum(np.sin(x))
    return np.sum(x ** 3)


@pytest.mark.parametrize("x", [POS, NEG])
def test_early_return_in_if(x):
    check_grads(early_return_in_if, x)


@pytest.mark.parametrize("x", [np.array([1.0, 2.0]), np.array([0.001, 0.001])])
def test_early_return_in_loop(x):
    # first: returns from inside the loop; second: falls through
    check_grads(early_return_in_loop, x)


def test_early_return_in_while():
    check_grads(early_return_in_while, np.array([0.5, 0.6]))


@pytest.mark.parametrize("x", [np.array([1.0, 0.5]), np.array([0.01, 0.02])])
def test_early_return_in_nested_loops(x):
    check_grads(early_return_in_nested_loops, x)


@pytest.mark.parametrize("x", [np.array([2.0, 1.0]), np.array([0.5, 0.1]),
                               np.array([-0.5, -0.1])])
def test_early_return_elif_chain(x):
    check_grads(early_return_elif_chain, x)


# -- generated source ------------------------------------------------------------------

def test_generated_source_compiles_and_replays_branch():
    g = sg.grad(for_with_branch)
    src = sg.source(g)
    compile(src, "<sourcegrad>", "exec")
    assert "reversed(" in src or "pop()" in src


# -- harder shapes of control flow -----------------------------------------------------

def branch_defines_name_used_later(x):
    if np.sum(x) > 0:
        z = np.exp(x)
    else:
        z = x * x
    y = z * x
    if np.max(x) > 1.0:
        y = y + z
    return np.sum(y)


def reassign_argument_in_loop(x):
    for i in range(3):
        x = x * x + 0.1
    return np.sum(x)


def for_range_len(x):
    acc = 0.0
    for i in range(len(x)):
        acc = acc + x[i] * x[i] * (i + 1.0)
    return acc


def loop_count_from_data(x):
    n = int(np.sum(x > 0))
    y = x
    for i in range(n):
        y = y * x
    return np.sum(y)


def for_else_clause(x):
    y = x
    for i in range(3):
        y = y * 1.1
        if np.sum(y) > 100.0:
            break
    else:
        y = y * y
    return np.sum(y)


def while_else_clause(x):
    y = x
    while np.sum(y) < 3.0:
        y = y * 2.0
    else:
        y = np.sin(y)
    return np.sum(y)


def branch_on_loop_index(x):
    y = x
    for i in range(4):
        if i == 2:
            y = np.exp(y)
        else:
            y = y * x
    return np.sum(y)


def while_float_iterate(a):
    # Newton iterations for sqrt(a): data-dependent trip count
    r = a
    while abs(r * r - a) > 1e-10:
        r = 0.5 * (r + a / r)
    return r


def pass_statement_branch(x):
    y = x * 2.0
    if np.sum(x) > 0:
        pass
    else:
        y = y * x
    return np.sum(y)


def return_none_branch_value(x):
    y = x
    if np.sum(x) > 0:
        y = y * 3.0
        return np.sum(y)
    else:
        return np.sum(y * y)


@pytest.mark.parametrize("x", [np.array([2.0, 0.5]), np.array([0.5, 0.2]),
                               np.array([-2.0, 0.5]), np.array([-0.5, -0.2])])
def test_name_defined_in_branch_used_later(x):
    check_grads(branch_defines_name_used_later, x)


def test_reassign_argument_in_loop():
    check_grads(reassign_argument_in_loop, np.array([0.5, -0.3]))


def test_for_range_len_with_indexing():
    check_grads(for_range_len, np.array([0.5, -0.3, 1.2]))


@pytest.mark.parametrize("x", [np.array([0.5, -0.3, 1.2]), np.array([-0.5, -0.3])])
def test_trip_count_from_data(x):
    check_grads(loop_count_from_data, x)


def _line_of(fn, text):
    """Absolute line number of the first line of fn's source containing text."""
    import inspect
    lines, start = inspect.getsourcelines(fn)
    for k, line in enumerate(lines):
        if text in line:
            return start + k
    raise LookupError(text)


def assert_refused(fn, construct, line_text):
    with pytest.raises(sg.SourcegradError) as info:
        sg.grad(fn)(np.array([0.5, 0.3]))
    msg = str(info.value)
    assert construct in msg
    assert __file__.rstrip("c") in msg or "test_control_flow.py" in msg
    assert f"line {_line_of(fn, line_text)}" in msg
    assert line_text.strip() in msg


def for_else_with_return(x):
    for i in range(2):
        if x[i] > 1.0:
            return x[i] * 3.0
    else:
        return np.sum(x * x)
    return 0.0


def for_else_continuing_an_outer_loop(x):
    t = 0.0
    for j in range(2):
        for i in range(2):
            if x[i] * j > 1.0:
                break
            t = t + x[i] * j
        else:
            t = t * 1.5
            continue
        t = t - x[0]
    return t


LOOP_ELSE = [for_else_clause, while_else_clause, for_else_with_return,
             for_else_continuing_an_outer_loop]


@pytest.mark.parametrize("fn", LOOP_ELSE, ids=[f.__name__ for f in LOOP_ELSE])
@pytest.mark.parametrize("x", [[0.5, 0.3], [0.5, 1.5], [40.0, 70.0]])
def test_loop_else_runs_unless_the_loop_was_left(fn, x):
    # the else block runs when the loop ends without break (or return)
    check_grads(fn, np.array(x))


def test_branch_on_loop_index():
    check_grads(branch_on_loop_index, np.array([0.3, 0.6]))


@pytest.mark.parametrize("a", [2.0, 9.0])
def test_while_newton_sqrt(a):
    g = check_grads(while_float_iterate, a)
    assert abs(g[0] - 0.5 / np.sqrt(a)) < 1e-6


@pytest.mark.parametrize("x", [POS, NEG])
def test_pass_in_branch(x):
    check_grads(pass_statement_branch, x)


@pytest.mark.parametrize("x", [POS, NEG])
def test_return_from_both_branches(x):
    check_grads(return_none_branch_value, x)
