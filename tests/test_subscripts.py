"""Subscripts: reads (index, slice, mask, fancy) and writes into arrays."""
import numpy as np
import pytest

import sourcegrad as sg
from sourcegrad.testing import check_grads

V = np.array([0.3, -0.8, 1.4, 0.9, -0.2])
A = np.arange(12.0).reshape(3, 4) / 5.0 - 1.1


# -- reads ---------------------------------------------------------------------------------

def read_index(x):
    return x[1] * x[3] + np.sin(x[0])


def read_negative(x):
    return x[-1] * x[-2] * x[0]


def read_slice(x):
    return np.sum(x[1:4] * x[:3])


def read_step_slice(x):
    return np.sum(x[::2] ** 2) + np.sum(x[::-1] * x)


def read_column(m):
    return np.sum(m[:, 1] * m[:, 2])


def read_row(m):
    return np.sum(np.exp(m[1]) * m[-1])


def read_element_2d(m):
    return m[1, 2] * m[0, 0] + m[-1, -1] ** 2


def read_block(m):
    return np.sum(m[1:, :2] * m[:2, 2:])


def read_ellipsis_newaxis(m):
    return np.sum(m[..., 0][:, None] * m)


def read_bool_mask(x):
    return np.sum(x[x > 0] ** 2)


def read_bool_mask_from_other(x, y):
    return np.sum(np.sin(x[y > 0]))


def read_fancy(x):
    idx = np.array([0, 2, 4])
    return np.sum(x[idx] * np.array([1.0, 2.0, 3.0]))


def read_fancy_repeated(x):
    idx = np.array([1, 1, 3, 1, 0])
    return np.sum(x[idx] ** 2)


def read_fancy_list_repeated(x):
    return np.sum(x[[2, 2, 2]] * x[[0, 2, 0]])


def read_fancy_rows(m):
    return np.sum(m[[0, 2, 0]] ** 2)


def read_fancy_2d(m):
    return np.sum(m[np.array([0, 1, 1]), np.array([3, 2, 2])] ** 3)


def read_index_variable(x, i):
    return x[i] * x[i + 1]


def read_chained(m):
    return m[1][2] * m[2][1:3][0]


def read_scalar_index_loop(x):
    acc = 0.0
    for i in range(len(x) - 1):
        acc = acc + x[i] * x[i + 1]
    return acc


@pytest.mark.parametrize("fn", [read_index, read_negative, read_slice, read_step_slice,
                                read_bool_mask, read_fancy, read_fancy_repeated,
                                read_fancy_list_repeated, read_scalar_index_loop])
def test_vector_reads(fn):
    check_grads(fn, V)


@pytest.mark.parametrize("fn", [read_column, read_row, read_element_2d, read_block,
                                read_ellipsis_newaxis, read_fancy_rows, read_fancy_2d,
                                read_chained])
def test_matrix_reads(fn):
    check_grads(fn, A)


def test_repeated_fancy_index_accumulates():
    g = sg.grad(read_fancy_repeated)(V)
    np.testing.assert_allclose(g, [2 * V[0], 3 * 2 * V[1], 0.0, 2 * V[3], 0.0])


def test_mask_from_other_array():
    check_grads(read_bool_mask_from_other, V, np.array([1.0, -1.0, 1.0, -1.0, 1.0]), wrt=0)


@pytest.mark.parametrize("i", [0, 2, -3])
def test_index_from_argument(i):
    check_grads(read_index_variable, V, i, wrt=0)


# -- writes ----------------------------------------------------------------------------------

def write_index(x):
    y = np.zeros(5)
    y[2] = x[0] * x[1]
    y[4] = np.sin(x[3])
    return np.sum(y * x)


def write_into_copy(x):
    y = x.copy()
    y[1] = 5.0
    return np.sum(y * y)


def write_overwrites_read_value(x):
    y = x * 2.0
    a = y[1] * y[2]
    y[1] = x[0] ** 3
    return np.sum(y) + a


def write_overwrites_then_reads(x):
    y = x * 1.0
    y[0] = y[0] * y[1]
    y[1] = y[0] + y[1]
    return np.sum(y * y)


