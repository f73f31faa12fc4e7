"""The package's layout stays as docs/design.md describes it.

- No module imports another module's private names (``from .x import _NAME``, or ``x._NAME`` on
  an imported chainrule module): what several modules share is public within the package (no
  underscore; in a ``_private.py`` module if it is not public API).  The few exceptions are listed
  in ALLOWED with the reason.
- Imports flow downwards: the core (tensor, graph, engine, the op registry, the public functions,
  creation, dtypes) never imports, at module level, the layers built on it (nn, optim, func, the
  explainer, drawing, the tour, the CLI).
"""
import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "chainrule"

# (importing file, name): why it may import another module's private name
ALLOWED = {
    # PyTorch's own private names, used across its modules the same way (torch.nn.modules.container
    # imports _addindent; Linear and Conv call init._calculate_fan_in_and_fan_out)
    ("nn/modules/container.py", "_addindent"): "PyTorch's name",
    ("nn/modules/conv.py", "_calculate_fan_in_and_fan_out"): "PyTorch's name",
    ("nn/modules/linear.py", "_calculate_fan_in_and_fan_out"): "PyTorch's name",
    # torch.optim.swa_utils imports lr_scheduler's _format_param and batchnorm's _BatchNorm
    ("optim/swa_utils.py", "_BatchNorm"): "PyTorch's name",
    ("optim/swa_utils.py", "_format_param"): "PyTorch's name",
    # torch's _InstanceNorm subclasses batchnorm's _NormBase
    ("nn/modules/instancenorm.py", "_NormBase"): "PyTorch's name",
}

CORE = ("tensor", "graph", "engine", "ops", "_fns", "_tensorf", "_backend", "dtypes", "grad_mode",
        "functional", "creation")
TOP_LAYERS = ("nn", "optim", "func", "explainer", "viz", "stepper", "tour", "cli", "exercises")


def _modules():
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        package = ("chainrule",) + rel.parent.parts
        yield rel.as_posix(), package, ast.parse(path.read_text(), str(path))


def _absolute(package, node):
    """The dotted chainrule module an ImportFrom names (relative imports resolved)."""
    if node.level:
        base = package[:len(package) - node.level + 1]
        return ".".join(base + ((node.module,) if node.module else ()))
    return node.module or ""


def _is_module(dotted):
    path = SRC.parent.joinpath(*dotted.split("."))
    return path.is_dir() or path.with_suffix(".py").exists()


def _private(name):
    return name.startswith("_") and not name.startswith("__")


def _private_imports(rel, package, tree):
    """(line, name) of every private name this module takes from another chainrule module."""
    modules = {}                        # local name -> chainrule module it is bound to
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            source = _absolute(package, node)
            if not source.startswith("chainrule"):
                continue
            for alias in node.names:
                if _is_module(f"{source}.{alias.name}"):
                    modules[alias.asname or alias.name] = f"{source}.{alias.name}"
                elif _private(alias.name):
                    found.append((node.lineno, alias.name))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("chainrule"):
                    modules[alias.asname or alias.name] = alias.name
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and \
                node.value.id in modules and _private(node.attr):
            found.append((node.lineno, node.attr))
    return found


def test_no_module_imports_another_modules_private_names():
    bad = [f"{rel}:{line}: {name}" for rel, package, tree in _modules()
           for line, name in _private_imports(rel, package, tree)
           if (rel, name) not in ALLOWED]
    assert not bad, ("these modules use another module's private names; make the name public "
                     "within the package (drop the underscore, or move it to the module that "
                     "owns the concept):\n" + "\n".join(bad))


def test_the_allowed_list_has_no_stale_entries():
    used = {(rel, name) for rel, package, tree in _modules()
            for _, name in _private_imports(rel, package, tree)}
    stale = sorted(set(ALLOWED) - used)
    assert not stale, f"ALLOWED lists imports that no longer exist; remove them: {stale}"


def test_the_core_does_not_import_the_layers_above_it():
    bad = []
    for rel, package, tree in _modules():
        if rel.split("/")[0].removesuffix(".py") not in CORE:
            continue
        for node in tree.body:          # module level only: a function may import lazily
            if isinstance(node, ast.ImportFrom):
                targets = [_absolute(package, node)]
                targets += [f"{targets[0]}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            for target in targets:
                parts = target.split(".")
                if parts[0] == "chainrule" and len(parts) > 1 and parts[1] in TOP_LAYERS:
                    bad.append(f"{rel}:{node.lineno}: imports {target}")
    assert not bad, "the core imports a layer built on it:\n" + "\n".join(bad)
