"""chainrule.accelerator answers as PyTorch's does on a machine without an accelerator."""
import pytest

import chainrule as cr


def test_no_accelerator():
    assert cr.accelerator.is_available() is False
    assert cr.accelerator.current_accelerator() is None
    assert cr.accelerator.current_accelerator(check_available=True) is None
    assert cr.accelerator.device_count() == 0


def test_the_usual_device_choice_picks_the_cpu():
    device = cr.accelerator.current_accelerator() if cr.accelerator.is_available() else "cpu"
    assert cr.ones(2, device=device).device == cr.device("cpu")


@pytest.mark.parametrize("name", ["current_device_index", "synchronize", "current_stream"])
def test_what_needs_a_device_raises_as_torch(name):
    with pytest.raises(RuntimeError, match="none is available"):
        getattr(cr.accelerator, name)()


def test_matches_torch():
    torch = pytest.importorskip("torch")
    assert cr.accelerator.is_available() == torch.accelerator.is_available()
    assert cr.accelerator.device_count() == torch.accelerator.device_count()
    with pytest.raises(RuntimeError) as theirs:
        torch.accelerator.current_device_index()
    with pytest.raises(RuntimeError) as ours:
        cr.accelerator.current_device_index()
    assert str(ours.value) == str(theirs.value)
