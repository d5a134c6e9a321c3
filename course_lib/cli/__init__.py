"""The `course` command. One module per subcommand, each exposing `register(subparsers)`,
which adds its parser and sets `run=` to a function taking the parsed arguments and
returning an exit code."""
import argparse
import sys

from ..errors import CourseError
from . import data, execute, grade, hub, release

SUBCOMMANDS = (execute, release, grade, data, hub)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="course",
        description="Tools for the course 'How neural networks are trained'.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for subcommand in SUBCOMMANDS:
        subcommand.register(subparsers)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except CourseError as error:
        print(f"course: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("course: interrupted", file=sys.stderr)
        return 130
