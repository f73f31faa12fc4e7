"""Optimizers with PyTorch's API: SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, NAdam,
RAdam, ASGD, Rprop, and ``lr_scheduler``.

Each optimizer follows torch's single-tensor (for-loop) implementation operation for operation,
so float64 trajectories agree with torch's to rounding.

>>> model = chainrule.nn.Linear(3, 1)
>>> opt = chainrule.optim.Adam(model.parameters(), lr=1e-3)
>>> sched = chainrule.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
"""
from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam
from .adamw import AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD
from .adadelta import Adadelta
from .adamax import Adamax
from .nadam import NAdam
from .radam import RAdam
from .asgd import ASGD
from .rprop import Rprop
from .lbfgs import LBFGS
from .sparse_adam import SparseAdam
from .adafactor import Adafactor
from .muon import Muon
from . import swa_utils
from ._stateless import swap_in_optimizer_params_and_state

__all__ = ["Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "SGD", "lr_scheduler",
           "Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop", "LBFGS",
           "SparseAdam", "Adafactor", "Muon", "swa_utils", "swap_in_optimizer_params_and_state"]
