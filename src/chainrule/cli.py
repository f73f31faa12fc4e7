"""The ``chainrule`` command (also ``python -m chainrule``).

- ``chainrule tour``: the back-propagation lecture, worked step by step in the terminal
  (``--html DIR``: plus a web page per graph that steps through its back-propagation);
- ``chainrule train <example>``: train one of the example models, watching its loss;
- ``chainrule check-engine <file.py>``: check a back-propagation engine you wrote (Exercise 4.3).
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


def _examples_text():
    return ", ".join(sorted(TRAIN_EXAMPLES))


def main(argv=None):
    """Run the command; returns the exit status (0, 1 when a run failed, 2 for a usage error,
    130 when stopped by Ctrl-C).  Every error is one line on stderr, never a traceback."""
    from .utils.training import ArgumentParser
    parser = ArgumentParser(prog="chainrule", description="chainrule: autograd you can read.")
    sub = parser.add_subparsers(dest="command", parser_class=ArgumentParser)
    tour = sub.add_parser("tour", help="walk through the back-propagation lecture")
    tour.add_argument("--out", default="chainrule-tour",
                      help="folder for the drawings (default: chainrule-tour/)")
    tour.add_argument("--no-pause", action="store_true", help="run straight through")
    tour.add_argument("--html", metavar="DIR", default=None,
                      help="also write, for each graph, a web page that steps through its "
                      "back-propagation (open it in a browser)")
    train = sub.add_parser("train", help="train an example model, showing its progress",
                           usage="chainrule train EXAMPLE [options]",
                           description="Train an example model. EXAMPLE is one of: "
                           f"{_examples_text()}. Options after its name go to the example: "
                           "chainrule train digits-mlp --help.")
    train.add_argument("example", nargs="?", metavar="EXAMPLE")
    train.add_argument("options", nargs=argparse.REMAINDER,
                       help="the example's own options (--epochs, --seed, --plot FILE, ...)")
    check = sub.add_parser("check-engine", help="check a back-propagation engine you wrote "
                           "(Exercise 4.3) against chainrule",
                           usage="chainrule check-engine PATH [--grad NAME] [--backward NAME]",
                           description="Check the engine in PATH, a .py file: its make_value "
                           "function, or else the first class it defines with a backward method. "
                           "Exit status 0 when every check is right, 1 otherwise.")
    check.add_argument("path", nargs="?", metavar="PATH",
                       help="the .py file that defines your value class (or make_value)")
    check.add_argument("--grad", default="grad", metavar="NAME",
                       help="the attribute holding a value's gradient (default: grad)")
    check.add_argument("--backward", default="backward", metavar="NAME",
                       help="the method that runs back-propagation (default: backward)")
    args = parser.parse_args(argv)
    if args.command == "check-engine":
        return _check_engine(check, args)
    if args.command == "tour":
        return _tour(tour, args)
    if args.command == "train":
        return _train(train, args)
    parser.fail("say what to run: chainrule tour (the lecture, step by step), chainrule train "
                f"EXAMPLE (one of {_examples_text()}) or chainrule check-engine PATH")


def _tour(parser, args):
    from ._files import check_writable_folder
    try:        # before anything is printed: a tour that can't save its drawings stops here
        check_writable_folder(args.out, "the tour's drawings")
    except OSError as e:
        parser.fail(f"--out: {e.strerror}; pass --out with a folder you can write to")
    if args.html is not None:
        try:
            check_writable_folder(args.html, "the tour's web pages")
        except OSError as e:
            parser.fail(f"--html: {e.strerror}; pass --html with a folder you can write to")
    from . import tour as tour_module
    try:
        tour_module.run(args.out, pause=not args.no_pause, html_dir=args.html)
    except KeyboardInterrupt:
        print("\nchainrule tour: stopped (Ctrl-C). Run it again to start over; --no-pause runs "
              "straight through.", file=sys.stderr)
        return 130
    return 0


def _check_engine(parser, args):
    from .exercises import check_engine, load_engine
    if args.path is None:
        parser.fail("which file? Type chainrule check-engine PATH, PATH the .py file that defines "
                    "your value class (or a make_value function)")
    try:
        make_value = load_engine(args.path, backward=args.backward)
    except (OSError, ImportError) as e:
        parser.fail(str(e))
    except LookupError as e:
        parser.fail(f"{e}, or pass --backward NAME if your method has another name")
    try:
        report = check_engine(make_value, grad=args.grad, backward=args.backward)
    except (AttributeError, TypeError) as e:
        message = str(e).removeprefix("check_engine: ")
        message = message.replace("pass grad='name'", "pass --grad NAME")
        parser.fail(message.replace("pass backward='name'", "pass --backward NAME"))
    print(report)
    return 0 if report else 1


def _train(parser, args):
    if args.example is None or args.example.startswith("-"):
        if args.example in ("-h", "--help"):
            parser.print_help()
            return 0
        parser.fail(f"which example? Type chainrule train EXAMPLE, with EXAMPLE one of "
                    f"{_examples_text()} (e.g. chainrule train moons)")
    if args.example not in TRAIN_EXAMPLES:
        parser.fail(f"no example named {args.example!r}: type chainrule train EXAMPLE with "
                    f"EXAMPLE one of {_examples_text()}")
    prog = f"chainrule train {args.example}"
    example = load_example(TRAIN_EXAMPLES[args.example])
    try:
        example.main(args.options, prog=prog)
    except ImportError as e:        # an optional dependency: say which, without a traceback
        print(f"{prog}: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\n{prog}: stopped (Ctrl-C).", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
