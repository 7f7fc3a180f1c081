"""The instructor's command line: ``python -m grader COMMAND``.

generate [CHAPTER ...]   regenerate student notebooks in course/ from solutions/ (all by default)
chapters                 list the chapters with their exercises, points and time budgets
"""

from __future__ import annotations

import argparse
import sys

from grader.course import REPO, budget_seconds, chapters, exercises, generate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser("generate", help="regenerate student notebooks from solutions/")
    gen.add_argument("chapters", nargs="*", help="chapter names (default: all)")
    commands.add_parser("chapters", help="list chapters, exercises, points and budgets")
    args = parser.parse_args(argv)

    known = chapters(REPO)
    if args.command == "chapters":
        for chapter in known:
            listed = ", ".join(f"{name} ({points})" for name, points in exercises(chapter))
            print(f"{chapter}  [{budget_seconds(chapter):.0f} s]  {listed}")
        return 0

    unknown = sorted(set(args.chapters) - set(known))
    if unknown:
        print(f"unknown chapter(s): {', '.join(unknown)}; known: {', '.join(known)}", file=sys.stderr)
        return 2
    for chapter in args.chapters or known:
        path = generate(REPO, chapter)
        print(f"generated {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
