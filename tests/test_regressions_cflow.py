"""Regressions: control flow and lists that used to give silently wrong gradients.

* ``x = x`` (and swaps) when the name is also assigned inside a branch or loop;
* ``and`` / ``or`` / chained comparisons in tests (if, elif, while, ternaries,
  comprehension filters): the backward sweep must take the branches the forward
  sweep took, restoring exactly what was saved;
* a parameter rebound in a branch or loop whose gradient is zero: the zero has
  the shape and type of the input, not of the final value;
* ``+`` and ``*`` of lists and tuples, ``+=`` and ``extend``: each operand gets its
  own slice of the list's adjoint;
* a list changed in place (``append``, ``extend``, ``pop``) while another name
  may be that list: refused, naming the file and line.

Every gradient is checked against central finite differences in float64
(``sourcegrad.testing.check_grads``), at inputs that take each branch; a few are
also compared with autograd.
"""
import inspect

import numpy as np
import pytest

import sourcegrad as sg
from sourcegrad.errors import SourcegradError
from sourcegrad.testing import check_grads, numeric_grad

# x[0] > 0 and x[1] > 1 in each combination (and x[2] of both signs): every
# test below takes each of its branches at one of these
TT = np.array([0.5, 1.2, 1.0])
TF = np.array([0.5, 0.3, -1.0])
FT = np.array([-0.5, 1.2, 1.0])
FF = np.array([-0.5, 0.3, -1.0])
BIG = np.array([2.5, 3.5, 0.7])
INPUTS = [TT, TF, FT, FF, BIG]


def _ids(fns):
    return [f.__name__ for f in fns]


def _line(fn, text):
    """The line number in this file of the line of ``fn`` containing ``text``."""
    lines, start = inspect.getsourcelines(fn)
    return start + next(i for i, line in enumerate(lines) if text in line)


# -- 1. self-assignment ---------------------------------------------------------------

def self_assign_in_if(x):
    if x[0] > 0.0:
        x = x
    return np.sum(x)


def self_assign_in_else(x):
    if x[0] > 0.0:
        x = x * 2.0
    else:
        x = x
    return np.sum(x * x)


def self_assign_before_if(x):
    x = x
    if x[0] > 0.0:
        x = x * 2.0
    return np.sum(x)


def self_assign_after_if(x):
    if x[0] > 0.0:
        x = x * 2.0
    x = x
    x = x * x
    return np.sum(x)


def self_assign_top_level_with_loop_elsewhere(x):
    y = x * 3.0
    for i in range(2):
        y = y * x
    x = x
    return np.sum(x + y)


def self_assign_in_loop(x):
    for i in range(3):
        x = x
        x = x * 1.5
    return np.sum(x * x)


def self_assign_in_while(x):
    i = 0
    while i < 2:
        x = x
        i = i + 1
    return np.sum(np.sin(x))


def self_assign_of_a_copy(x):
    y = x
    if x[0] > 0.0:
        y = y
        x = y
    return np.sum(x * y)


def self_assign_nested(x):
    for i in range(2):
        if x[1] > 1.0:
            x = x
        else:
            x = x * 0.5
    return np.sum(x * x * x)


def self_assign_in_tuple(x, y):
    for i in range(2):
        x, y = x, y * 2.0
    return np.sum(x * y)


def swap_in_loop(x, y):
    for i in range(3):
        x, y = y, x
        x = x * 2.0
    return np.sum(x * y + x)


def swap_of_temporaries_in_loop(x, y):
    a = x
    b = y * 2.0
    for i in range(3):
        a, b = b, a
    return np.sum(a * 3.0 + b)


def swap_in_while(x, y):
    i = 0
    while i < 3:
        x, y = y, x * 2.0
        i = i + 1
    return np.sum(x + 3.0 * y)


def swap_in_branches(x, y):
    if x[0] > 0.0:
        x, y = y, x
    else:
        y, x = x, y * y
    return np.sum(x * 2.0 + y)


def swap_in_branch_in_loop(x, y):
    for i in range(3):
        if i == 1:
            x, y = y, x
    return np.sum(x * 2.0 + y * y)


SELF_ASSIGN = [self_assign_in_if, self_assign_in_else, self_assign_before_if,
               self_assign_after_if, self_assign_top_level_with_loop_elsewhere,
               self_assign_in_loop, self_assign_in_while, self_assign_of_a_copy,
               self_assign_nested]
