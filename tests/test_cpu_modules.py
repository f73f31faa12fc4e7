"""The modules real PyTorch scripts import run on a CPU-only machine (issue #13): nn.parallel,
distributed, backends.{cpu,cuda,cudnn,mps}, amp and cuda.amp, utils.tensorboard, onnx, and the
device markers on Tensor; each compared with torch's behaviour when torch is installed."""
import sys
import warnings

import numpy as np
import pytest

import chainrule as cr


def _torch():
    return pytest.importorskip("torch")


# -- imports -----------------------------------------------------------------------------------

def test_the_imports_scripts_write_work():
    import chainrule.backends.cudnn as cudnn
    from chainrule.amp import GradScaler, autocast          # noqa: F401
    from chainrule.cuda.amp import GradScaler as G2, autocast as A2   # noqa: F401
    from chainrule.nn.parallel import DataParallel, DistributedDataParallel  # noqa: F401
    import chainrule.distributed as dist
    import chainrule.onnx                                    # noqa: F401
    assert cudnn is cr.backends.cudnn
    assert dist is cr.distributed
    assert cr.autocast is cr.amp.autocast
    assert cr.cuda.amp.GradScaler is G2
    assert cr.nn.parallel.DataParallel is DataParallel


def test_tensor_device_markers_are_false_as_on_a_cpu_tensor():
    t = cr.ones(2)
    names = ["is_cuda", "is_xpu", "is_mps", "is_mkldnn", "is_vulkan", "is_ipu", "is_mtia",
             "is_maia"]
    assert [getattr(t, n) for n in names] == [False] * len(names)
    assert t.is_cpu is True


def test_tensor_device_markers_match_torch():
    torch = _torch()
    t, c = torch.ones(2), cr.ones(2)
    for n in ["is_cuda", "is_xpu", "is_mps", "is_mkldnn", "is_vulkan", "is_ipu", "is_mtia",
              "is_maia", "is_cpu"]:
        assert getattr(c, n) == getattr(t, n), n


# -- backends ----------------------------------------------------------------------------------

def test_backend_flags_round_trip():
    import chainrule.backends.cudnn as cudnn
    saved = (cudnn.enabled, cudnn.benchmark, cudnn.deterministic, cudnn.allow_tf32)
    try:
        cudnn.enabled, cudnn.benchmark, cudnn.deterministic, cudnn.allow_tf32 = \
            False, True, True, False
        assert (cr.backends.cudnn.enabled, cr.backends.cudnn.benchmark,
                cr.backends.cudnn.deterministic, cr.backends.cudnn.allow_tf32) == \
            (False, True, True, False)
    finally:
        cudnn.enabled, cudnn.benchmark, cudnn.deterministic, cudnn.allow_tf32 = saved
    m = cr.backends.cuda.matmul
    before = m.allow_tf32
    m.allow_tf32 = True
    assert cr.backends.cuda.matmul.allow_tf32 is True
    m.allow_tf32 = before
    cr.backends.cuda.enable_flash_sdp(False)
    assert cr.backends.cuda.flash_sdp_enabled() is False
    cr.backends.cuda.enable_flash_sdp(True)
    assert cr.backends.cuda.flash_sdp_enabled() is True


def test_backend_queries():
    assert cr.backends.cudnn.is_available() is False
    assert cr.backends.cudnn.version() is None
    assert cr.backends.mps.is_available() is False
    assert cr.backends.mps.is_built() is False
    assert cr.backends.cuda.is_built() is False
    assert isinstance(cr.backends.cpu.get_cpu_capability(), str)


