"""``pdfocr search`` and ``pdfocr index``: query and manage a full-text index."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from ..errors import ExitCode, PdfocrError
from . import is_postgres_url, open_index, read_pdf
from .query import __doc__ as SYNTAX

INDEX_HELP = "the index: an SQLite file, or a postgresql:// URL"


def main(argv: Sequence[str]) -> int:
    command, rest = argv[0], list(argv[1:])
    try:
        return _search(rest) if command == "search" else _manage(rest)
    except PdfocrError as error:
        print(f"pdfocr {command}: error: {error}", file=sys.stderr)
        return int(error.exit_code)
    except OSError as error:
        print(f"pdfocr {command}: error: {error}", file=sys.stderr)
        return int(ExitCode.OUTPUT)


def _search(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="pdfocr search",
        description="Find pages in a full-text index made with --index.",
        epilog=SYNTAX,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("query", nargs="+", help="what to find (see below)")
    parser.add_argument("--index", required=True, help=INDEX_HELP)
    parser.add_argument("-n", "--limit", type=int, default=10, help="hits at most (default: 10)")
    parser.add_argument("--json", action="store_true", help="one JSON object per hit, per line")
    args = parser.parse_args(argv)
    if not is_postgres_url(args.index) and not Path(args.index).exists():
        print(f"pdfocr search: error: {args.index}: no such index", file=sys.stderr)
        return int(ExitCode.INPUT)
    index = open_index(args.index)
    try:
        hits = index.search(" ".join(args.query), limit=args.limit)
    finally:
        index.close()
    for hit in hits:
        if args.json:
            print(json.dumps(hit.as_json(), ensure_ascii=False))
        else:
            print(f"{hit.output}  page {hit.page}\n    {hit.snippet}")
    return 0 if hits else 1


def _manage(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="pdfocr index", description="Manage a full-text index.")
    parser.add_argument("--index", required=True, help=INDEX_HELP)
    actions = parser.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="index searchable PDFs (again: their pages are replaced)")
    add.add_argument("pdfs", nargs="+", type=Path)
    remove = actions.add_parser("remove", help="take PDFs out of the index")
    remove.add_argument("pdfs", nargs="+", type=Path)
    actions.add_parser("list", help="the indexed PDFs, with their page counts")
    actions.add_parser(
        "reindex",
        help="read every indexed PDF again (those gone are taken out; a service's jobs are left to it)",
    )
    args = parser.parse_args(argv)
    index = open_index(args.index)
    try:
        if args.action == "add":
            for pdf in args.pdfs:
                index.add(read_pdf(pdf, (str(pdf),)))
        elif args.action == "remove":
            missing = [pdf for pdf in args.pdfs if not index.remove(str(pdf.resolve()))]
            for pdf in missing:
                print(f"pdfocr index: {pdf} was not in the index", file=sys.stderr)
            if missing:
                return int(ExitCode.INPUT)
        elif args.action == "list":
            for entry in index.documents():
                print(f"{entry.output}\t{entry.pages} pages")
        else:
            # A service's jobs (those with an owner) are the service's to keep: it may
            # be on another machine, where their files are.
            for entry in index.documents():
                if entry.owner is not None:
                    continue
                if Path(entry.output).is_file():
                    index.add(read_pdf(entry.output, entry.sources, entry.owner))
                else:
                    index.remove(entry.output)
                    print(f"pdfocr index: {entry.output} is gone; taken out", file=sys.stderr)
    finally:
        index.close()
    return 0
