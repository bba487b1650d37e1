"""Entry point of the ``groundup`` command: parses arguments and dispatches to a sub-command."""

from __future__ import annotations

import argparse
import sys

import groundup


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="groundup",
        description="groundup: machine learning from the ground up, on NumPy.",
    )
    parser.add_argument("--version", action="version", version=f"groundup {groundup.__version__}")
    parser.add_subparsers(dest="command", metavar="COMMAND")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