def test_backend_defaults_match_torch_on_this_cpu():
    torch = _torch()
    tb, cb = torch.backends, cr.backends
    for name in ["enabled", "benchmark", "deterministic", "allow_tf32", "benchmark_limit"]:
        assert getattr(cb.cudnn, name) == getattr(tb.cudnn, name), name
    assert cb.cudnn.is_available() == tb.cudnn.is_available()
    assert cb.cudnn.version() == tb.cudnn.version()
    assert cb.mps.is_available() == tb.mps.is_available()
    assert cb.mps.is_built() == tb.mps.is_built()
    assert cb.cuda.is_built() == tb.cuda.is_built()
    for name in ["allow_tf32", "allow_fp16_reduced_precision_reduction",
                 "allow_bf16_reduced_precision_reduction"]:
        assert getattr(cb.cuda.matmul, name) == getattr(tb.cuda.matmul, name), name
    for name in ["flash_sdp_enabled", "mem_efficient_sdp_enabled", "math_sdp_enabled",
                 "cudnn_sdp_enabled"]:
        assert getattr(cb.cuda, name)() == getattr(tb.cuda, name)(), name


# -- distributed and nn.parallel ---------------------------------------------------------------

def test_distributed_reports_no_backend():
    d = cr.distributed
    assert d.is_available() is False
    assert d.is_initialized() is False
    for name in ["init_process_group", "get_rank", "get_world_size", "barrier", "all_reduce"]:
        with pytest.raises(RuntimeError, match="no distributed backend"):
            getattr(d, name)()
    with pytest.raises(RuntimeError, match=r"init_process_group.*no distributed backend"):
        d.init_process_group("gloo")


def test_data_parallel_wraps_and_calls_like_torch_without_gpus():
    cr.manual_seed(0)
    lin = cr.nn.Linear(3, 2)
    dp = cr.nn.parallel.DataParallel(lin)
    assert dp.module is lin and dp.device_ids == []
    x = cr.randn(4, 3)
    assert np.array_equal(dp(x).detach().numpy(), lin(x).detach().numpy())
    assert list(dp.state_dict()) == ["module.weight", "module.bias"]
    assert len(list(dp.parameters())) == 2
    y = cr.nn.parallel.data_parallel(lin, x)
    assert np.array_equal(y.detach().numpy(), lin(x).detach().numpy())


def test_data_parallel_matches_torch():
    torch = _torch()
    t = torch.nn.DataParallel(torch.nn.Linear(3, 2))
    c = cr.nn.parallel.DataParallel(cr.nn.Linear(3, 2))
    assert list(c.state_dict()) == list(t.state_dict())
    assert c.device_ids == t.device_ids
    assert repr(c) == repr(t)


def test_distributed_data_parallel_refuses():
    with pytest.raises(RuntimeError, match="chainrule has no distributed backend"):
        cr.nn.parallel.DistributedDataParallel(cr.nn.Linear(2, 2))


# -- onnx --------------------------------------------------------------------------------------

def test_onnx_export_is_not_implemented():
    with pytest.raises(NotImplementedError, match="cannot export models to ONNX"):
        cr.onnx.export(cr.nn.Linear(2, 2), (cr.ones(1, 2),), "model.onnx")
    assert cr.onnx.is_in_onnx_export() is False


# -- amp ---------------------------------------------------------------------------------------

def _train(scaler, steps=5, lr=0.1):
    cr.manual_seed(0)
    model = cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.Tanh(), cr.nn.Linear(8, 1))
    opt = cr.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    rng = np.random.default_rng(1)
    x = cr.tensor(rng.standard_normal((16, 4)), dtype=cr.float32)
    y = cr.tensor(rng.standard_normal((16, 1)), dtype=cr.float32)
    for _ in range(steps):
        opt.zero_grad()
        with cr.autocast(device_type="cpu"):
            loss = cr.nn.functional.mse_loss(model(x), y)
        assert loss.dtype == cr.float32
        if scaler is None:
            loss.backward()
            opt.step()
        else:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
    return [p.detach().numpy().copy() for p in model.parameters()]


