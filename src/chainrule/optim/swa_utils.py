"""Stochastic weight averaging and exponential moving averages of a model's weights
(``torch.optim.swa_utils``): ``AveragedModel``, the ``SWALR`` scheduler, ``update_bn`` and the
averaging functions ``get_swa_avg_fn``/``get_ema_avg_fn`` (one tensor at a time) and
``get_swa_multi_avg_fn``/``get_ema_multi_avg_fn`` (lists of tensors, updated in place).
"""
import itertools
import math
import warnings
from copy import deepcopy

from ..creation import tensor as _tensor
from ..dtypes import long
from ..grad_mode import graph_break, no_grad
from ..nn.modules.module import Module
from ..nn.modules.normalization import _BatchNorm
from ..tensor import Tensor
from .lr_scheduler import LRScheduler, _format_param
from .optimizer import lerp_

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn",
           "get_swa_multi_avg_fn", "get_ema_avg_fn", "get_swa_avg_fn"]


def _is_float(t):
    return t._data.dtype.kind in "fc"


def _count(n):
    return n.item() if isinstance(n, Tensor) else n


def get_ema_multi_avg_fn(decay=0.999):
    """An in-place exponential moving average of lists of tensors:
    ``ema ← lerp(ema, current, 1 − decay)``, for ``AveragedModel(multi_avg_fn=...)``.

    >>> ema = [chainrule.tensor([0.0, 0.0])]
    >>> chainrule.optim.swa_utils.get_ema_multi_avg_fn(0.9)(ema, [chainrule.tensor([1.0, 2.0])], 1)
    >>> ema
    [tensor([0.1000, 0.2000])]
    """
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in "
                         "[0,1] range.")

    def ema_update(ema_param_list, current_param_list, _):
        if _is_float(ema_param_list[0]):
            for p_ema, p_model in zip(ema_param_list, current_param_list):
                lerp_(_nd(p_ema), _nd(p_model._data), 1 - decay)
                p_ema._vc[0] += 1
        else:
            with no_grad():
                for p_ema, p_model in zip(ema_param_list, current_param_list):
                    p_ema.copy_(p_ema * decay + p_model * (1 - decay))
    return ema_update


def get_swa_multi_avg_fn():
    """An in-place running mean of lists of tensors: ``avg ← lerp(avg, current, 1/(n + 1))``,
    for ``AveragedModel(multi_avg_fn=...)``.

    >>> avg = [chainrule.tensor([1.0])]
    >>> chainrule.optim.swa_utils.get_swa_multi_avg_fn()(avg, [chainrule.tensor([3.0])], 1)
    >>> avg
    [tensor([2.])]
    """
    def swa_update(averaged_param_list, current_param_list, num_averaged):
        if _is_float(averaged_param_list[0]):
            w = 1 / (_count(num_averaged) + 1)
            for p_avg, p_model in zip(averaged_param_list, current_param_list):
                lerp_(_nd(p_avg), _nd(p_model._data), w)
                p_avg._vc[0] += 1
        else:
            with no_grad():
                for p_avg, p_model in zip(averaged_param_list, current_param_list):
                    diff = p_model - p_avg
                    if isinstance(num_averaged, Tensor):
                        p_avg.copy_(p_avg + diff / (num_averaged + 1))
                    else:
                        p_avg.copy_(p_avg + diff * (1.0 / (num_averaged + 1)))
    return swa_update


def get_ema_avg_fn(decay=0.999):
    """``avg_fn(ema, current, n) = decay·ema + (1 − decay)·current``, for
    ``AveragedModel(avg_fn=...)``.

    >>> f = chainrule.optim.swa_utils.get_ema_avg_fn(0.5)
    >>> f(chainrule.tensor([0.0]), chainrule.tensor([2.0]), 3)
    tensor([1.])
    """
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in "
                         "[0,1] range.")

    def ema_update(ema_param, current_param, num_averaged):
        with no_grad():
            return decay * ema_param + (1 - decay) * current_param
    return ema_update


def get_swa_avg_fn():
    """``avg_fn(avg, current, n) = avg + (current − avg)/(n + 1)``: the running mean.

    >>> f = chainrule.optim.swa_utils.get_swa_avg_fn()
    >>> f(chainrule.tensor([1.0]), chainrule.tensor([4.0]), 2)
    tensor([2.])
    """
    def swa_update(averaged_param, current_param, num_averaged):
        with no_grad():
            return averaged_param + (current_param - averaged_param) / (num_averaged + 1)
    return swa_update


def _nd(t):
    a = t._data if isinstance(t, Tensor) else t
    return a if a.ndim else a.reshape(1)


