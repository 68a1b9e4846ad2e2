"""The ``nnstudio`` command: gui | train | gradcheck | info.

Each subcommand lives in ``nnstudio.commands.<name>`` with ``add_arguments(parser)`` and
``run(args) -> int``. Exit codes (see :data:`EXIT_CODES`): 0 success, 1 a finding
(divergence, gradient mismatch), 2 bad input (one line naming the file and the problem,
never a traceback), 3 an internal error (a bug: a one-line summary, and the full trace
written to a file whose path is printed), 130 interrupted.
"""
from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
import traceback

COMMANDS = {
    "gui": "open the studio window",
    "train": "train a network on a CSV or continue a saved project",
    "gradcheck": "check a network's gradients against centered differences",
    "info": "summarise a saved project",
    "grade": "grade a class's submissions, each in an isolated process",
    "new-layer": "write a commented layer file that passes the gradient check as written",
}
EXIT_OK, EXIT_FINDING, EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_CODES = """\
exit codes:
  0    success
  1    a finding: training diverged, or a gradient check found a mismatch
  2    bad input: a file, value or option that cannot be used (one line names it and why)
  3    internal error: a bug in NN Studio; the full trace is written to a file it names
  130  interrupted (Ctrl+C)"""


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; with ``only``, just that command's module is imported, so a
    command starts without loading the others (and does not depend on them)."""
    parser = argparse.ArgumentParser(prog="nnstudio", description=__doc__.splitlines()[0],
                                     epilog=EXIT_CODES,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        command_parser = sub.add_parser(name, help=help_text, description=help_text,
                                        epilog=EXIT_CODES,
                                        formatter_class=argparse.RawDescriptionHelpFormatter)
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
    except KeyboardInterrupt:
        print(f"nnstudio {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (ValueError, OSError, MemoryError, RecursionError) as exc:
        # DataError, ProjectError and UserCodeError are ValueErrors: the input was wrong.
        print(f"nnstudio {args.command}: error: {bad_input_text(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as exc:  # noqa: BLE001 - our bug: say so, keep the trace, exit 3
        print(f"nnstudio {args.command}: internal error: {one_line(exc)} "
              f"(a bug in NN Studio; full trace in {write_trace(exc, argv)})", file=sys.stderr)
        return EXIT_INTERNAL


def one_line(exc: BaseException) -> str:
    """``Type: message`` on one line, shortened."""
    text = " ".join(str(exc).split())
    text = text if len(text) <= 300 else text[:297] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def bad_input_text(exc: BaseException) -> str:
    """One line naming the file (where the error knows it) and the problem."""
    if isinstance(exc, MemoryError):
        return "not enough memory: the data or the network is too large for this machine"
    if isinstance(exc, RecursionError):
        return "the input is nested too deeply to be read"
    if isinstance(exc, OSError) and not isinstance(exc, ValueError):
        from nnstudio.data.filecheck import os_error_text

        names = [str(name) for name in (exc.filename, exc.filename2) if name is not None]
        text = os_error_text(exc)
        return f"{' -> '.join(names)}: {text}" if names else text
    return " ".join(str(exc).split()) or type(exc).__name__


def write_trace(exc: BaseException, argv: list[str]) -> str:
    """Write the full traceback to a new file in the temp folder; return its path."""
    try:
        with tempfile.NamedTemporaryFile("w", prefix="nnstudio-internal-error-", suffix=".txt",
                                         delete=False, encoding="utf-8") as handle:
            handle.write(f"nnstudio {' '.join(argv)}\n\n")
            handle.write("".join(traceback.format_exception(exc)))
            return handle.name
    except OSError as write_error:
        return f"<the trace could not be written: {write_error}>"


if __name__ == "__main__":
    sys.exit(main())
