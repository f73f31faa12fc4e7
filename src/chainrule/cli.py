"""The ``chainrule`` command (also ``python -m chainrule``).

- ``chainrule tour``: the back-propagation lecture, worked step by step in the terminal;
- ``chainrule train <example>``: train one of the example models, watching its loss.
"""
import argparse
import importlib
import importlib.util
import pathlib
import sys

# subcommand → module in examples/ (installed as chainrule.examples)
TRAIN_EXAMPLES = {
    "digits-mlp": "digits_mlp",
    "digits-cnn": "digits_cnn",
    "diabetes-linear": "diabetes_linear",
    "breast-cancer-logistic": "breast_cancer_logistic",
    "moons": "moons",
}


def example_path(module_name):
    """The file ``examples/<module_name>.py``: installed as ``chainrule.examples``, or in the
    source checkout when chainrule runs from ``src/`` without being installed."""
    try:
        spec = importlib.util.find_spec(f"chainrule.examples.{module_name}")
    except ModuleNotFoundError as e:
        if e.name != "chainrule.examples":
            raise
        spec = None
    if spec is not None:
        return pathlib.Path(spec.origin)
    path = pathlib.Path(__file__).resolve().parents[2] / "examples" / f"{module_name}.py"
    if not path.exists():
        raise ModuleNotFoundError(f"the example {module_name!r} is neither installed (as "
                                  f"chainrule.examples) nor at {path}")
    return path


def load_example(module_name):
    """The example module ``examples/<module_name>.py``, imported (its ``main`` not run)."""
    spec = importlib.util.spec_from_file_location(f"chainrule_example_{module_name}",
                                                  example_path(module_name))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv=None):
    parser = argparse.ArgumentParser(prog="chainrule",
                                     description="chainrule: autograd you can read.")
    sub = parser.add_subparsers(dest="command")
    tour = sub.add_parser("tour", help="walk through the back-propagation lecture")
    tour.add_argument("--out", default="chainrule-tour",
                      help="folder for the drawings (default: chainrule-tour/)")
    tour.add_argument("--no-pause", action="store_true", help="run straight through")
    train = sub.add_parser("train", help="train an example model, showing its progress",
                           description="Train an example model. Options after the example's "
                           "name go to the example: chainrule train digits-mlp --help.")
    train.add_argument("example", choices=sorted(TRAIN_EXAMPLES))
    train.add_argument("options", nargs=argparse.REMAINDER,
                       help="the example's own options (--epochs, --seed, --plot FILE, ...)")
    args = parser.parse_args(argv)
    if args.command == "tour":
        from . import tour as tour_module
        tour_module.run(args.out, pause=not args.no_pause)
        return 0
    if args.command == "train":
        example = load_example(TRAIN_EXAMPLES[args.example])
        try:
            example.main(args.options)
        except ImportError as e:        # an optional dependency: say which, without a traceback
            print(f"chainrule train {args.example}: {e}", file=sys.stderr)
            return 1
        return 0
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
