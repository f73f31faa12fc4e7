"""``chainrule.utils.tensorboard``: ``SummaryWriter`` backed by the torch-free ``tensorboardX``
package (the same API as ``torch.utils.tensorboard``'s); chainrule tensors are passed to it as
NumPy arrays. Without ``tensorboardX``, creating a writer raises ImportError naming the package
(torch raises at import without ``tensorboard``; here the import always works).
"""
from ..tensor import Tensor

__all__ = ["SummaryWriter"]


def _plain(value):
    """A chainrule tensor (alone or as a dict value, as add_scalars takes) as a NumPy array."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value.detach().numpy() if isinstance(value, Tensor) else value


class SummaryWriter:
    """Writes TensorBoard event files through ``tensorboardX.SummaryWriter`` (same arguments);
    chainrule tensors given to its ``add_*`` methods are converted to NumPy arrays first."""

    def __init__(self, *args, **kwargs):
        try:
            import tensorboardX
        except ImportError as e:
            raise ImportError("chainrule.utils.tensorboard.SummaryWriter needs the tensorboardX "
                              "package (torch-free TensorBoard logging): pip install "
                              "tensorboardX", name="tensorboardX") from e
        self._writer = tensorboardX.SummaryWriter(*args, **kwargs)

    def __getattr__(self, name):
        attr = getattr(self.__dict__["_writer"], name)
        if name.startswith("add_") and callable(attr):
            def call(*args, **kwargs):
                return attr(*[_plain(a) for a in args],
                            **{k: _plain(v) for k, v in kwargs.items()})
            return call
        return attr

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
