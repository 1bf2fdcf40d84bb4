"""In-place updates of arrays (lists, dicts) another name shares: values and gradients.

NumPy's aliasing is followed where it is known statically (docs/behaviour.md,
"Updates in place"): after ``b = a; a[0] = v`` the name ``b`` sees the write, a view
made by basic slicing or ``.T`` sees a write into its base and writes through to
it, ``y[1][0] = v`` and ``y.T[0] = v`` write into ``y``.  Each program here is
checked twice: its value against running it with NumPy (an aliasing mistake shows
in the value first) and its gradient against central finite differences.  Where
the aliasing is not known (a name bound in one branch only), the update is refused
with the user's line.
"""
import copy

import numpy as np
import pytest

import sourcegrad as sg
import sourcegrad.api as sg_api
from sourcegrad.testing import check_grads, numeric_grad

X = np.array([0.3, -0.5, 0.9, 1.1])
M = np.array([[0.3, -0.5, 0.9], [1.1, 0.2, -0.7], [0.4, 0.8, -0.1]])


# -- another name for the array ----------------------------------------------------------

def alias_sees_item_write(x):
    a = x * 2.0
    b = a
    a[0] = np.sin(x[1])
    return np.sum(b * x)


def alias_sees_augmented_update(x):
    a = np.tanh(x)
    b = a
    a += np.sin(x)
    return np.sum(b * x) + np.sum(a * a)


def update_through_the_alias(x):
    a = np.exp(x)
    b = a
    b[1] *= x[2]
    return np.sum(a * x)


def chained_assignment(x):
    a = b = x * 3.0
    a -= np.cos(x)
    return np.sum(a * b)


def alias_of_an_alias(x):
    a = x * 1.5
    b = a
    c = b
    a[2] = x[0] * x[1]
    return np.sum(c * x) + np.sum(b)


def alias_updated_in_a_loop(x):
    a = x * 2.0
    b = a
    for i in range(3):
        a[i] = a[i] * x[i + 1]
        b[i + 1] += x[i]
    return np.sum(a * b) + np.sum(b)


def alias_updated_in_a_branch(x, c):
    a = x * 2.0
    b = a
    if c > 0:
        a[0] = 5.0 * x[2]
    return np.sum(b * x)


def two_updates_in_a_row(x):
    a = x * 1.0
    b = a
    a += x * x
    a *= np.cos(x)
    return np.sum(b * x)


def alias_with_stopped_gradient(x):
    a = x * 2.0
    s = sg.stop_gradient(a)
    a[1] = x[0] * x[3]
    return np.sum(s * x) + np.sum(a)


# -- views --------------------------------------------------------------------------------

def view_sees_write_into_base(x):
    a = x * 2.0
    s = a[1:]
    a[1] = np.sin(x[0]) * 3.0
    return np.sum(a * a) + np.sum(s * x[1:])


def write_into_view_reaches_base(x):
    a = x * 2.0
    s = a[1:]
    s[0] = np.sin(x[0])
    return np.sum(a * a) + np.sum(s)


def view_of_a_view(x):
    a = x * 2.0
    r = a[1:]
    s = r[1:]
    a[2] = x[0] * x[0]
    return np.sum(s * x[2:]) + np.sum(r * r)


def row_of_a_matrix(m):
    y = np.sin(m)
    r = y[1]
    r += m[0]
    return np.sum(y * y) + np.sum(r * m[2])


def transposed_name_sees_write(m):
    y = m * 2.0
    t = y.T
    y[0] += m[1]
    return np.sum(t * m)


def write_into_transposed_name(m):
    y = m * 2.0
    t = y.T
    t[0] = np.cos(m[2])
    return np.sum(y * m) + np.sum(t)


# -- writes through a view written as writes into the array ---------------------------

def chained_item_write(m):
    y = np.outer(m[0], m[1])
    y[1][0] = m[2, 2]
    return np.sum(y * y)


def chained_write_after_a_slice(m):
    y = np.outer(m[0], m[1])
    z = y
    y[1:][0] = np.cos(m[2])
    return np.sum(y * z)


