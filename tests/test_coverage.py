"""docs/coverage.md is current, and its snapshot of PyTorch's names is PyTorch 2.13's."""
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("coverage_tool", ROOT / "tools" / "coverage.py")
coverage = importlib.util.module_from_spec(spec)
spec.loader.exec_module(coverage)


def test_coverage_table_is_current():
    snap = coverage.load_snapshot()
    want = coverage.render(snap, coverage.classify(snap))
    assert coverage.TABLE.read_text() == want, (
        "docs/coverage.md is stale: run python tools/coverage.py")


def test_snapshot_is_the_installed_torchs_names():
    torch = pytest.importorskip("torch")
    snap = coverage.load_snapshot()
    if torch.__version__.split("+")[0] != snap["torch_version"]:
        pytest.skip(f"the snapshot is of torch {snap['torch_version']}, not {torch.__version__}")
    assert coverage.torch_names() == snap


def test_exclusions_only_name_what_chainrule_lacks():
    # an excluded name that chainrule has counts as present: the table never hides a name
    snap = coverage.load_snapshot()
    table = coverage.classify(snap)
    import chainrule
    for n, status, _ in table["torch"]:
        if status == "excluded":
            assert not hasattr(chainrule, n)
    assert all(r[2] for rows in table.values() for r in rows if r[1] == "excluded")


def test_classify_counts_a_name_chainrule_adds(monkeypatch):
    import chainrule
    snap = {"torch_version": "x", "namespaces": {"torch": ["cudnn_convolution", "abs", "zzz"]}}
    rows = coverage.classify(snap)["torch"]
    assert rows == [("cudnn_convolution", "excluded", rows[0][2]), ("abs", "present", ""),
                    ("zzz", "missing", "")]
    monkeypatch.setattr(chainrule, "zzz", lambda: None, raising=False)
    assert coverage.classify(snap)["torch"][2] == ("zzz", "present", "")
    assert coverage.summary({"torch": rows})["torch"] == (1, 1, 1, 50.0)
# Every name issue #12 lists, by family; outside linalg, special and distributions a name must be
# both a function and a Tensor method wherever torch (the snapshot) has each
ISSUE_12 = {
    "elementwise": "asin acos atan atan2 sinh cosh asinh acosh atanh erf erfc erfinv exp2 log2 log10 "
                   "logaddexp logaddexp2 lerp fmod remainder trunc frac copysign hypot xlogy nan_to_num "
                   "isclose isfinite isinf isnan isneginf isposinf signbit heaviside clamp_min clamp_max "
                   "addcmul addcdiv",
    "special": "expit logit erf erfc erfinv gammaln digamma xlogy log1p i0",
    "reductions": "cumsum cumprod cummax cummin logcumsumexp median nanmedian mode quantile nansum "
                  "nanmean std_mean var_mean count_nonzero aminmax max min all any histc histogram "
                  "bincount",
    "sorting": "sort argsort topk kthvalue unique unique_consecutive searchsorted bucketize msort",
    "indexing": "gather scatter scatter_add scatter_reduce index_select index_add index_copy "
                "index_fill index_put masked_fill masked_select masked_scatter take take_along_dim "
                "nonzero argwhere where select narrow",
    "shape": "tril triu diag diagonal diag_embed trace roll rot90 flip fliplr flipud repeat_interleave "
             "tile unflatten unfold movedim moveaxis swapaxes hstack vstack dstack column_stack "
             "row_stack block_diag cartesian_prod combinations meshgrid atleast_1d atleast_2d "
             "atleast_3d tensor_split hsplit vsplit dsplit broadcast_tensors broadcast_shapes",
    "linalg_top": "einsum tensordot kron cross outer inner addmm addbmm baddbmm addmv cdist dist "
                  "chain_matmul",
    "linalg": "norm vector_norm matrix_norm inv det slogdet solve cholesky qr svd svdvals eigh "
              "eigvalsh lstsq pinv matrix_power matrix_exp multi_dot cross",
    "random": "multinomial bernoulli poisson normal randint_like rand_like randn_like Generator "
              "manual_seed",
    "random_methods": "random_ exponential_ geometric_ cauchy_ log_normal_",
    "distributions": "Normal Categorical Bernoulli Uniform Beta Gamma Dirichlet MultivariateNormal "
                     "Independent TransformedDistribution kl_divergence",
}
def _forms(name):
    """Where chainrule must have ``name``: wherever the snapshot says torch has it."""
    snap = coverage.load_snapshot()["namespaces"]
    return [ns for ns in ("torch", "Tensor") if name in snap[ns]]


@pytest.mark.parametrize("family", sorted(ISSUE_12))
def test_every_name_issue_12_lists_is_there_in_each_form_torch_has(family):
    import chainrule
    names = ISSUE_12[family].split()
    if family == "linalg":
        missing = [n for n in names if not hasattr(chainrule.linalg, n)]
    elif family == "special":
        missing = [n for n in names if not hasattr(chainrule.special, n)]
    elif family == "distributions":
        missing = [n for n in names if not hasattr(chainrule.distributions, n)]
    else:
        missing = [f"{ns}.{n}" for n in names for ns in _forms(n) or ["torch"]
                   if not hasattr(chainrule if ns == "torch" else chainrule.Tensor, n)]
    assert not missing, f"issue #12 lists these and chainrule lacks them: {missing}"