def write_augmented(x):
    y = x * 1.0
    y[2] += x[0] * x[4]
    y[0] -= np.cos(x[1])
    y[1] *= x[3]
    return np.sum(y ** 2)


def write_slice(x):
    y = np.zeros(5)
    y[1:4] = np.tanh(x[:3])
    return np.sum(y * x)


def write_column(m):
    out = m * 1.0
    out[:, 0] = m[:, 1] * m[:, 3]
    return np.sum(out ** 2)


def write_row_aug(m):
    out = m * 2.0
    out[1] += np.exp(m[0])
    return np.sum(out * m)


def write_in_loop(x):
    y = np.zeros(5)
    for i in range(5):
        y[i] = x[i] * x[(i + 1) % 5]
    return np.sum(y ** 2)


def write_in_loop_reads_previous(x):
    y = x * 1.0
    for i in range(1, 5):
        y[i] = y[i - 1] * x[i] + y[i]
    return np.sum(y)


def write_aug_in_loop_same_slot(x):
    y = np.zeros(2)
    for i in range(5):
        y[i % 2] += x[i] * y[(i + 1) % 2] + x[i]
    return np.sum(y * y)


def write_mask(x):
    y = x * 1.0
    y[x < 0] = 0.0
    return np.sum(y * y * x)


def write_fancy_repeated_aug(x):
    y = np.zeros(3)
    idx = np.array([0, 0, 2])
    y[idx] += x[:3]
    return np.sum(y * y)


def write_into_argument_copy(x):
    x = x.copy()
    x[0] = x[0] * x[1]
    return np.sum(x * x)


def write_scalar_from_array(x):
    y = np.ones(3)
    y[0] = np.sum(x)
    y[1] = np.max(x)
    return np.prod(y) + y[0] * y[1]


@pytest.mark.parametrize("fn", [write_index, write_into_copy, write_overwrites_read_value,
                                write_overwrites_then_reads, write_augmented, write_slice,
                                write_in_loop, write_in_loop_reads_previous,
                                write_aug_in_loop_same_slot, write_mask,
                                write_into_argument_copy, write_scalar_from_array])
def test_vector_writes(fn):
    check_grads(fn, V)


@pytest.mark.parametrize("fn", [write_column, write_row_aug])
def test_matrix_writes(fn):
    check_grads(fn, A)


def test_fancy_augmented_write_with_repeats_is_numpy_semantics():
    # NumPy's y[idx] += v with repeated idx applies ONE of the writes (no accumulation);
    # the gradient must match what the primal actually computes.
    check_grads(write_fancy_repeated_aug, V)


def write_list_repeated_aug(x):
    # (API fuzz seed 41) a list index, not an array: the same NumPy semantics
    y = x * 1.0
    y[[0, 0]] += x[1]
    return np.sum(y * y)


def write_column_list_repeated_aug(x):
    # (API fuzz seed 237) a repeated column inside a tuple index
    y = x * 1.0
    y[:, [0, 0]] += 2.0 * x[:, 1:2]
    return np.sum(y * y)


def write_2d_index_array_repeated(x):
    y = np.zeros(3)
    y[np.array([[0, 1], [1, 2]])] = x[:4].reshape(2, 2)
    return np.sum(y * y * y)


@pytest.mark.parametrize("fn, arg", [(write_list_repeated_aug, V),
                                     (write_column_list_repeated_aug, A),
                                     (write_2d_index_array_repeated, V)])
def test_repeated_write_index_forms(fn, arg):
    check_grads(fn, arg)


def alias_write_reads_alias(x):
    # (API fuzz seed 1942) b is a: the write changes a too, and the backward sweep of
    # exp reads a's values from before the write
    a = np.exp(x)
    b = a
    b[1:] = a[:-1]
    return np.sum(b * b)


def alias_write_operand_of_matmul(x, w):
    a = np.sin(x)
    h = a @ w
    b = a
    b[0] = 0.0
    return np.sum(h) + np.sum(b * b)


