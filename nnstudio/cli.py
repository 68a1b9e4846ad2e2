"""The ``nnstudio`` command: gui | train | gradcheck | info.

Each subcommand lives in ``nnstudio.commands.<name>`` with ``add_arguments(parser)`` and
``run(args) -> int``. Exit codes: 0 success, 1 a finding (divergence, gradient mismatch),
2 bad input (a message, never a traceback).
"""
from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = {
    "gui": "open the studio window",
    "train": "train a network on a CSV or continue a saved project",
    "gradcheck": "check a network's gradients against centered differences",
    "info": "summarise a saved project",
    "grade": "grade a class's submissions, each in an isolated process",
    "new-layer": "write a commented layer file that passes the gradient check as written",
}
EXIT_BAD_INPUT = 2


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; with ``only``, just that command's module is imported, so a
    command starts without loading the others (and does not depend on them)."""
    parser = argparse.ArgumentParser(prog="nnstudio", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        if only is None or name == only:
            module = importlib.import_module(f"nnstudio.commands.{name.replace('-', '_')}")
            module.add_arguments(command_parser)
            command_parser.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    chosen = next((arg for arg in argv if not arg.startswith("-")), None)
    parser = build_parser(chosen if chosen in COMMANDS else None)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        return int(args.run(args))
    except (ValueError, FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        # DataError and ProjectError are ValueErrors: the user's input was wrong, say so plainly.
        print(f"nnstudio {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"nnstudio {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