def test_each_namespace_meets_its_target():
    snap = coverage.load_snapshot()
    for ns, (p, m, x, pct) in coverage.summary(coverage.classify(snap)).items():
        target = coverage.NAMESPACES[ns][3]
        if target is not None:
            assert pct >= target, f"{ns}: {pct:.1f}% of its names, the target is {target}%"


def test_the_readme_quotes_the_tables_percentages():
    import re
    text = " ".join((ROOT / "README.md").read_text().split())
    quoted = re.search(r"([\d.]+)% of `torch`'s functions, ([\d.]+)% of `Tensor`'s", text)
    assert quoted, "README no longer quotes the coverage of torch and Tensor"
    s = coverage.summary(coverage.classify(coverage.load_snapshot()))
    assert quoted.groups() == (f"{s['torch'][3]:.1f}", f"{s['Tensor'][3]:.1f}"), \
        "README's coverage figures differ from docs/coverage.md: update them"


# Every name issue #13 lists, by namespace (chainrule's module path: names)
ISSUE_13 = {
    "nn.functional": "silu mish elu selu celu hardswish hardsigmoid hardtanh relu6 softsign "
                     "softshrink hardshrink tanhshrink threshold glu prelu rrelu softmin "
                     "logsigmoid gumbel_softmax pad interpolate upsample normalize "
                     "cosine_similarity pairwise_distance pdist one_hot embedding_bag "
                     "pixel_shuffle pixel_unshuffle fold unfold conv3d conv_transpose3d "
                     "avg_pool3d max_pool3d adaptive_max_pool1d adaptive_max_pool2d "
                     "adaptive_max_pool3d max_unpool1d max_unpool2d max_unpool3d lp_pool1d "
                     "lp_pool2d lp_pool3d local_response_norm instance_norm margin_ranking_loss "
                     "hinge_embedding_loss cosine_embedding_loss triplet_margin_loss "
                     "multilabel_margin_loss multilabel_soft_margin_loss multi_margin_loss "
                     "soft_margin_loss poisson_nll_loss gaussian_nll_loss ctc_loss "
                     "scaled_dot_product_attention dropout1d dropout2d dropout3d",
    "nn": "SiLU Mish ELU SELU CELU Hardswish Hardsigmoid Hardtanh ReLU6 Softsign Softshrink "
          "Hardshrink Tanhshrink Threshold GLU PReLU RReLU Softmin LogSigmoid "
          "ZeroPad1d ZeroPad2d ZeroPad3d ConstantPad1d ConstantPad2d ConstantPad3d "
          "ReflectionPad1d ReflectionPad2d ReflectionPad3d ReplicationPad1d ReplicationPad2d "
          "ReplicationPad3d CircularPad1d CircularPad2d CircularPad3d Upsample EmbeddingBag "
          "PixelShuffle PixelUnshuffle Fold Unfold Conv3d ConvTranspose3d AvgPool3d MaxPool3d "
          "AdaptiveMaxPool1d AdaptiveMaxPool2d AdaptiveMaxPool3d MaxUnpool1d MaxUnpool2d "
          "MaxUnpool3d LPPool1d LPPool2d LPPool3d LocalResponseNorm InstanceNorm1d "
          "InstanceNorm2d InstanceNorm3d MarginRankingLoss HingeEmbeddingLoss "
          "CosineEmbeddingLoss TripletMarginLoss MultiLabelMarginLoss MultiLabelSoftMarginLoss "
          "MultiMarginLoss SoftMarginLoss PoissonNLLLoss GaussianNLLLoss CTCLoss "
          "MultiheadAttention Transformer TransformerEncoder TransformerDecoder "
          "TransformerEncoderLayer TransformerDecoderLayer ParameterList ParameterDict "
          "LazyLinear LazyConv1d LazyConv2d LazyConv3d Softmax2d Identity Dropout1d Dropout2d "
          "Dropout3d",
    "optim": "Adadelta Adamax NAdam RAdam ASGD Rprop LBFGS SparseAdam",
    "optim.lr_scheduler": "LambdaLR MultiplicativeLR StepLR MultiStepLR ConstantLR LinearLR "
                          "ExponentialLR SequentialLR CosineAnnealingLR ChainedScheduler "
                          "ReduceLROnPlateau CyclicLR CosineAnnealingWarmRestarts OneCycleLR "
                          "PolynomialLR LRScheduler",
    "nn.parallel": "DistributedDataParallel DataParallel",
    "distributed": "is_available",
    "backends.cuda": "matmul",
    "backends.cudnn": "enabled benchmark deterministic",
    "backends.mps": "is_available",
    "accelerator": "is_available",
    "cuda.amp": "GradScaler autocast",
    "amp": "GradScaler autocast",
    "onnx": "export",
    "serialization": "add_safe_globals safe_globals get_safe_globals clear_safe_globals",
    "utils.data": "DistributedSampler",
}


@pytest.mark.parametrize("namespace", sorted(ISSUE_13))
def test_every_name_issue_13_lists_is_there(namespace):
    import importlib
    mod = importlib.import_module(f"chainrule.{namespace}")
    missing = [n for n in ISSUE_13[namespace].split() if not hasattr(mod, n)]
    assert not missing, f"issue #13 lists these and chainrule.{namespace} lacks them: {missing}"


def test_the_tensor_device_questions_of_issue_13_answer_false():
    import chainrule
    t = chainrule.ones(2)
    assert (t.is_cuda, t.is_xpu, t.is_mps) == (False, False, False)
