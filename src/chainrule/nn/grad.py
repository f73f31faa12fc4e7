"""``chainrule.nn.grad`` (torch.nn.grad): the gradients of a convolution with respect to its
input and its weight, as functions of the output gradient.

Each runs the convolution's own backward (``autograd.grad`` of ``conv(x, w)``): the input
gradient is a transposed convolution of ``grad_output`` with the weight, the weight gradient a
convolution of the input with ``grad_output``; both differentiate again when their arguments
require gradients.
"""
from .. import creation
from ..autograd import grad as _grad
from ..grad_mode import enable_grad
from .functional import conv as C

__all__ = ["conv1d_input", "conv1d_weight", "conv2d_input", "conv2d_weight", "conv3d_input",
           "conv3d_weight"]


def _check(op, t, what):
    return C.check_tensor(t, what, op)


def _input_grad(op, fn, input_size, weight, grad_output, stride, padding, dilation, groups):
    w = _check(op, weight, "weight")
    g = _check(op, grad_output, "grad_output")
    with enable_grad():
        x = creation.zeros(tuple(input_size), dtype=w.dtype, requires_grad=True)
        out = fn(x, w, None, stride, padding, dilation, groups)
        if tuple(out.shape) != tuple(g.shape):
            raise RuntimeError(f"{op}: grad_output has shape {list(g.shape)}, but the "
                               f"convolution of an input of size {list(input_size)} gives "
                               f"{list(out.shape)}")
        create = w.requires_grad or g.requires_grad
        return _grad(out, x, g, create_graph=create)[0]


def _weight_grad(op, fn, input, weight_size, grad_output, stride, padding, dilation, groups):
    x = _check(op, input, "input")
    g = _check(op, grad_output, "grad_output")
    with enable_grad():
        w = creation.zeros(tuple(weight_size), dtype=x.dtype, requires_grad=True)
        out = fn(x, w, None, stride, padding, dilation, groups)
        if tuple(out.shape) != tuple(g.shape):
            raise RuntimeError(f"{op}: grad_output has shape {list(g.shape)}, but the "
                               f"convolution with a weight of size {list(weight_size)} gives "
                               f"{list(out.shape)}")
        create = x.requires_grad or g.requires_grad
        return _grad(out, w, g, create_graph=create)[0]


def conv1d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """∂⟨grad_output, conv1d(x, weight)⟩/∂x for an x of size input_size

    >>> w = chainrule.ones(1, 1, 2)
    >>> chainrule.nn.grad.conv1d_input((1, 1, 3), w, chainrule.ones(1, 1, 2))
    tensor([[[1., 2., 1.]]])
    """
    return _input_grad("conv1d_input", C.conv1d, input_size, weight, grad_output, stride,
                       padding, dilation, groups)


def conv1d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """∂⟨grad_output, conv1d(input, w)⟩/∂w for a w of size weight_size

    >>> x = chainrule.tensor([[[1., 2., 3.]]])
    >>> chainrule.nn.grad.conv1d_weight(x, (1, 1, 2), chainrule.ones(1, 1, 2))
    tensor([[[3., 5.]]])
    """
    return _weight_grad("conv1d_weight", C.conv1d, input, weight_size, grad_output, stride,
                        padding, dilation, groups)


def conv2d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """∂⟨grad_output, conv2d(x, weight)⟩/∂x for an x of size input_size

    >>> w = chainrule.ones(1, 1, 2, 2)
    >>> chainrule.nn.grad.conv2d_input((1, 1, 3, 3), w, chainrule.ones(1, 1, 2, 2))[0, 0]
    tensor([[1., 2., 1.],
            [2., 4., 2.],
            [1., 2., 1.]])
    """
    return _input_grad("conv2d_input", C.conv2d, input_size, weight, grad_output, stride,
                       padding, dilation, groups)


def conv2d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """∂⟨grad_output, conv2d(input, w)⟩/∂w for a w of size weight_size

    >>> x = chainrule.ones(1, 1, 3, 3)
    >>> chainrule.nn.grad.conv2d_weight(x, (1, 1, 2, 2), chainrule.ones(1, 1, 2, 2))
    tensor([[[[4., 4.],
              [4., 4.]]]])
    """
    return _weight_grad("conv2d_weight", C.conv2d, input, weight_size, grad_output, stride,
                        padding, dilation, groups)


def conv3d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """∂⟨grad_output, conv3d(x, weight)⟩/∂x for an x of size input_size

    >>> w = chainrule.ones(1, 1, 2, 2, 2)
    >>> chainrule.nn.grad.conv3d_input((1, 1, 2, 2, 2), w, chainrule.ones(1, 1, 1, 1, 1)).sum()
    tensor(8.)
    """
    return _input_grad("conv3d_input", C.conv3d, input_size, weight, grad_output, stride,
                       padding, dilation, groups)


def conv3d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """∂⟨grad_output, conv3d(input, w)⟩/∂w for a w of size weight_size

    >>> x = chainrule.ones(1, 1, 2, 2, 2)
    >>> chainrule.nn.grad.conv3d_weight(x, (1, 1, 2, 2, 2), chainrule.ones(1, 1, 1, 1, 1)).sum()
    tensor(8.)
    """
    return _weight_grad("conv3d_weight", C.conv3d, input, weight_size, grad_output, stride,
                        padding, dilation, groups)
