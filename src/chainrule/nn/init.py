"""Weight initialisation, as torch.nn.init: uniform_, xavier_uniform_, kaiming_uniform_, ..."""

__all__ = []
