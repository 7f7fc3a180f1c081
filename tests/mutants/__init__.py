"""Plausible mistakes and unusual correct answers, one module per chapter (see CONTRIBUTING.md).

The modules are loaded by path by tests/solution_runs.py and checked by tests/test_mutants.py;
they share :func:`change`.
"""


def change(source: str, *replacements: tuple[str, str]) -> str:
    """``source`` with each (old, new) replacement made; every ``old`` must occur in ``source``.

    >>> change("return a + b", ("a + b", "a - b"))
    'return a - b'
    """
    for old, new in replacements:
        assert old in source, f"mutant pattern not found: {old!r}"
        source = source.replace(old, new)
    return source
