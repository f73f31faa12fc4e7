"""The coverage table, ``docs/coverage.md``: which of PyTorch's public names chainrule has.

    python tools/coverage.py            # rewrite docs/coverage.md
    python tools/coverage.py --check    # exit 1 if docs/coverage.md is stale
    python tools/coverage.py --snapshot # re-read torch's namespaces (needs torch) into
                                        # tools/torch_names.json

PyTorch's names come from ``tools/torch_names.json``, a snapshot of PyTorch 2.13's namespaces, so
that the table (and the test that keeps it current, tests/test_coverage.py) needs no torch; where
torch is installed, that test also checks the snapshot against it.  A name is *present* when
chainrule has it in the same namespace, *excluded* when it matches one of ``EXCLUDED`` below (each
with its reason) and chainrule lacks it, and *missing* otherwise.  The percentage is present out
of present + missing: excluded names don't count either way.
"""
import argparse
import importlib
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = ROOT / "tools" / "torch_names.json"
TABLE = ROOT / "docs" / "coverage.md"

# namespace: (how torch's names are read, chainrule's module path, attribute, target %)
# "functions": public callables that are not classes (torch's top level also holds dtypes,
# classes and submodules); "attributes": every public attribute; "api": public functions,
# classes and the namespace's own submodules (not the docstring fragments some modules keep).
NAMESPACES = {
    "torch": ("functions", "chainrule", None, 90),
    "Tensor": ("attributes", "chainrule", "Tensor", 90),
    "linalg": ("api", "chainrule.linalg", None, 90),
    "special": ("api", "chainrule.special", None, 90),
    "distributions": ("api", "chainrule.distributions", None, 90),
    # part 2 of the catalogue (issue #13)
    "nn": ("api", "chainrule.nn", None, 90),
    "nn.functional": ("api", "chainrule.nn.functional", None, 90),
    "optim": ("api", "chainrule.optim", None, 90),
    "optim.lr_scheduler": ("api", "chainrule.optim.lr_scheduler", None, 90),
    "utils.data": ("api", "chainrule.utils.data", None, 90),
}

# What chainrule leaves out on purpose, and why: (pattern, reason).  A pattern is a regular
# expression matched against the whole name, in any namespace ("Tensor." or "linalg." in front
# limits it to one).  Only names chainrule lacks are excluded: what it has counts as present.
EXCLUDED = [
    (r"(Tensor\.)?(quantize\w*|quantized_\w+|q_\w+|int_repr|dequantize|fake_quantize\w*|"
     r"choose_qparams\w*|fused_moving_avg_obs_fake_quant|empty_quantized|qscheme|is_quantized)",
     "quantization: integer-quantized tensors and their kernels"),
    (r"(Tensor\.)?(sparse_\w+|to_sparse\w*|spmm|hspmm|dsmm|smm|sspaddmm|saddmm|coalesce|"
     r"is_coalesced|dense_dim|(c?col|crow|row)_indices(_copy)?|indices(_copy)?|values(_copy)?|"
     r"is_sparse\w*)",
     "sparse layouts: chainrule's tensors are dense NumPy arrays"),
    (r"(Tensor\.)?(complex|polar|view_as_complex(_copy)?|view_as_real(_copy)?|cfloat|cdouble|"
     r"chalf)|linalg\.(eig|eigvals)",
     "complex numbers: chainrule refuses complex values (their gradients need Wirtinger calculus)"),
    (r"(Tensor\.)?(cudnn_\w+|miopen_\w+|mkldnn_\w+|fbgemm_\w+|to_mkldnn|is_mkldnn|is_vulkan\w*|"
     r"is_xla|is_ipu|is_maia|is_mtia|is_mps|is_xpu|is_meta|ipu|mtia|xpu|record_stream|"
     r"profiler_allow_cudagraph_cupti_lazy_reinit_cuda12|(get_|set_|is_|clear_)?autocast\w*)",
     "accelerator-only: CUDA/ROCm/oneDNN/Vulkan kernels, devices and mixed-precision autocast"),
    (r"batch_norm_(backward_\w+|gather_stats\w*|elemt|stats|update_stats)",
     "distributed internals: SyncBatchNorm's per-process kernels"),
    (r"fork|wait|parse_ir|parse_schema|parse_type_comment|import_ir_module\w*|"
     r"merge_type_from_type_comment|unify_type_list|sym_\w+|compiled_with_cxx11_abi|classproperty",
     "TorchScript and torch.compile internals (symbolic shapes, IR parsing, futures)"),
    (r"native_\w+",
     "ATen's internal kernels, reached through the public op of the same name"),
    (r"(Tensor\.)?(is_nested|to_padded_tensor)", "nested (ragged) tensors"),
    (r"(Tensor\.)?bfloat16", "bfloat16: NumPy has no such dtype"),
    (r"nn\.(intrinsic|qat|quantizable|quantized)",
     "quantization: integer-quantized tensors and their kernels"),
    (r"nn\.SyncBatchNorm", "distributed internals: SyncBatchNorm's per-process kernels"),
    (r"nn\.functional\.(scaled_mm|scaled_grouped_mm|grouped_mm|ScalingType|SwizzleType)",
     "accelerator-only: bfloat16/float8 GEMM kernels for CUDA (grouped and scaled matmuls)"),
    (r"utils\.data\.(DFIterDataPipe|DataChunk|IterDataPipe|MapDataPipe|datapipes|"
     r"functional_datapipe|argument_validation|runtime_validation(_disabled)?|graph|"
     r"graph_settings|guaranteed_datapipes_determinism|non_deterministic)",
     "DataPipes: deprecated by PyTorch (moved to torchdata, which has dropped them)"),
]