SWAPS = [self_assign_in_tuple, swap_in_loop, swap_of_temporaries_in_loop, swap_in_while,
         swap_in_branches, swap_in_branch_in_loop]


@pytest.mark.parametrize("fn", SELF_ASSIGN, ids=_ids(SELF_ASSIGN))
@pytest.mark.parametrize("x", INPUTS[:4], ids=["TT", "TF", "FT", "FF"])
def test_self_assignment(fn, x):
    check_grads(fn, x)


@pytest.mark.parametrize("fn", SWAPS, ids=_ids(SWAPS))
@pytest.mark.parametrize("x", INPUTS[:4], ids=["TT", "TF", "FT", "FF"])
def test_swaps(fn, x):
    check_grads(fn, x, x[::-1] * 1.5 + 0.1)


def test_self_assignment_leaves_no_statement():
    # x = x is nothing at all: no adjoint doubled and reset, no save of x
    text = sg.source(sg.grad(self_assign_in_if))
    assert "stack" not in text and "dx + dx" not in text


# -- 2. and / or / not / chained comparisons in tests -------------------------------------

def and_in_if(x):
    x = x * x
    if x[0] > 0.1 and x[1] > 1.0:
        x = x * 3.0
    return np.sum(x)


def and_on_inputs(x):
    if x[0] > 0.0 and x[1] > 1.0:
        x = x * 3.0
    return np.sum(x * x)


def chained_comparison(x):
    x = x * 2.0
    if 0.0 < x[0] < 2.0:
        x = x * 3.0
    return np.sum(x)


def chained_three(x):
    if -1.0 < x[0] < x[1] < 3.0:
        x = np.sin(x)
    return np.sum(x * x)


def or_in_if(x):
    x = x * x
    if x[0] > 0.1 or x[1] > 1.0:
        x = x * 3.0
    return np.sum(x)


def not_and(x):
    y = x * 2.0
    if not (x[0] > 0.0 and x[1] > 1.0):
        y = y * x
    return np.sum(y)


def and_or_nested(x):
    y = np.sin(x)
    if x[0] > 0.0 and (x[1] > 1.0 or x[2] > 0.0):
        y = y * x
    return np.sum(y * y)


def or_and_mixed(x):
    y = x * 1.5
    if x[0] > 2.0 or x[1] > 1.0 and x[2] > 0.0:
        y = np.exp(y)
    return np.sum(y)


def three_ands(x):
    y = x * x
    if x[0] > 0.0 and x[1] > 1.0 and x[2] > 0.0:
        y = y * x
    return np.sum(y)


def and_with_work_in_operands(x):
    # the second operand computes (and saves) values: only when the first is true
    y = x * x
    if x[0] > 0.0 and np.sum(np.sin(y)) > 1.2:
        y = y * 3.0
    return np.sum(y)


def and_in_elif(x):
    y = x * 1.0
    if x[2] > 0.5 and x[0] > 2.0:
        y = y * y
    elif x[0] > 0.0 and x[1] > 1.0:
        y = np.sin(y)
    elif 0.0 < x[1] < 0.5:
        y = y * 4.0
    else:
        y = y * x
    return np.sum(y)


def and_with_else(x):
    if x[0] > 0.0 and x[1] > 1.0:
        y = x * x
    else:
        y = np.cos(x)
    return np.sum(y)


def and_as_a_value(x):
    c = x[0] > 0.0 and x[1] > 1.0
    y = x * 2.0
    if c:
        y = y * x
    return np.sum(y)


def and_in_ternary(x):
    y = x * 2.0 if x[0] > 0.0 and x[1] > 1.0 else x * x
    return np.sum(y)


def chained_in_ternary(x):
    y = np.sin(x) if 0.0 < x[0] < 1.0 else x * 3.0
    return np.sum(y * x)


def and_in_loop(x):
    for i in range(3):
        if x[0] > 0.0 and x[1] > 1.0:
            x = x * 1.1
        x = x + 0.1
    return np.sum(x * x)


def and_in_loop_changing_test(x):
    y = x * 1.0
    for i in range(4):
        if y[0] > 0.0 and y[1] < 2.0:
            y = y * 1.3
        else:
            y = y - 0.2
    return np.sum(y * y)