def test_disabled_grad_scaler_changes_nothing():
    s = cr.amp.GradScaler(enabled=False)
    loss = cr.tensor(2.0)
    assert s.scale(loss) is loss
    assert s.is_enabled() is False and s.get_scale() == 1.0 and s.state_dict() == {}
    for a, b in zip(_train(None), _train(s)):
        assert np.array_equal(a, b)


def test_cuda_grad_scaler_warns_and_disables_as_torch_does_without_cuda():
    with pytest.warns(UserWarning, match="GradScaler is enabled, but CUDA is not available.  "
                                         "Disabling."):
        s = cr.amp.GradScaler()
    assert s.is_enabled() is False
    for a, b in zip(_train(None), _train(s)):
        assert np.array_equal(a, b)
    with pytest.warns(UserWarning, match="CUDA is not available.  Disabling"), \
            pytest.warns(FutureWarning, match=r"torch.cuda.amp.GradScaler\(args...\)` is "
                                              "deprecated"):
        s2 = cr.cuda.amp.GradScaler()
    assert s2.is_enabled() is False


def test_cpu_grad_scaler_scales_and_trains_to_the_same_parameters():
    s = cr.amp.GradScaler("cpu")
    assert s.is_enabled() and s.get_scale() == 65536.0
    assert s.scale(cr.tensor(2.0)).item() == 131072.0
    s = cr.amp.GradScaler("cpu", growth_interval=2)
    got = _train(s)
    for a, b in zip(_train(None), got):     # power-of-two scales: unscaling is exact
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert s.get_scale() == 65536.0 * 4     # 5 clean steps, growth every 2
    assert s.state_dict() == {"scale": 262144.0, "growth_factor": 2.0, "backoff_factor": 0.5,
                              "growth_interval": 2, "_growth_tracker": 1}


def test_cpu_grad_scaler_skips_steps_with_inf_and_backs_off():
    s = cr.amp.GradScaler("cpu")
    w = cr.nn.Parameter(cr.tensor([1.0, 2.0]))
    opt = cr.optim.SGD([w], lr=0.1)
    s.scale((w * cr.tensor([float("inf"), 1.0])).sum()).backward()
    assert s.step(opt) is None
    assert w.detach().numpy().tolist() == [1.0, 2.0]
    s.update()
    assert s.get_scale() == 32768.0
    opt.zero_grad()
    s.scale(w.sum()).backward()
    s.unscale_(opt)
    assert w.grad.numpy().tolist() == [1.0, 1.0]
    with pytest.raises(RuntimeError, match="unscale_\\(\\) has already been called"):
        s.unscale_(opt)
    s.step(opt)
    s.update()
    np.testing.assert_allclose(w.detach().numpy(), [0.9, 1.9])


def test_grad_scaler_state_dict_round_trip_and_errors():
    a = cr.amp.GradScaler("cpu", init_scale=8.0, growth_interval=7)
    b = cr.amp.GradScaler("cpu")
    b.load_state_dict(a.state_dict())
    assert b.state_dict() == a.state_dict()
    with pytest.raises(RuntimeError, match="source state dict is empty"):
        b.load_state_dict({})
    with pytest.raises(RuntimeError, match="Closure use is not currently supported"):
        b.step(cr.optim.SGD([cr.nn.Parameter(cr.ones(1))], lr=1.0), closure=lambda: 0)