def torch_names():
    """PyTorch's public names per namespace, read from the installed torch."""
    import inspect
    import types

    import torch
    out = {}
    for ns, (how, _, _, _) in NAMESPACES.items():
        mod = torch.Tensor if ns == "Tensor" else importlib.import_module(
            "torch" if ns == "torch" else f"torch.{ns}")
        names = []
        for n in dir(mod):
            if n.startswith("_"):
                continue
            obj = getattr(mod, n)
            if how == "functions":
                keep = callable(obj) and not inspect.isclass(obj)
            elif how == "attributes":
                keep = True
            elif isinstance(obj, types.ModuleType):
                keep = obj.__name__.startswith(mod.__name__ + ".")
            else:
                keep = callable(obj) and _api(obj, mod.__name__)
            if keep:
                names.append(n)
        out[ns] = sorted(names)
    return {"torch_version": torch.__version__.split("+")[0], "namespaces": out}


def _api(obj, namespace):
    """Whether a callable in a namespace is its API, not a name it imported for itself (typing
    names, ``Tensor``, torch-function dispatch helpers, TorchScript's internals)."""
    import inspect
    where = getattr(obj, "__module__", None) or ""
    if where.startswith(namespace) or where.startswith("torch._C._"):
        return True          # defined there, or its compiled kernels (torch._C._linalg, ...)
    if inspect.isclass(obj):
        return issubclass(obj, Exception) and where.startswith("torch")   # LinAlgError
    return where == "torch"  # torch's own functions the namespace re-exports (F.conv2d)


def _excluded(ns, name):
    qualified = f"{ns}.{name}"
    for pattern, reason in EXCLUDED:
        if re.fullmatch(pattern, name) and not pattern.startswith(("Tensor", "linalg")):
            return reason
        if re.fullmatch(pattern, qualified) or (ns == "torch" and re.fullmatch(pattern, name)):
            return reason
    return None


def _chainrule_namespace(ns):
    _, module, attr, _ = NAMESPACES[ns]
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    return getattr(mod, attr) if attr else mod


def classify(snapshot):
    """{namespace: [(name, status, reason)]}: status is present, missing or excluded."""
    sys.path.insert(0, str(ROOT / "src"))
    table = {}
    for ns, names in snapshot["namespaces"].items():
        mine = _chainrule_namespace(ns)
        rows = []
        for n in names:
            if mine is not None and hasattr(mine, n):
                rows.append((n, "present", ""))
            else:
                reason = _excluded(ns, n)
                rows.append((n, "excluded", reason) if reason else (n, "missing", ""))
        table[ns] = rows
    return table


def summary(table):
    """{namespace: (present, missing, excluded, percent)}."""
    out = {}
    for ns, rows in table.items():
        p = sum(r[1] == "present" for r in rows)
        m = sum(r[1] == "missing" for r in rows)
        x = sum(r[1] == "excluded" for r in rows)
        out[ns] = (p, m, x, 100.0 * p / (p + m) if p + m else 100.0)
    return out


def render(snapshot, table):
    s = summary(table)
    lines = [
        "# Coverage of PyTorch's namespaces",
        "",
        f"Made by `python tools/coverage.py` from PyTorch {snapshot['torch_version']}'s public "
        "names (`tools/torch_names.json`); `tests/test_coverage.py` fails when this page is "
        "stale. *Present*: chainrule has the name in the same namespace. *Excluded*: left out on "
        "purpose, for the reason given. The percentage is present / (present + missing).",
        "",
        "| namespace | present | missing | excluded | coverage | target |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for ns, (p, m, x, pct) in s.items():
        target = NAMESPACES[ns][3]
        lines.append(f"| `{ns}` | {p} | {m} | {x} | {pct:.1f}% | "
                     f"{'' if target is None else f'{target}%'} |")
    lines += ["", "## Excluded, and why", ""]
    for reason in dict.fromkeys(reason for _, reason in EXCLUDED):   # each reason once
        lines.append(f"- {reason}")
    for ns, rows in table.items():
        lines += ["", f"## `{ns}`", ""]
        for status in ("missing", "excluded", "present"):
            names = [r for r in rows if r[1] == status]
            if not names:
                continue
            if status == "excluded":
                lines.append(f"**excluded ({len(names)})**:")
                lines.append("")
                by_reason = {}
                for n, _, reason in names:
                    by_reason.setdefault(reason, []).append(n)
                for reason, ns_names in by_reason.items():
                    lines.append(f"- {reason.split(':')[0]}: "
                                 + ", ".join(f"`{n}`" for n in ns_names))
            else:
                lines.append(f"**{status} ({len(names)})**: "
                             + ", ".join(f"`{n}`" for n, _, _ in names))
            lines.append("")
        if lines[-1] == "":
            lines.pop()
    return "\n".join(lines) + "\n"


def load_snapshot():
    return json.loads(SNAPSHOT.read_text())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if docs/coverage.md is stale")
    ap.add_argument("--snapshot", action="store_true",
                    help="re-read torch's namespaces into tools/torch_names.json (needs torch)")
    args = ap.parse_args(argv)
    if args.snapshot:
        SNAPSHOT.write_text(json.dumps(torch_names(), indent=1) + "\n")
    snap = load_snapshot()
    text = render(snap, classify(snap))
    if args.check:
        if not TABLE.exists() or TABLE.read_text() != text:
            print("docs/coverage.md is stale: run python tools/coverage.py")
            return 1
        return 0
    TABLE.write_text(text)
    for ns, (p, m, x, pct) in summary(classify(snap)).items():
        print(f"{ns:20} {p:4} present {m:4} missing {x:4} excluded  {pct:5.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