class AveragedModel(Module):
    """A deep copy of ``model`` whose parameters are averaged over the models passed to
    ``update_parameters``: a running mean by default (SWA), or ``avg_fn``/``multi_avg_fn``
    (e.g. ``get_ema_multi_avg_fn(0.999)``).  ``use_buffers=True`` averages buffers too; else
    buffers are copied from the latest model.  ``n_averaged`` counts the updates.

    >>> model = chainrule.nn.Linear(2, 1)
    >>> swa = chainrule.optim.swa_utils.AveragedModel(model)
    >>> swa.update_parameters(model); swa.n_averaged
    tensor(1)
    """

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", _tensor(0, dtype=long))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        """Run the averaged copy of the model."""
        return self.module(*args, **kwargs)

    def update_parameters(self, model):
        """Average ``model``'s current parameters (and buffers with ``use_buffers``) in."""
        graph_break("AveragedModel.update_parameters() (it changes the averaged parameters "
                    "outside the recorded operations)")
        self_param = (itertools.chain(self.module.parameters(), self.module.buffers())
                      if self.use_buffers else self.parameters())
        model_param = (itertools.chain(model.parameters(), model.buffers())
                       if self.use_buffers else model.parameters())
        self_detached, model_detached = [], []
        n = int(self.n_averaged.item())
        with no_grad():
            for p_averaged, p_model in zip(self_param, model_param):
                p_model_ = p_model.detach()
                self_detached.append(p_averaged.detach())
                model_detached.append(p_model_)
                if n == 0:
                    p_averaged.detach().copy_(p_model_)
            if n > 0:
                if self.avg_fn is None:
                    # torch groups by device and dtype; on CPU it takes the foreach path,
                    # which is the running mean of get_swa_multi_avg_fn
                    multi = self.multi_avg_fn or get_swa_multi_avg_fn()
                    groups = {}
                    for a, m in zip(self_detached, model_detached):
                        pa, pm = groups.setdefault(a._data.dtype, ([], []))
                        pa.append(a)
                        pm.append(m)
                    for pa, pm in groups.values():
                        multi(pa, pm, self.n_averaged.clone())
                else:
                    for p_averaged, p_model in zip(self_detached, model_detached):
                        p_averaged.copy_(self.avg_fn(p_averaged, p_model,
                                                     self.n_averaged.clone()))
            if not self.use_buffers:
                for b_swa, b_model in zip(self.module.buffers(), model.buffers()):
                    b_swa.detach().copy_(b_model.detach())
            self.n_averaged.add_(1)


def update_bn(loader, model, device=None):
    """Recompute the running statistics of ``model``'s batch-norm layers with one pass over
    ``loader`` (for an ``AveragedModel``, whose averaged weights make the old statistics
    stale).  Each batch is the input, or a list/tuple whose first item is.

    >>> model = chainrule.nn.Sequential(chainrule.nn.Linear(2, 2), chainrule.nn.BatchNorm1d(2))
    >>> chainrule.optim.swa_utils.update_bn([chainrule.randn(8, 2)], model)
    """
    graph_break("update_bn() (it recomputes running statistics outside the recorded "
                "operations)")
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    with no_grad():
        for input in loader:
            if isinstance(input, (list, tuple)):
                input = input[0]
            if device is not None:
                input = input.to(device)
            model(input)
    for bn_module in momenta:
        bn_module.momentum = momenta[bn_module]
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's learning rate to ``swa_lr`` over ``anneal_epochs`` epochs
    (``"cos"`` or ``"linear"``), then hold it.

    >>> opt = chainrule.optim.SGD([chainrule.zeros(2, requires_grad=True)], lr=1.0)
    >>> sched = chainrule.optim.swa_utils.SWALR(opt, swa_lr=0.1, anneal_epochs=2,
    ...                                         anneal_strategy="linear")
    >>> for _ in range(3): opt.step(); sched.step()
    >>> round(sched.get_last_lr()[0], 6)
    0.1
    """

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos",
                 last_epoch=-1):
        swa_lrs = _format_param("swa_lr", optimizer, swa_lr)
        for swa_lr, group in zip(swa_lrs, optimizer.param_groups):
            group["swa_lr"] = swa_lr
        if anneal_strategy not in ["cos", "linear"]:
            raise ValueError("anneal_strategy must be one of 'cos' or 'linear', "
                             f"instead got {anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got "
                             f"{anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t):
        return t

    @staticmethod
    def _cosine_anneal(t):
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self):
        """The next learning rates (called by ``step()``)."""
        if not self._get_lr_called_within_step:
            warnings.warn("To get the last learning rate computed by the scheduler, "
                          "please use `get_last_lr()`.", UserWarning, stacklevel=2)
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_t = max(0, min(1, (step - 1) / max(1, self.anneal_epochs)))
        prev_alpha = self.anneal_func(prev_t)
        prev_lrs = [self._get_initial_lr(group["lr"], group["swa_lr"], prev_alpha)
                    for group in self.optimizer.param_groups]
        t = max(0, min(1, step / max(1, self.anneal_epochs)))
        alpha = self.anneal_func(t)
        return [group["swa_lr"] * alpha + lr * (1 - alpha)
                for group, lr in zip(self.optimizer.param_groups, prev_lrs)]

    def _set_anneal_func(self, anneal_strategy):
        self._anneal_strategy = anneal_strategy
        if anneal_strategy == "cos":
            self.anneal_func = self._cosine_anneal
        else:
            self.anneal_func = self._linear_anneal

    def state_dict(self):
        """The scheduler's ``__dict__`` without the optimizer and the anneal function."""
        return {key: value for key, value in self.__dict__.items()
                if key not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict):
        """Restore a ``state_dict()``."""
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