def alias_augmented_write(x, w):
    a = np.sin(x)
    h = a @ w
    b = a
    b[0] += 2.0
    return np.sum(h * h) + np.sum(b)


def alias_view_write(x):
    a = np.tanh(x)
    c = np.cumprod(a)
    b = a.reshape(-1, 1)
    b[0, 0] = 0.5
    return np.sum(b ** 2) + np.sum(c)


@pytest.mark.parametrize("fn, args", [(alias_write_reads_alias, (V,)),
                                      (alias_write_operand_of_matmul, (V, V[::-1])),
                                      (alias_augmented_write, (V, V[::-1])),
                                      (alias_view_write, (V,))])
def test_write_into_an_alias_leaves_the_other_name_for_the_backward_sweep(fn, args):
    check_grads(fn, *args)


def alias_augmented_write_read_after(x):
    a = np.exp(x)
    b = a
    b[0] += 1.0
    return np.sum(a * b)


def test_augmented_write_into_an_alias_read_afterwards_is_seen_by_the_alias():
    # like y[i] = v: `a` sees the write (b = a was bound on every path: `a` is bound
    # again after it, docs/behaviour.md)
    value, _ = sg.value_and_grad(alias_augmented_write_read_after)(V.copy())
    assert np.allclose(value, alias_augmented_write_read_after(V.copy()))
    check_grads(alias_augmented_write_read_after, V)


def test_write_does_not_modify_caller_input():
    x = V.copy()
    sg.grad(write_into_argument_copy)(x)
    np.testing.assert_array_equal(x, V)


def write_into_input_in_place(x):
    x[0] = 2.0 * x[1]
    return np.sum(x * x)


def test_write_into_input_array():
    # writing into the input itself: either a correct gradient or a clear refusal
    x = V.copy()
    try:
        g = sg.grad(write_into_input_in_place)(x)
    except sg.SourcegradError as e:
        assert "test_subscripts.py" in str(e)
        return
    # d/dx of (2 x1)^2 + sum_{i>0} x_i^2
    want = 2 * V
    want[0] = 0.0
    want[1] = 2 * V[1] + 8 * V[1]
    np.testing.assert_allclose(g, want)


# -- a write must not reach an array the write's target was computed from -----------------

def write_after_times_one(x):
    y = x * 1.0
    y[0] = 5.0
    return np.sum(y * np.sin(x))


def write_after_plus_zero(x):
    y = x + 0.0
    y[0] = 5.0
    return np.sum(y * np.sin(x))


def write_after_copy(x):
    y = np.copy(x)
    y[0] = 5.0
    return np.sum(y * np.sin(x))


def write_after_astype(x):
    y = x.astype(np.float64)
    y[0] = 5.0
    return np.sum(y * np.sin(x))


def write_after_array(x):
    y = np.array(x)
    y[0] = 5.0
    return np.sum(y * np.sin(x))


def write_after_unary_plus(x):
    y = +x
    y[0] = 5.0
    return np.sum(y * np.sin(x))


def write_after_divide_by_one(x):
    y = x / 1.0
    y[0] = 5.0
    return np.sum(y * np.sin(x))


@pytest.mark.parametrize("fn", [
    write_after_times_one, write_after_plus_zero, write_after_divide_by_one,
    write_after_unary_plus,
    write_after_copy, write_after_array,
])
def test_write_into_fresh_array_value_and_gradient(fn):
    x = V.copy()
    val, g = sg.value_and_grad(fn)(x)
    np.testing.assert_allclose(val, fn(V.copy()))
    np.testing.assert_array_equal(x, V)
    check_grads(fn, V)


def test_write_after_astype_same_dtype():
    # astype copies by default, even to the same dtype
    check_grads(write_after_astype, V)


def test_value_of_writes_in_loop():
    x = V.copy()
    val, _ = sg.value_and_grad(write_in_loop_reads_previous)(x)
    np.testing.assert_allclose(val, write_in_loop_reads_previous(V.copy()))
    np.testing.assert_array_equal(x, V)


# -- more writes: while loops, slices in loops, views --------------------------------------------

