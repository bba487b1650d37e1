"""Entry point of the ``groundup`` command: parses arguments and dispatches to a sub-command.

    groundup train [--model mlp|cnn|lenet5] [--epochs N] ... [--out runs/NAME] [--resume runs/NAME]
    groundup evaluate runs/NAME
    groundup predict runs/NAME FILE.png|FILE.npy|--index I
    groundup info runs/NAME

A user error (a wrong option, a missing run folder, an unreadable image, a damaged checkpoint)
prints one line, ``groundup <command>: error: ...``, to stderr and exits with a non-zero status;
never a traceback.
"""

from __future__ import annotations

import argparse
import sys

import groundup


class _Parser(argparse.ArgumentParser):
    """argparse, with errors on one line (usage is one ``--help`` away)."""

    def error(self, message: str):  # noqa: D102
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from groundup.cli import inspect, train

    parser = _Parser(
        prog="groundup",
        description="groundup: machine learning from the ground up, on NumPy.",
    )
    parser.add_argument("--version", action="version", version=f"groundup {groundup.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    p = commands.add_parser("train", help="train a network on MNIST and write a run folder",
                            description=train.__doc__.split("\n\n")[1] if train.__doc__ else None)
    train.add_arguments(p)
    p.set_defaults(handler=train.run)
    p = commands.add_parser("evaluate", help="accuracy, per-class precision/recall/F1 and the "
                                             "confusion matrix of a run on the test set")
    inspect.add_evaluate_arguments(p)
    p.set_defaults(handler=inspect.evaluate)
    p = commands.add_parser("predict", help="top-3 classes for an image, a .npy array or a test "
                                            "image")
    inspect.add_predict_arguments(p)
    p.set_defaults(handler=inspect.predict)
    p = commands.add_parser("info", help="a run's model summary and training configuration")
    inspect.add_info_arguments(p)
    p.set_defaults(handler=inspect.info)
    return parser


def main(argv: list[str] | None = None) -> int:
    from groundup.cli._setup import CLIError
    from groundup.errors import GroundupError

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    prog = f"groundup {args.command}"
    try:
        return int(args.handler(args) or 0)
    except CLIError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return exc.status
    except (GroundupError, OSError) as exc:
        # Library errors already say what is wrong and how to fix it.
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\n{prog}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