def transposed_write(m):
    y = np.outer(m[0], m[1])
    y.T[0] = m[2]
    return np.sum(y * y)


def transposed_slice_update(m):
    y = m * 1.0
    y.T[1:, 0] += np.sin(m[0, 1:])
    return np.sum(y * m)


# -- lists and dicts ----------------------------------------------------------------------

def list_alias_append(x):
    lst = [x]
    other = lst
    other.append(np.sin(x))
    return np.sum(lst[-1] * lst[0])


def list_alias_item_write(x):
    lst = [x, x * 2.0]
    other = lst
    other[0] = np.cos(x)
    return np.sum(lst[0] * lst[1])


def list_held_by_a_tuple(x):
    a = [x]
    holder = (a, 1)
    a.append(x * x)
    return np.sum(holder[0][-1])


def dict_alias_entry(x):
    d = {"w": x * 2.0}
    e = d
    e["v"] = np.tanh(x)
    return np.sum(d["v"] * d["w"])


def dict_update_seen_by_alias(x):
    d = {"a": x * 2.0, "b": np.sin(x)}
    e = d
    d.update({"b": x * x}, c=np.cos(x))
    return np.sum(e["b"] * d["a"] + e["c"])


def list_extended_by_plus_equals(x):
    a = x * 2.0
    lst = [a]
    other = lst
    lst += [np.sin(x)]
    return np.sum(a * other[-1]) + np.sum(lst[0])


# -- a loop's items changed in place ----------------------------------------------------

def loop_items_of_a_list(x, ys):
    s = 0.0
    for t in ys:
        t += 0.25 * x
        s = s + np.sum(np.sin(t))
    return s + np.sum(ys[0] * ys[1])


def loop_rows_of_a_matrix(m):
    y = np.sin(m)
    for r in y:
        r *= m[0]
    return np.sum(y * m)


def loop_items_that_are_numbers(x, fs):
    for t in fs:
        t += 1.0  # a float: fs keeps its items
    return np.sum(x * fs[0])


def loop_items_read_again_in_a_second_loop(x, ys):
    for t in ys:
        t *= x
    s = 0.0
    for u in ys:
        s = s + np.sum(u * u)
    return s


CASES = [
    (alias_sees_item_write, (X,)), (alias_sees_augmented_update, (X,)),
    (update_through_the_alias, (X,)), (chained_assignment, (X,)),
    (alias_of_an_alias, (X,)), (alias_updated_in_a_loop, (X,)),
    (alias_updated_in_a_branch, (X, 1.0)), (alias_updated_in_a_branch, (X, -1.0)),
    (two_updates_in_a_row, (X,)),
    (view_sees_write_into_base, (X,)), (write_into_view_reaches_base, (X,)),
    (view_of_a_view, (X,)), (row_of_a_matrix, (M,)), (transposed_name_sees_write, (M,)),
    (write_into_transposed_name, (M,)), (chained_item_write, (M,)),
    (chained_write_after_a_slice, (M,)), (transposed_write, (M,)),
    (transposed_slice_update, (M,)), (list_alias_append, (X,)),
    (list_alias_item_write, (X,)), (list_held_by_a_tuple, (X,)), (dict_alias_entry, (X,)),
    (dict_update_seen_by_alias, (X,)), (list_extended_by_plus_equals, (X,)),
    (loop_items_of_a_list, (X[:3], [X[1:] * 0.5, X[:3] - 0.2])), (loop_rows_of_a_matrix, (M,)),
    (loop_items_that_are_numbers, (X, [0.5, -0.7])),
    (loop_items_read_again_in_a_second_loop, (X[:3], [X[1:] * 0.5, X[:3] - 0.2])),
]


def chained_write_into_an_alias_of_the_input(m):
    y = m
    y[1][0] = m[0, 0] * m[2, 2]
    return np.sum(y * m)


def chained_write_into_a_list_argument(x, rows):
    rows[1][0] = x[0] * x[1]
    return np.sum(rows[1] * x[:3]) + np.sum(rows[0])


# -- NumPy functions and methods that write into their first argument ------------------