def write_in_while(x):
    y = np.zeros(5)
    i = 0
    while i < 5:
        y[i] = x[i] ** 2
        i += 1
    return np.sum(y * x)


def write_slice_aug_in_loop(x):
    y = x * 1.0
    for i in range(3):
        y[i:i + 2] += y[i + 1:i + 3] * x[i]
    return np.sum(y ** 2)


def write_self_scaled_in_loop(x):
    y = x * 1.0
    for i in range(5):
        y[i] = y[i] * 2.0
    return np.sum(y * y)


def write_in_branch_in_loop(x):
    y = x * 1.0
    for i in range(5):
        if y[i] > 0:
            y[i] = np.sqrt(y[i])
        else:
            continue
    return np.sum(y * x)


def write_shifted_slice(x):
    y = x * 1.0
    y[1:3] = y[0:2]
    return np.sum(y * y * x)


def write_reversed_whole(x):
    y = x * 1.0
    y[:] = y[::-1]
    return np.sum(y * np.arange(5.0))


def write_rows_in_loop(m):
    out = np.zeros((2, 4))
    for i in range(2):
        out[i, :] = m[i] * m[i + 1]
    return np.sum(out ** 2)


def tuple_bound_then_written(x):
    # fuzz seeds 50090, 50681, 51508: a temporary of the tuple assignment shared
    # u's array, and the write changed the value tanh's adjoint reads
    u, v = np.tanh(x), np.sin(x)
    u[1] = np.sin(u[1]) * v[0]
    return np.sum(u * u) + np.sum(v)


def test_tuple_bound_then_written():
    check_grads(tuple_bound_then_written, V)


def view_then_write_base(x):
    y = x * 1.0
    z = y[1:3]  # a NumPy view of y
    y[1] = 10.0
    return np.sum(z * x[:2])


def view_then_write_view(x):
    y = x * 1.0
    z = y[1:3]
    z[0] = 10.0  # writes into y too
    return np.sum(y * x)


@pytest.mark.parametrize("fn", [write_in_while, write_slice_aug_in_loop,
                                write_self_scaled_in_loop, write_in_branch_in_loop,
                                write_shifted_slice, write_reversed_whole])
def test_more_vector_writes(fn):
    check_grads(fn, V)


def test_write_rows_in_loop():
    check_grads(write_rows_in_loop, A)


# Basic-slice views alias their base: a write into one is seen through the other
# (the view is taken again after a write into the base, the base written back after a
# write into the view: docs/behaviour.md).

@pytest.mark.parametrize("fn", [view_then_write_base, view_then_write_view])
def test_write_through_a_view_is_seen_by_its_base(fn):
    value, _ = sg.value_and_grad(fn)(V.copy())
    assert np.allclose(value, fn(V.copy()))
    check_grads(fn, V)


# -- np.r_ and np.c_: indexing them builds an array out of the items ---------------------

_COL = np.array([[0.5], [-1.0], [2.0]])


def r_join(x, w):
    return np.sum(np.r_[x, w, x] ** 2)


def r_with_range_and_scalar(x, s):
    return np.r_[x * s, 0:3, s] * 1.5


def r_single(x):
    return np.sin(np.r_[x])


def c_columns(m):
    return np.c_[m, _COL, m * m]


def test_r_concatenates_with_gradient():
    check_grads(r_join, V, V[:3])


def test_r_with_slices_and_scalars():
    check_grads(r_with_range_and_scalar, V, 0.7)


def test_r_single_item():
    check_grads(r_single, A)


def test_c_stacks_columns_with_gradient():
    check_grads(c_columns, A[:, :2].copy())


def gather_with_a_negative_index(x):
    return np.sum(x[[-1, 0, 0]] * np.array([-0.4, -0.6, 0.5]))


def test_gather_with_negative_and_repeated_indices():
    # np.add.at with a negative index: NumPy 1.25.0 corrupted memory here (the reason
    # pyproject.toml asks for 1.25.2)
    check_grads(gather_with_a_negative_index, np.array([0.3, -0.5, 1.2]))
