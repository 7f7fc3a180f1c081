"""The instructor's command line: ``python -m grader COMMAND`` (or the Makefile's shortcuts).

A whole grading run, in the order an instructor does it:

  release CHAPTER            generate the student notebook and put it in the nbgrader exchange
  student-repo FOLDER        export the repository students get (no solutions, tests or grader)
  collect CHAPTER [--from P] fetch submissions from the exchange, or from a folder/zip named by student
  grade CHAPTER [CHAPTER ...] autograde what is not graded yet, in parallel, each one sandboxed, here
                             or on a Dask cluster (--scheduler); a summary table per chapter
  feedback CHAPTER           an HTML feedback page per student (grader/feedback/)
  export [--to FILE]         every grade as CSV (grader/grades.csv)

and for authors:

  generate [CHAPTER ...]     regenerate student notebooks in course/ from solutions/ (all by default)
  chapters                   list the chapters with their exercises, points and time budgets

and for lecturers:

  html [CHAPTER ...]         run the chapters offline; write site/: pages, slides, an index
  slides [CHAPTER ...]       run the chapters offline; write site/slides/: a reveal.js deck each
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from grader.course import REPO, budget_seconds, chapters, exercises, export_grades, generate, nbgrader
from grader.paths import CoursePaths


def _positive(kind):
    """An argparse type: a number of ``kind`` greater than zero, or a one-line error."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"{text!r} must be greater than 0")
        return value

    return parse


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m grader",
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n", 2)[2],
    )
    parser.add_argument("--root", type=Path, default=REPO, help="course root (default: this repository)")
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser("generate", help="regenerate student notebooks from solutions/")
    gen.add_argument("chapters", nargs="*", help="chapter names (default: all)")
    commands.add_parser("chapters", help="list chapters, exercises, points and budgets")
    for name, what in (
        ("html", "run every chapter offline and write a static site: pages, slides, an index"),
        ("slides", "run every chapter's instructor notebook offline and write it as a slide deck"),
    ):
        out = commands.add_parser(name, help=what)
        out.add_argument("chapters", nargs="*", help="chapter names (default: all)")
        out.add_argument("--out", type=Path, default=REPO / "site", help="folder to write (default: site/)")
    rel = commands.add_parser("release", help="generate a chapter and release it to the nbgrader exchange")
    rel.add_argument("chapter")
    exp = commands.add_parser("student-repo", help="export the students' copy of the repository")
    exp.add_argument("destination", type=Path)
    col = commands.add_parser("collect", help="collect submissions of a chapter")
    col.add_argument("chapter")
    col.add_argument(
        "--from",
        dest="source",
        type=Path,
        help="a folder or .zip of notebooks named by student (default: the nbgrader exchange)",
    )
    grd = commands.add_parser(
        "grade", help="autograde every submission of one or more chapters, in parallel, sandboxed"
    )
    grd.add_argument(
        "chapters",
        nargs="+",
        metavar="chapter",
        help="chapters to grade, in this order, on the same slots (each slot's kernels start warm once)",
    )
    grd.add_argument("--students", help="comma-separated student ids (default: every submission)")
    grd.add_argument(
        "--jobs",
        type=_positive(int),
        default=len(os.sched_getaffinity(0)),
        help="submissions graded at once (default: the cores available)",
    )
    grd.add_argument(
        "--cell-timeout", type=_positive(int), default=300, help="seconds one cell may run (default 300)"
    )
    grd.add_argument(
        "--submission-timeout",
        type=_positive(float),
        default=1800,
        help="seconds one submission may take in all (default 1800): a slow one cannot hold the class",
    )
    grd.add_argument(
        "--memory-gib", type=_positive(float), default=8, help="address space per kernel (default 8 GiB)"
    )
    grd.add_argument("--no-progress", action="store_true", help="no progress bar")
    grd.add_argument(
        "--cold-kernels",
        action="store_true",
        help="start each kernel afresh instead of forking it from its slot's warm zygote (slower)",
    )
    grd.add_argument(
        "--regrade",
        action="store_true",
        help="grade every submission again (default: only what is not graded)",
    )
    grd.add_argument(
        "--scheduler",
        help="grade on the Dask cluster at this address (tcp://host:8786, tls://...), or on N workers "
        "started here (local:N); default: DASK_SCHEDULER_ADDRESS or Dask's configuration, else this machine",
    )
    grd.add_argument("--tls-ca-file", type=Path, help="TLS to the cluster: the certificate authority")
    grd.add_argument("--tls-cert", type=Path, help="TLS to the cluster: this client's certificate")
    grd.add_argument("--tls-key", type=Path, help="TLS to the cluster: this client's private key")
    grd.add_argument(
        "--unsafe-no-sandbox",
        action="store_true",
        help="grade without the sandbox (trusted submissions only, where bubblewrap or root is missing)",
    )
    fbk = commands.add_parser("feedback", help="generate the feedback pages of a chapter")
    fbk.add_argument("chapter")
    fbk.add_argument("--release", action="store_true", help="also put them in the exchange for students")
    out = commands.add_parser("export", help="export every grade to CSV")
    out.add_argument("--to", type=Path, help="CSV file (default: grader/grades.csv)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; bad input (a missing chapter, an empty hand-in, a file that is not a notebook,
    an unsafe student id, nothing graded yet) is one line on stderr, exit status 1 or 2, and changes
    nothing.

    >>> main(["grade", "ch99"])  # doctest: +SKIP
    error: unknown chapter(s): ch99; known: ch01_visual_cortex, ...
    2
    """
    args = _parser().parse_args(argv)
    root = args.root.resolve()
    known = chapters(root)
    named = getattr(args, "chapters", None) or ([args.chapter] if hasattr(args, "chapter") else [])
    unknown = sorted(set(named) - set(known))
    if unknown:
        print(
            f"error: unknown chapter(s): {', '.join(unknown)}; known: {', '.join(known) or 'none'}",
            file=sys.stderr,
        )
        return 2
    try:
        _run(args, root, known)
    except (RuntimeError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


def _run(args: argparse.Namespace, root: Path, known: list[str]) -> None:
    """Carry out the parsed command; bad input raises RuntimeError, ValueError or OSError."""
    if args.command == "chapters":
        for chapter in known:
            listed = ", ".join(f"{name} ({points})" for name, points in exercises(chapter, root))
            print(f"{chapter}  [{budget_seconds(chapter, root):.0f} s]  {listed}")
    elif args.command == "generate":
        for chapter in args.chapters or known:
            print(f"generated {generate(root, chapter).relative_to(root)}")
    elif args.command in ("html", "slides"):
        from grader.publish import publish

        written = publish(args.out, args.chapters or known, pages=args.command == "html", root=root)
        print(f"wrote {len(written)} file(s); open {written[-1]}")
    elif args.command == "release":
        from grader.release import release

        print(f"released {release(root, args.chapter).relative_to(root)} to the nbgrader exchange")
    elif args.command == "student-repo":
        from grader.release import export_student_repository

        written = export_student_repository(root, args.destination)
        print(f"wrote the students' repository to {args.destination}: {', '.join(written)}")
    elif args.command == "collect":
        from grader import collect

        if args.source:
            placed = collect.from_files(root, args.chapter, args.source)
            print(f"collected {len(placed)} submission(s) of {args.chapter}: {', '.join(placed)}")
        else:
            print(collect.from_exchange(root, args.chapter).strip() or "collected from the exchange")
    elif args.command == "grade":
        from grader import classroom, sandbox

        students = args.students.split(",") if args.students else None
        limits = sandbox.Limits(memory_bytes=int(args.memory_gib * 2**30))
        sandboxed = not args.unsafe_no_sandbox
        classroom.check_sandbox(sandboxed)
        for chapter in args.chapters:  # before any slot starts: nothing to grade is said at once
            classroom.check_released(classroom.gradebook_url(root), chapter)
            classroom.submissions(root, chapter, students)
        pool = classroom.open_pool(
            args.jobs, limits, sandboxed, _scheduler(args), _security(args), not args.cold_kernels
        )
        try:
            for chapter in args.chapters:
                run = classroom.grade_run(
                    root,
                    chapter,
                    students,
                    cell_timeout=args.cell_timeout,
                    submission_timeout=args.submission_timeout,
                    progress=not args.no_progress,
                    sandboxed=sandboxed,
                    regrade=args.regrade,
                    pool=pool,
                )
                _print_run(chapter, run, len(args.chapters) > 1)
        finally:
            pool.close()
        print(f"\ngradebook updated; per-submission details in {CoursePaths(root).report}")
    elif args.command == "feedback":
        if not any(CoursePaths(root).autograded.glob(f"*/{args.chapter}/*.ipynb")):
            raise ValueError(
                f"no submission of {args.chapter} is graded yet: run python -m grader grade "
                f"{args.chapter} first"
            )
        nbgrader(root, "generate_feedback", args.chapter, "--force")
        if args.release:
            nbgrader(root, "release_feedback", args.chapter, "--force")
        print(f"feedback pages in {CoursePaths(root).feedback}")
    elif args.command == "export":
        if args.to and not args.to.resolve().parent.is_dir():
            raise ValueError(f"cannot write {args.to}: folder {args.to.resolve().parent} does not exist")
        rows = export_grades(root, args.to)
        print(f"exported {len(rows)} grade(s) to {args.to or CoursePaths(root).grades}")


def _print_run(chapter: str, run, titled: bool) -> None:
    """What ``grade`` did to one chapter: its summary table, what it kept and what it lost."""
    from grader import classroom

    if titled:
        print(f"\n== {chapter}")
    print(classroom.summary_table(run.outcomes) if run.outcomes else "nothing new to grade")
    if run.kept:
        print(f"\n{len(run.kept)} submission(s) graded before and unchanged: kept (--regrade grades again)")
    if run.lost:
        print("\nnot graded, their slot was lost (run the same command again to grade them):")
        print("\n".join(f"  {student}: {why}" for student, why in sorted(run.lost.items())))


def _scheduler(args: argparse.Namespace) -> str | None:
    """``--scheduler``, else Dask's own setting (``DASK_SCHEDULER_ADDRESS``, a config file), else None."""
    if args.scheduler:
        return args.scheduler
    import dask

    return dask.config.get("scheduler-address", None)


def _security(args: argparse.Namespace):
    """TLS settings from the ``--tls-*`` options (all three, or none: then Dask's configuration)."""
    given = [args.tls_ca_file, args.tls_cert, args.tls_key]
    if not any(given):
        return None
    if not all(given):
        raise ValueError("TLS needs all three of --tls-ca-file, --tls-cert and --tls-key")
    for path in given:
        if not path.is_file():
            raise ValueError(f"{path}: no such file")
    from distributed.security import Security

    return Security(
        tls_ca_file=str(args.tls_ca_file),
        tls_client_cert=str(args.tls_cert),
        tls_client_key=str(args.tls_key),
        require_encryption=True,
    )


if __name__ == "__main__":
    sys.exit(main())