def copyto_seen_by_alias(x):
    a = x * 2.0
    b = a
    np.copyto(a, np.sin(x))
    return np.sum(b * x)


def fill_then_write(x):
    a = x * 2.0
    a.fill(0.5)
    a[0] = x[1]
    return np.sum(a * x)


def putmask_with_repeated_values(x):
    a = x * 2.0
    np.putmask(a, x > 0.0, np.cos(x[:2]))
    return np.sum(a * x)


def place_with_repeated_values(x):
    a = x * 2.0
    np.place(a, x < 0.0, np.sin(x[1:2]))
    return np.sum(a * x)


def put_with_negative_and_repeated_positions(m):
    a = m * 2.0
    np.put(a, [0, 4, -1], np.sin(m[0, :2]))
    np.put(a, 1, m[1, 1])
    return np.sum(a * m)


CASES += [(copyto_seen_by_alias, (X,)), (fill_then_write, (X,)),
          (putmask_with_repeated_values, (X,)), (place_with_repeated_values, (X,)),
          (put_with_negative_and_repeated_positions, (M,))]
def list_alias_plus_equals(x):
    a = [x * 1.0]
    b = a
    a += [x * 2.0]
    return np.sum(b[-1] * x)


def loop_items_written_into(x, ys):
    for t in ys:
        t[0] = x[0] * 3.0
    return np.sum(ys[0] * x[:3]) + np.sum(ys[1])


def list_held_by_a_display_grown_in_a_loop(x):
    t = [x * 1.0]
    outer = [t, 1]
    for i in range(2):
        t.append(x * i)
    return np.sum(outer[0][-1] * x)


def flat_writes(m):
    a = m * 2.0
    b = a
    a.flat[0] = 0.5
    a.flat[[1, 3, 4]] = np.sin(m[1, :2])  # values repeated as flat assignment does
    a.flat[::2] += m[0, 0]
    a.flat[-1] = m[0, 1] ** 2
    return np.sum(b * m)


CASES += [(flat_writes, (M,))]
CASES += [(list_alias_plus_equals, (X,)),
          (loop_items_written_into, (X, [X[:3] * 0.5, X[1:] - 0.2])),
          (list_held_by_a_display_grown_in_a_loop, (X,))]
CASES += [(chained_write_into_an_alias_of_the_input, (M,)),
          (chained_write_into_a_list_argument, (X, [X[:3] * 0.5, X[1:] - 0.2]))]


GENERAL_REFUSED = {two_updates_in_a_row}


@pytest.fixture(params=["specialised", "general"])
def derivative(request, monkeypatch):
    """Each case twice: the derivative specialised on the inputs' shapes (ranks
    known), and the general one (docs/api.md: what sg.source shows before a call)."""
    if request.param == "general":
        monkeypatch.setattr(sg_api, "MAX_SPECIALIZATIONS", 0)
    return request.param


@pytest.mark.parametrize("fn, args", CASES,
                         ids=[f"{f.__name__}-{i}" for i, (f, _) in enumerate(CASES)])
def test_value_as_numpy_and_gradient_as_finite_differences(fn, args, derivative):
    if derivative == "general" and fn in GENERAL_REFUSED:
        # a's type is not known without the inputs' shapes: whether the first update
        # changed it in place (b still a) is not known at the second
        with pytest.raises(sg.SourcegradError, match="may share its array") as info:
            sg.grad(fn)(*copy.deepcopy(args))
        assert info.value.lineno is not None
        return
    value, _ = sg.value_and_grad(fn, 0)(*copy.deepcopy(args))
    want = fn(*copy.deepcopy(args))
    assert np.allclose(value, want, rtol=1e-12, atol=1e-12), (value, want)
    check_grads(fn, *copy.deepcopy(args), wrt=0)


def stopped_twin(x, s):
    """alias_with_stopped_gradient with the stopped value ``s`` a constant."""
    a = x * 2.0
    a[1] = x[0] * x[3]
    return np.sum(s * x) + np.sum(a)


