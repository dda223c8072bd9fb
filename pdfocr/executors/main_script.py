"""Whether worker processes can start from the caller's main script, which each of them
imports again: checked once, in the caller's thread, before any worker starts (a worker
that cannot import it dies before it is ready, and so would every other)."""

from __future__ import annotations

import ast
import os
import sys
from types import FrameType

from ..errors import UsageError


def check_main_script() -> None:
    """Refuse, in one clear line, the main scripts worker processes cannot start from.

    Worker processes import the main script again (multiprocessing's rules for a fork
    server). A script read from stdin cannot be imported; a script that converts at its
    top level, outside ``if __name__ == "__main__":``, would convert again in every
    worker, and every worker would die."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or getattr(main, "__spec__", None) is not None or path is None:
        return  # python -m, an interactive session or a notebook: nothing is re-imported
    if not os.path.exists(path):
        raise UsageError(
            f"worker processes cannot start from the main script {path!r} "
            "(a script read from stdin?); save it to a file and run that"
        )
    line = _unguarded_top_level_call(main.__dict__, path)
    if line is not None:
        raise UsageError(
            f"{path}, line {line}: pdfocr is called at the top level of the main script, which every "
            'worker process imports again; put the call under if __name__ == "__main__":',
            file=None,
        )


def _unguarded_top_level_call(main_globals: dict[str, object], path: str) -> int | None:
    """The line of the main script's top level from which pdfocr was called, if that
    line is not inside an ``if __name__ == "__main__":`` block; otherwise None."""
    frame: FrameType | None = sys._getframe()
    while frame is not None and not (frame.f_globals is main_globals and frame.f_code.co_name == "<module>"):
        frame = frame.f_back
    if frame is None:
        return None
    line = frame.f_lineno
    try:
        with open(path, "rb") as source:
            tree = ast.parse(source.read())
    except (OSError, SyntaxError, ValueError):
        return None
    for statement in tree.body:
        end = statement.end_lineno or statement.lineno
        if statement.lineno <= line <= end:
            return None if _is_main_guard(statement) else line
    return None


def _is_main_guard(statement: ast.stmt) -> bool:
    if not isinstance(statement, ast.If) or not isinstance(statement.test, ast.Compare):
        return False
    names = [statement.test.left, *statement.test.comparators]
    return any(isinstance(n, ast.Name) and n.id == "__name__" for n in names) and any(
        isinstance(n, ast.Constant) and n.value == "__main__" for n in names
    )