def and_while(x):
    i = 0
    while i < 4 and x[0] < 3.0:
        x = x * 1.5
        i = i + 1
    return np.sum(x)


def chained_while(x):
    i = 0
    while 0 <= i < 3:
        x = x * x * 0.9
        i = i + 1
    return np.sum(x)


def or_while(x):
    i = 0
    while i < 1 or x[1] < 2.0 and i < 5:
        x = x * 1.25
        i = i + 1
    return np.sum(x)


def and_in_nested_loops(x):
    y = x * 1.0
    for i in range(2):
        for j in range(2):
            if y[0] > 0.0 and j == 1:
                y = y * x
    return np.sum(y)


def and_in_comprehension_filter(x):
    items = [v * v for v in x if v > -0.6 and v < 1.1]
    return sum(items)


def and_test_with_saves_before(x):
    x = x * x
    x = np.sin(x)
    if x[0] > 0.2 and x[1] > 0.9:
        x = x * 3.0
    x = x * x
    return np.sum(x)


def and_or_values(x):
    v = x[0] * 2.0 or x[1]
    w = x[1] > 1.0 and x[2] * 3.0
    return v * x[2] + w


def and_or_values_in_loop(x):
    s = 0.0
    for i in range(3):
        t = x[i] > 0.0 and x[i] * x[i] or -x[i]
        s = s + t
    return s


SHORT_CIRCUIT = [and_or_values, and_or_values_in_loop, and_in_if, and_on_inputs,
                 chained_comparison, chained_three, or_in_if,
                 not_and, and_or_nested, or_and_mixed, three_ands,
                 and_with_work_in_operands, and_in_elif, and_with_else, and_as_a_value,
                 and_in_ternary, chained_in_ternary, and_in_loop, and_in_loop_changing_test,
                 and_while, chained_while, or_while, and_in_nested_loops,
                 and_in_comprehension_filter, and_test_with_saves_before]


@pytest.mark.parametrize("fn", SHORT_CIRCUIT, ids=_ids(SHORT_CIRCUIT))
@pytest.mark.parametrize("x", INPUTS, ids=["TT", "TF", "FT", "FF", "BIG"])
def test_short_circuit_tests(fn, x):
    check_grads(fn, x)


def issue_13_and(x):
    x = x * x
    if x[0] > 0.0 and x[1] > 5.0:
        x = x * 3.0
    return np.sum(x)


def issue_13_chained(x):
    x = x * x
    if 0.0 < x[0] < 0.1:
        x = x * 3.0
    return np.sum(x)


@pytest.mark.parametrize("fn", [issue_13_and, issue_13_chained])
@pytest.mark.parametrize("x", [np.array([0.5, 1.2, 1.0]), np.array([0.2, 2.5, 1.0]),
                               np.array([-0.2, 2.5, 1.0])])
def test_the_reproducers_of_issue_13(fn, x):
    # x*x = [0.25, 1.44, 1]: the first operand true, the second false (the gradient
    # came out as 2, not 2x); the other inputs take the remaining branches
    check_grads(fn, x)


