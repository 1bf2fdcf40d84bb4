"""MindSpore's functional-autodiff tutorial, running on sourcegrad.

The tutorial is MindSpore r2.4.1, beginner/autograd ("函数式自动微分"). Its code
is kept line for line; only the import lines differ:

    import mindspore                  ->  import sourcegrad as mindspore
    from mindspore import ...         ->  from sourcegrad import ...

Lines this sample adds are marked ``# sample:``. They pin ``w`` and ``b`` so
the tutorial's printed numbers come out again, and print a heading before each
result and the generated derivative source after each ``grad_fn = ...``.

Run it:  python samples/autodiff_tutorial.py
"""
import numpy as np
import sourcegrad as mindspore
from sourcegrad import nn
from sourcegrad import ops
from sourcegrad import Tensor, Parameter

# ## Functions and computational graphs

np.random.seed(0)  # sample: a fixed draw for w
x = ops.ones(5, mindspore.float32)  # input tensor
y = ops.zeros(3, mindspore.float32)  # expected output
w = Parameter(Tensor(np.random.randn(5, 3), mindspore.float32), name='w') # weight
b = Parameter(Tensor(np.random.randn(3,), mindspore.float32), name='b') # bias

# sample: the tutorial's printed numbers came from an unseeded draw of w and b.
# sample: Only z = x @ w + b matters to them (x is all ones), so choose b in
# sample: place to make z equal the z the tutorial printed; then the same
# sample: loss and gradients print.
z_target = [-1.40476596, -1.64932394, 2.24711204]  # sample
b[...] = np.array(z_target, np.float32) - w.sum(0)  # sample


def function(x, y, w, b):
    z = ops.matmul(x, w) + b
    loss = ops.binary_cross_entropy_with_logits(z, y, ops.ones_like(z), ops.ones_like(z))
    return loss


print("--- loss ---")  # sample
loss = function(x, y, w, b)
print(loss)

# ## Differential functions and gradient computation

grad_fn = mindspore.grad(function, (2, 3))
print("--- grads of function ---")  # sample
grads = grad_fn(x, y, w, b)
print(grads)
print("--- derivative of function ---")  # sample
print(mindspore.source(grad_fn))  # sample

# ## Stop Gradient


def function_with_logits(x, y, w, b):
    z = ops.matmul(x, w) + b
    loss = ops.binary_cross_entropy_with_logits(z, y, ops.ones_like(z), ops.ones_like(z))
    return loss, z


grad_fn = mindspore.grad(function_with_logits, (2, 3))
print("--- grads of function_with_logits ---")  # sample
grads = grad_fn(x, y, w, b)
print(grads)
print("--- derivative of function_with_logits ---")  # sample
print(mindspore.source(grad_fn))  # sample


def function_stop_gradient(x, y, w, b):
    z = ops.matmul(x, w) + b
    loss = ops.binary_cross_entropy_with_logits(z, y, ops.ones_like(z), ops.ones_like(z))
    return loss, ops.stop_gradient(z)


grad_fn = mindspore.grad(function_stop_gradient, (2, 3))
print("--- grads of function_stop_gradient ---")  # sample
grads = grad_fn(x, y, w, b)
print(grads)
print("--- derivative of function_stop_gradient ---")  # sample
print(mindspore.source(grad_fn))  # sample

# ## Auxiliary data

grad_fn = mindspore.grad(function_with_logits, (2, 3), has_aux=True)
print("--- grads, z of function_with_logits, has_aux=True ---")  # sample
grads, (z,) = grad_fn(x, y, w, b)
print(grads, z)
print("--- derivative of function_with_logits, has_aux=True ---")  # sample
print(mindspore.source(grad_fn))  # sample

# ## Calculating neural network gradient


# Define model
class Network(nn.Cell):
    def __init__(self):
        super().__init__()
        self.w = w
        self.b = b

    def construct(self, x):
        z = ops.matmul(x, self.w) + self.b
        return z


# Instantiate model
model = Network()
# Instantiate loss function
loss_fn = nn.BCEWithLogitsLoss()


# Define forward function
def forward_fn(x, y):
    z = model(x)
    loss = loss_fn(z, y)
    return loss


grad_fn = mindspore.value_and_grad(forward_fn, None, weights=model.trainable_params())
print("--- grads of forward_fn ---")  # sample
loss, grads = grad_fn(x, y)
print(grads)
print("--- derivative of forward_fn, weights=model.trainable_params() ---")  # sample
print(mindspore.source(grad_fn))  # sample

# ## Forward mode and Jacobians (sample: beyond MindSpore's tutorial, with MindSpore's API)
#
# sample: jvp pushes a direction forward through `function` (a Jacobian-vector
# sample: product); jacfwd gets the whole Jacobian of the network's output from
# sample: one call of the same generated forward-mode code, all directions at
# sample: once; sg.source shows that code, tangents named after the primal's
# sample: names (`dz` is the tangent of `z`).
v = ops.ones_like(b)  # sample: a direction for b
loss, loss_tangent = mindspore.jvp(lambda b: function(x, y, w, b), b, v)  # sample
print("--- jvp of function along b ---")  # sample
print(loss, loss_tangent)  # sample
jac_fn = mindspore.jacfwd(function, grad_position=3)  # sample
print("--- jacfwd of function with respect to b ---")  # sample
print(jac_fn(x, y, w, b))  # sample
print("--- forward-mode derivative of function ---")  # sample
print(mindspore.source(jac_fn))  # sample
print("--- jacfwd of model ---")  # sample
print(mindspore.jacfwd(model)(x))  # sample
print("--- hessian of function with respect to b ---")  # sample
print(mindspore.hessian(function, grad_position=3)(x, y, w, b))  # sample
