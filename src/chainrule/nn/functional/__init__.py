"""``chainrule.nn.functional`` (``import chainrule.nn.functional as F``): the layers and losses
as functions, with PyTorch's names and signatures."""
from ...functional import (log_softmax, relu, sigmoid, softmax, tanh)  # noqa: F401
from .activation import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .padding import *  # noqa: F401,F403
from .attention import *  # noqa: F401,F403
from .vision import *  # noqa: F401,F403
from .sparse import *  # noqa: F401,F403