@pytest.mark.parametrize("fn", SHORT_CIRCUIT, ids=_ids(SHORT_CIRCUIT))
def test_no_if_rebinds_its_own_test(fn):
    # the backward sweep reads an if's test again: no branch may rebind it
    import gast

    from sourcegrad import pipeline
    tree = pipeline.front(fn, pipeline.Spec(active=("x",)))[2]
    for node in gast.walk(tree):
        if isinstance(node, gast.If) and isinstance(node.test, gast.Name):
            stored = {n.id for st in node.body + node.orelse for n in gast.walk(st)
                      if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
            assert node.test.id not in stored


def user_rebinds_its_test(x):
    c = x[0] > 0.0
    y = x * 2.0
    if c:
        c = x[1] > 1.0
        y = y * x
    if c:
        y = y * 3.0
    return np.sum(y)


def user_rebinds_its_test_in_loop(x):
    c = x[0] > 0.0
    for i in range(2):
        if c:
            c = x[1] > 1.0
            x = x * 1.5
    return np.sum(x * x)


@pytest.mark.parametrize("fn", [user_rebinds_its_test, user_rebinds_its_test_in_loop])
@pytest.mark.parametrize("x", INPUTS, ids=["TT", "TF", "FT", "FF", "BIG"])
def test_a_branch_that_rebinds_its_own_test(fn, x):
    check_grads(fn, x)


# -- 3. parameters without gradient rebound in a branch or loop ---------------------------

def rebound_in_branch(x, v):
    if v < 10.0:
        v = np.full(2, v)
    return np.sum(x)


def rebound_in_loop(x, v):
    for i in range(2):
        v = np.stack([v, v])
    return np.sum(x * 2.0)


def rebound_in_while(x, v):
    i = 0
    while i < 2:
        v = np.concatenate([v, v])
        i = i + 1
    return np.sum(x * x)


def active_rebound_to_a_constant(x, v):
    if x[0] > 0.0:
        x = np.full(2, 3.0)
    return np.sum(x) + v


def rebound_and_used(x, v):
    if v[0] > 0.0:
        v = v[:2] * 0.0 + 1.0
    return np.sum(x * v[0])


def rebound_in_elif(x, v):
    if x[0] > 1.0:
        v = np.zeros(4)
    elif x[0] > 0.0:
        v = np.ones((2, 2))
    return np.sum(x * 3.0) + 0.0 * np.ndim(v)


@pytest.mark.parametrize("v", [0.3, 20.0])
@pytest.mark.parametrize("x", [TT, FT])
def test_rebound_float_parameter_gets_float_zero(x, v):
    gx, gv = check_grads(rebound_in_branch, x, v)
    assert type(gv) is float and gv == 0.0
    gx, gv = check_grads(active_rebound_to_a_constant, x, v)
    assert type(gv) is float


@pytest.mark.parametrize("fn, v", [(rebound_in_loop, np.array([1.0, 2.0])),
                                   (rebound_in_while, np.array([1.0, 2.0, 3.0])),
                                   (rebound_and_used, TT), (rebound_and_used, FT),
                                   (rebound_in_elif, np.array([1.0, 2.0, 3.0]))],
                         ids=["loop", "while", "used-T", "used-F", "elif"])
@pytest.mark.parametrize("x", [TT, FT, BIG], ids=["TT", "FT", "BIG"])
def test_rebound_array_parameter_gets_input_shaped_zero(fn, v, x):
    gx, gv = check_grads(fn, x, v)
    assert np.shape(gv) == np.shape(v)


def active_rebound_in_loop(x, v):
    for i in range(2):
        v = np.full(3, 2.0)
    return np.sum(x * v)


def active_rebound_in_while(x, v):
    i = 0
    while i < 2:
        v = np.full(3, 2.0) + x
        i = i + 1
    return np.sum(x * v)


@pytest.mark.parametrize("fn", [active_rebound_in_loop, active_rebound_in_while])
def test_active_parameter_rebound_to_another_shape(fn):
    gx, gv = check_grads(fn, TT, np.array([1.0, 2.0]))
    assert np.shape(gv) == (2,)


def list_parameter_rebound(x, lst):
    if x[0] > 0.0:
        lst = [x * 2.0]
    return np.sum(lst[0] * x)


@pytest.mark.parametrize("x", [TT, FT], ids=["T", "F"])
def test_list_parameter_rebound_gets_a_list_gradient(x):
    _check_list_grads(list_parameter_rebound, x, [BIG])
    gx, glst = sg.grad(list_parameter_rebound, (0, 1))(x, [BIG])
    assert isinstance(glst, list) and np.shape(glst[0]) == BIG.shape


def test_rebound_parameter_zero_in_a_callee():
    # through a call: the callee's backward function returns the zero (split mode)
    def outer(x, v):
        return rebound_in_branch(x * 2.0, v) + np.sum(x)

    for v in (0.3, 20.0):
        check_grads(outer, TT, v)


# -- 4. + and * of lists and tuples, +=, extend ----------------------------------------------

def concat_displays(x):
    lst = [x] + [2.0 * x]
    return np.sum(lst[1])


def concat_in_loop(x):
    out = []
    for i in range(3):
        out = out + [x * i]
    return np.sum(out[2] * out[1])


def concat_prepend_in_loop(x):
    out = [x]
    for i in range(3):
        out = [x * float(i)] + out
    return np.sum(out[0] + out[1] * out[3])


def concat_tuples(x):
    t = (x,) + (2.0 * x, x * x)
    return np.sum(t[1] + 3.0 * t[2] + t[0])


def repeat_list(x):
    lst = [x, 2.0 * x] * 2
    return np.sum(lst[0] + 5.0 * lst[3] + lst[1] * lst[2])


def repeat_list_on_the_left(x):
    lst = 3 * [x * x]
    return np.sum(lst[0] + 5.0 * lst[2])


def augmented_concat_in_loop(x):
    out = []
    for i in range(3):
        out += [x * i]
    return np.sum(out[2] * out[1])


def augmented_concat_of_itself(x):
    s = [x]
    s += s
    return np.sum(s[0] + 2.0 * s[1])


def extend_in_loop(x):
    out = [x]
    for i in range(3):
        out.extend([x * i, x + i])
    return np.sum(out[-1] * out[3] + out[0])


def concat_in_branches(x):
    out = [x]
    if x[0] > 0.0:
        out = out + [x * x]
    else:
        out = [x * 3.0] + out
    return np.sum(out[-1]) + np.sum(out[0] * 2.0)


def concat_of_slices(x):
    a = [x, x * 2.0]
    b = a[1:] + a[:1]
    c = b + b
    return np.sum(c[0] * c[3] + c[1])


def concat_in_while(x):
    out = []
    i = 0
    while i < 3:
        out = out + [x * float(i + 1)]
        i = i + 1
    return np.sum(out[0] * out[2] + out[1])


def concat_of_popped(x):
    out = [x, x * 2.0, x * 3.0]
    last = out.pop()
    out = out + [last * last]
    return np.sum(out[2] + out[1])


def concat_summed(x):
    out = [x * 2.0] + [np.sin(x), x * x]
    return np.sum(sum(out))


LISTS = [concat_displays, concat_in_loop, concat_prepend_in_loop, concat_tuples,
         repeat_list, repeat_list_on_the_left, augmented_concat_in_loop,
         augmented_concat_of_itself, extend_in_loop, concat_in_branches, concat_of_slices,
         concat_in_while, concat_of_popped, concat_summed]


@pytest.mark.parametrize("fn", LISTS, ids=_ids(LISTS))
@pytest.mark.parametrize("x", [TT, FF, BIG], ids=["TT", "FF", "BIG"])
def test_list_concatenation(fn, x):
    check_grads(fn, x)


def concat_with_list_parameter(x, lst):
    both = lst + [x]
    return np.sum(both[0] * both[1])


def prepend_to_list_parameter(x, lst):
    both = [x] + lst
    return np.sum(both[0] * both[1] * both[2])


def concat_of_parameters_built_in(x, lst, rest):
    both = []
    both.extend(lst)
    both.extend(rest)
    both = both + [x]
    return np.sum(both[0] * both[1] * both[2])


def _check_list_grads(fn, x, *lists):
    """The gradients of ``fn(x, *lists)`` (lists of arrays) against finite differences
    in ``x`` and in each item of each list."""
    grads = sg.grad(fn, tuple(range(1 + len(lists))))(x, *lists)
    np.testing.assert_allclose(grads[0], numeric_grad(fn, (x,) + lists, 0), rtol=1e-6)
    for k, lst in enumerate(lists):
        assert len(grads[1 + k]) == len(lst)
        for i in range(len(lst)):
            def of_item(v, k=k, i=i):
                changed = [list(a) for a in lists]
                changed[k][i] = v
                return fn(x, *changed)
            np.testing.assert_allclose(grads[1 + k][i], numeric_grad(of_item, (lst[i],), 0),
                                       rtol=1e-6)


def test_concatenation_with_list_parameters():
    _check_list_grads(concat_with_list_parameter, TT, [BIG])
    _check_list_grads(prepend_to_list_parameter, TT, [BIG, FT])
    _check_list_grads(concat_of_parameters_built_in, TT, [BIG], [FT])


def list_display_plus_parameter(x, other):
    s = [x[0], x[1]] + other  # an array `other`: NumPy adds elementwise
    return np.sum(s * x[1])


def repeat_by_parameter(x, n):
    lst = [x, x * 2.0] * n
    return np.sum(lst[-1] * lst[0]) + np.sum(lst[1])


def test_plus_is_numpy_addition_when_the_other_operand_is_an_array():
    for other in (np.array([2.0, -3.0]), np.array([[2.0, -3.0], [0.5, 1.0]])):
        check_grads(list_display_plus_parameter, TT, other)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_repetition_by_an_int_parameter(n):
    g = sg.grad(repeat_by_parameter)(TT, n)
    np.testing.assert_allclose(g, numeric_grad(repeat_by_parameter, (TT, n), 0), rtol=1e-6)


def concat_of_two_parameters(x, lst, rest):
    both = lst + rest
    return np.sum(both[0] * both[1] * x)


def test_concatenation_of_values_of_unknown_type_is_refused():
    # neither operand is known to be a list when the derivative is made: which items
    # are whose cannot be told, so it is an error rather than a wrong gradient
    with pytest.raises(SourcegradError, match="lists or tuples of unknown type"):
        sg.grad(concat_of_two_parameters, (0, 1))(TT, [BIG], [FT])


def test_concatenation_reads_as_a_list_operation():
    text = sg.source(sg.grad(concat_displays))
    assert "list_head(" in text and "list_tail(" in text and "unbroadcast(dl" not in text


# -- 9. lists changed in place while another name may be the same list --------------------

def alias_then_append(x):
    lst = [x]
    lst2 = lst
    lst2.append(3 * x)
    return np.sum(lst[-1])


def append_to_an_alias_in_loop(x):
    out = []
    cur = out
    for i in range(2):
        cur.extend([x * i])
    return np.sum(out[1])


def append_to_a_held_list(x):
    rows = []
    for i in range(3):
        row = []
        rows.append(row)
        row.append(x * i)
    return np.sum(rows[2][0])


def append_to_a_list_in_a_tuple(x):
    a = [x]
    holder = (a, 1)
    a.append(x * 2.0)
    return np.sum(holder[0][-1])


def pop_from_an_alias(x):
    lst = [x, x * 2.0]
    other = lst
    v = other.pop()
    return np.sum(v * lst[-1])


def augmented_concat_of_an_alias(x):
    a = [x]
    b = a
    a += [x * 2.0]
    return np.sum(b[-1])


def append_through_an_item_of_a_holder(x):
    a = [x]
    outer = [a]
    inner = outer[0]
    inner.append(x * 5.0)
    return np.sum(a[-1])


def _append_to_argument(lst, v):
    lst.append(v * 3.0)
    return np.sum(v)


def callee_appends_to_my_list(x):
    out = [x]
    s = _append_to_argument(out, 2.0 * x)
    return np.sum(out[-1]) + s


def append_to_a_list_inside_a_display(x):
    a = [x]
    outer = ([a], 1)
    a.append(x * 2.0)
    return np.sum(outer[0][0][-1])


# still refused: which list the name holds is not known where it changes
ALIASED = [(append_to_a_list_inside_a_display, "a.append"),
           (append_to_a_held_list, "row.append(x"),
           (append_through_an_item_of_a_holder, "inner.append")]
# the other name is known to be that list (or a display holding it) on every path:
# it is bound again after the change, as Python sees it (docs/behaviour.md)
SEEN = [alias_then_append, append_to_an_alias_in_loop, append_to_a_list_in_a_tuple,
        pop_from_an_alias, augmented_concat_of_an_alias]


@pytest.mark.parametrize("fn", SEEN, ids=[f.__name__ for f in SEEN])
def test_changing_a_shared_list_is_seen_by_the_other_name(fn):
    value, _ = sg.value_and_grad(fn)(TT.copy())
    assert np.allclose(value, fn(TT.copy()))
    check_grads(fn, TT)


@pytest.mark.parametrize("fn, where", ALIASED, ids=[f.__name__ for f, _ in ALIASED])
def test_changing_a_shared_list_is_refused(fn, where):
    with pytest.raises(SourcegradError) as err:
        sg.grad(fn)(TT)
    assert err.value.filename == __file__
    assert err.value.lineno == _line(fn, where)


def appends_to_its_list_parameter(x, lst):
    lst.append(x * 2.0)
    return np.sum(x * lst[0])


def appends_to_an_item_of_a_parameter(x, rows):
    row = rows[0]
    row.append(x * 2.0)
    return np.sum(x)


def test_changing_a_list_the_caller_passed_is_refused():
    # the caller's list would not grow: the refusal names the call, where the caller
    # passes the list it reads afterwards
    with pytest.raises(SourcegradError, match="caller") as err:
        sg.grad(callee_appends_to_my_list)(TT)
    assert err.value.lineno == _line(callee_appends_to_my_list, "_append_to_argument(")
    with pytest.raises(SourcegradError, match="passed as lst"):
        sg.grad(appends_to_its_list_parameter)(TT, [BIG])
    with pytest.raises(SourcegradError, match="passed as rows"):
        sg.grad(appends_to_an_item_of_a_parameter)(TT, [[BIG]])


def copies_its_list_parameter_first(x, lst):
    lst = lst[:]
    lst.append(x * 2.0)
    return np.sum(lst[0] * lst[-1])


def test_a_copy_of_a_list_parameter_may_change():
    _check_list_grads(copies_its_list_parameter_first, TT, [BIG])


def rows_built_then_held(x):
    rows = []
    for i in range(3):
        row = []
        row.append(x * i)
        rows.append(row)
    return np.sum(rows[2][0] * rows[1][0])


def item_read_before_append(x):
    out = [x]
    first = out[0]
    out.append(first * 2.0)
    return np.sum(first * out[-1])


def alias_never_read_again(x):
    lst = [x]
    alias = lst
    lst.append(x * 2.0 + alias[0])
    return np.sum(lst[-1])


def loop_item_then_append(x):
    lst = [x]
    for v in lst:
        y = v * 2.0
    lst.append(y)
    return np.sum(lst[-1] + v)


def unpacked_items_then_append(x):
    pair = ([x], [x * 2.0])
    a, b = pair
    a.append(x * 3.0)
    return np.sum(a[-1] * b[0])


def extend_with_parameters(x, y):
    lst = [x * 0.5]
    lst.extend([x * 0.1, y])
    lst.append([y, x])
    lst.append(x * y)
    return np.sum(lst[-1] * lst[0] + lst[2] + lst[3][0])


def extend_then_append_in_branches(x, y):
    lst = [x * 0.5]
    if x[2] > -0.5:
        lst.extend([x * 0.1, y])
    else:
        lst = [y * 0.7] + lst
        lst.append(x * y)
    return np.sum(lst[-1] * lst[0]) + np.sum(y) * len(lst)


UNSHARED = [rows_built_then_held, item_read_before_append, alias_never_read_again,
            loop_item_then_append, unpacked_items_then_append]


@pytest.mark.parametrize("fn", [extend_with_parameters, extend_then_append_in_branches])
@pytest.mark.parametrize("x", [TT, FF], ids=["TT", "FF"])
def test_parameters_put_into_a_new_list(fn, x):
    # the list is the function's own: its parameters are only items of it
    check_grads(fn, x, x[::-1] * 1.5 + 0.1)


@pytest.mark.parametrize("fn", UNSHARED, ids=_ids(UNSHARED))
@pytest.mark.parametrize("x", [TT, FF], ids=["TT", "FF"])
def test_lists_changed_in_place_without_sharing(fn, x):
    check_grads(fn, x)


# -- against autograd -------------------------------------------------------------------

def ag_and(x):
    y = x * x
    if y[0] > 0.1 and y[1] > 1.0:
        y = y * 3.0
    return (y * y).sum()


def ag_chained_in_loop(x):
    for i in range(3):
        if 0.0 < x[0] < 1.0:
            x = x * 1.5
        x = x
    return (x * x * x).sum()


def ag_swap_while(x):
    y = x * 2.0
    i = 0
    while i < 3 and x[1] < 5.0:
        x, y = y, x * 1.5
        i = i + 1
    return (x * y).sum()


def ag_concat(x):
    out = []
    for i in range(3):
        out = out + [x * float(i + 1)]
    return (out[0] * out[2] + out[1]).sum()


@pytest.mark.parametrize("fn", [ag_and, ag_chained_in_loop, ag_swap_while, ag_concat],
                         ids=_ids([ag_and, ag_chained_in_loop, ag_swap_while, ag_concat]))
@pytest.mark.parametrize("x", INPUTS, ids=["TT", "TF", "FT", "FF", "BIG"])
def test_against_autograd(fn, x):
    autograd = pytest.importorskip("autograd")
    np.testing.assert_allclose(sg.grad(fn)(x), autograd.grad(fn)(x), rtol=1e-10)


# -- random programs mixing all of the above ------------------------------------------------

def _random_test(r, depth=0):
    k = r.random()
    i = r.randrange(3)
    if depth < 2 and k < 0.25:
        return f"({_random_test(r, depth + 1)} {r.choice(['and', 'or'])} " \
               f"{_random_test(r, depth + 1)})"
    if depth < 2 and k < 0.32:
        return f"not ({_random_test(r, depth + 1)})"
    v = r.choice(["x", "y"])
    if k < 0.45:
        a, b = sorted(round(r.uniform(-2, 2), 2) for _ in range(2))
        return f"{a} < {v}[{i}] < {b}"
    return f"{v}[{i}] {r.choice(['>', '<'])} {round(r.uniform(-1.5, 1.5), 2)}"


def _random_block(r, depth, indent):  # noqa: C901  (a random program generator: one branch per construct)
    out, p = [], " " * indent
    for _ in range(r.randint(1, 3)):
        k, v, w = r.random(), r.choice(["x", "y"]), r.choice(["x", "y"])
        c = round(r.uniform(0.5, 1.2), 2)
        if k < 0.2:
            out.append(f"{p}{v} = {w} * {c} + np.sin({v}) * 0.3")
        elif k < 0.27:
            out.append(f"{p}{v} = {v}")
        elif k < 0.33:
            out.append(f"{p}x, y = y, x")
        elif k < 0.42:
            out.append(f"{p}lst = lst + [{v} * {c}]")
        elif k < 0.48:
            out.append(f"{p}lst += [np.tanh({v})]")
        elif k < 0.54:
            out.append(f"{p}lst.append(x * y * 0.5)")
        elif k < 0.58:
            out.append(f"{p}lst.extend([x * 0.1, y])")
        elif k < 0.62:
            out.append(f"{p}lst = [y * 0.7] + lst")
        elif k < 0.68:
            out.append(f"{p}y = x * 1.1 if {_random_test(r)} else y * 0.9")
        elif k < 0.74:
            out += [f"{p}c = {_random_test(r)}", f"{p}if c:", f"{p}    c = {_random_test(r)}",
                    f"{p}    x = x * 1.2", f"{p}if c:", f"{p}    y = y + x * 0.5"]
        elif depth < 2 and k < 0.86:
            out.append(f"{p}if {_random_test(r)}:")
            out += _random_block(r, depth + 1, indent + 4)
            if r.random() < 0.4:
                out.append(f"{p}elif {_random_test(r)}:")
                out += _random_block(r, depth + 1, indent + 4)
            if r.random() < 0.5:
                out.append(f"{p}else:")
                out += _random_block(r, depth + 1, indent + 4)
        elif depth < 2 and k < 0.93:
            out.append(f"{p}for i{depth} in range({r.randint(1, 3)}):")
            out += _random_block(r, depth + 1, indent + 4)
        elif depth < 2:
            out += [f"{p}k{depth} = 0",
                    f"{p}while k{depth} < {r.randint(1, 3)} and {_random_test(r)}:",
                    f"{p}    k{depth} = k{depth} + 1"]
            out += _random_block(r, depth + 1, indent + 4)
        else:
            out.append(f"{p}x = np.cos(x) * y")
    return out


def _random_program(seed):
    import random
    r = random.Random(seed)
    lines = ["import numpy as np", "", "", "def f(x, y):", "    lst = [x * 0.5]"]
    lines += _random_block(r, 0, 4)
    lines.append("    return np.sum(x * y) + np.sum(lst[-1] * lst[0]) + np.sum(y) * len(lst)")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("seed", range(60))
def test_random_programs(seed, tmp_path):
    from sourcegrad.testing import load_source
    fn = load_source(str(tmp_path / f"program_{seed}.py"), _random_program(seed)).f
    r = np.random.RandomState(seed)
    x, y = r.uniform(-1.5, 1.5, 3), r.uniform(-1.5, 1.5, 3)
    try:
        fn(x, y)
    except IndexError:
        pytest.skip("the program itself fails at this input")
    want = [numeric_grad(fn, (x, y), i) for i in (0, 1)]
    if not all(np.allclose(g, numeric_grad(fn, (x, y), i, eps=1e-5), rtol=1e-3, atol=1e-5)
               for i, g in enumerate(want)):
        pytest.skip("a branch test lies within finite differences' reach")
    try:
        got = sg.grad(fn, (0, 1))(x, y)
    except SourcegradError as err:  # `lst += ...` may share an array: refused, never wrong
        assert "shared value" in str(err) or "shares" in str(err), err
        return
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)