def test_stopped_alias_sees_the_write_without_gradient():
    # s is a's array (it sees the write), its gradient stopped: finite differences of
    # the twin in which s is the constant it holds
    value, got = sg.value_and_grad(alias_with_stopped_gradient)(X.copy())
    assert np.isclose(value, alias_with_stopped_gradient(X.copy()))
    s = X * 2.0
    s[1] = X[0] * X[3]
    np.testing.assert_allclose(got, numeric_grad(stopped_twin, (X, s), 0), rtol=1e-6)


def test_the_caller_input_is_left_as_it_was():
    x = X.copy()
    sg.grad(write_into_view_reaches_base)(x)
    sg.grad(alias_sees_item_write)(x)
    np.testing.assert_array_equal(x, X)
    ys = [X[1:] * 0.5, X[:3] - 0.2]
    mine = [y.copy() for y in ys]
    sg.grad(loop_items_of_a_list, (0, 1))(X[:3], mine)
    for a, b in zip(mine, ys):
        np.testing.assert_array_equal(a, b)


def test_gradient_of_the_list_whose_items_change():
    # finite differences of each item of ys, the items changed in place by the loop
    x, ys = X[:3], [X[1:] * 0.5, X[:3] - 0.2]
    _, got = sg.grad(loop_items_read_again_in_a_second_loop, (0, 1))(x, [y.copy() for y in ys])
    for k in range(2):
        def of_item(item, k=k):
            args = [y.copy() for y in ys]
            args[k] = item
            return loop_items_read_again_in_a_second_loop(x, args)
        np.testing.assert_allclose(got[k], numeric_grad(of_item, (ys[k].copy(),), 0),
                                   rtol=1e-6, atol=1e-8)


# -- still refused: the aliasing is not known where the update runs ---------------------

def alias_bound_in_a_branch(x):
    a = x * 2.0
    b = x * 3.0
    if np.sum(x) > 0.0:
        b = a
    a[0] = 1.0
    return np.sum(a * b)


def view_by_an_index_array(x):
    a = x * 2.0
    r = a[np.argsort(x)]  # a copy in NumPy; not told apart from a view here
    a += 1.0
    return np.sum(r * a)


def transposed_write_by_an_index_array(m):
    y = m * 2.0
    y.T[np.argmax(m[0])] = m[1]
    return np.sum(y * y)


def item_of_a_list_updated_in_place(x):
    v = [x * 1.0, x * 2.0]
    t = v[1]  # the array v[1]: v[1] += 1 changes it in place
    v[1] += 1.0
    return np.sum(t * x)


def slice_of_a_list_item_updated(x):
    v = [x * 1.0, x * 2.0]
    t = v[1:]  # a new list holding v's array
    t[0] += 1.0
    return np.sum(v[1] * x)


def loop_sequence_written_in_the_loop(x, ys):
    for t in ys:
        ys[0] = x  # ys[i] is another object than t from here
        t += 1.0
    return np.sum(ys[0] * x)


def display_grown_after_it_was_built(x):
    v = x * 1.0
    t = [v]
    for i in range(2):
        v += x
        t.append(x * 3.0)  # t is no longer [v]
    return np.sum(t[-1] * x) + np.sum(t[0])


@pytest.mark.parametrize("fn, args, phrase", [
    (item_of_a_list_updated_in_place, (X,), "v may share its array with t"),
    (slice_of_a_list_item_updated, (X,), "t may share its array with v"),
    (loop_sequence_written_in_the_loop, (X[:3], [X[:3] * 0.5, X[1:] - 0.2]),
     "t may share its array with ys"),
    (display_grown_after_it_was_built, (X,), "v may share its array with t"),
    (alias_bound_in_a_branch, (X,), "a may share its array with b"),
    (view_by_an_index_array, (X,), "a may share its array with r"),
    (transposed_write_by_an_index_array, (M,), "assignment into this subscript"),
])
def test_unknown_aliasing_is_refused_with_the_line(fn, args, phrase):
    with pytest.raises(sg.SourcegradError, match=phrase) as info:
        sg.grad(fn)(*args)
    assert info.value.lineno is not None and "test_inplace_grads.py" in str(info.value)