def test_grad_scaler_matches_torch():
    torch = _torch()
    for kwargs in [{}, {"init_scale": 8.0, "growth_interval": 3}]:
        t, c = torch.amp.GradScaler("cpu", **kwargs), cr.amp.GradScaler("cpu", **kwargs)
        assert c.state_dict() == t.state_dict()
        assert c.get_scale() == t.get_scale()
    with warnings.catch_warnings(record=True) as tw:
        warnings.simplefilter("always")
        torch.amp.GradScaler()
    with warnings.catch_warnings(record=True) as cw:
        warnings.simplefilter("always")
        cr.amp.GradScaler()
    assert [str(w.message) for w in cw] == [str(w.message) for w in tw]
    # the same training loop, scaled on the CPU, gives torch's scale schedule
    tw = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    cwp = cr.nn.Parameter(cr.tensor([1.0, 2.0]))
    ts, cs = torch.amp.GradScaler("cpu"), cr.amp.GradScaler("cpu")
    to, co = torch.optim.SGD([tw], lr=0.1), cr.optim.SGD([cwp], lr=0.1)
    for k in [float("inf"), 1.0, float("nan"), 3.0]:
        for m, p, s, o in [(torch, tw, ts, to), (cr, cwp, cs, co)]:
            o.zero_grad()
            s.scale((p * m.tensor([k, 1.0])).sum()).backward()
            s.step(o)
            s.update()
        assert cs.get_scale() == ts.get_scale()
        np.testing.assert_allclose(cwp.detach().numpy(), tw.detach().numpy(), rtol=1e-6)


def test_autocast_changes_nothing_on_the_cpu():
    x = cr.randn(3, 3)
    with cr.autocast(device_type="cpu"):
        y = x @ x
    assert y.dtype == cr.float32
    assert np.array_equal(y.numpy(), (x @ x).numpy())
    with cr.amp.autocast("cpu", dtype=cr.float16):
        assert (x @ x).dtype == cr.float32        # documented: no float16 kernels

    @cr.autocast("cpu")
    def f(a):
        return a * 2
    assert f(x).dtype == cr.float32
    assert cr.amp.custom_fwd(device_type="cpu")(f) is f


def test_autocast_warnings_and_errors_as_torch():
    with pytest.warns(UserWarning, match="CUDA is not available .* Disabling autocast"):
        with cr.autocast("cuda"):
            pass
    with pytest.warns(UserWarning, match="Disabling autocast"), \
            pytest.warns(FutureWarning, match="cuda.amp.autocast"):
        cr.cuda.amp.autocast()
    with pytest.warns(UserWarning, match="target dtype is not supported"):
        cr.autocast("cpu", dtype=cr.float64)
    with pytest.raises(ValueError, match="Expected `device_type` of type `str`"):
        cr.autocast(0)
    with pytest.raises(RuntimeError, match="unsupported autocast device_type 'tpu'"):
        cr.autocast("tpu")


def test_autocast_warnings_match_torch():
    torch = _torch()
    cases = [lambda m: m.autocast("cuda"), lambda m: m.autocast("cpu", dtype=m.float64),
             lambda m: m.cuda.amp.autocast(), lambda m: m.autocast("cpu")]
    for case in cases:
        got = []
        for m in (torch, cr):
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                case(m)
            got.append([(x.category, str(x.message)) for x in w])
        assert got[0] == got[1]
    for m in (torch, cr):
        with pytest.raises(ValueError, match="Expected `device_type` of type `str`"):
            m.autocast(0)


# -- utils.tensorboard -------------------------------------------------------------------------

def test_tensorboard_without_tensorboardx_names_the_package(monkeypatch, tmp_path):
    from chainrule.utils.tensorboard import SummaryWriter
    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    with pytest.raises(ImportError, match="needs the tensorboardX package") as info:
        SummaryWriter(log_dir=str(tmp_path))
    assert info.value.name == "tensorboardX"


def test_tensorboard_writer_with_tensorboardx(tmp_path):
    pytest.importorskip("tensorboardX")
    from chainrule.utils.tensorboard import SummaryWriter
    w = SummaryWriter(log_dir=str(tmp_path))
    w.add_scalar("loss", cr.tensor(1.5), 0)
    w.add_scalars("parts", {"a": cr.tensor(1.0), "b": 2.0}, 0)
    w.add_histogram("weights", cr.randn(10), 0)
    w.close()
    assert any(tmp_path.iterdir())


def test_data_parallel_is_reachable_from_nn_as_in_torch():
    import chainrule as cr
    assert cr.nn.DataParallel is cr.nn.parallel.DataParallel
