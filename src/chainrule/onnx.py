"""``chainrule.onnx``: ONNX export is not implemented; ``export`` says so."""

__all__ = ["export", "is_in_onnx_export"]


def export(model, args=(), f=None, *posargs, **kwargs):
    """Raises NotImplementedError: chainrule cannot export ONNX graphs."""
    raise NotImplementedError("chainrule.onnx.export: chainrule cannot export models to ONNX. "
                              "Save the weights with chainrule.save(model.state_dict(), path) "
                              "(torch.load reads them) and export from PyTorch")


def is_in_onnx_export():
    """False: no export ever runs."""
    return False
