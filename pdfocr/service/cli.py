"""``pdfocr serve`` and ``pdfocr token``: start the service, manage its API tokens."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ..errors import ExitCode, PdfocrError
from ..options import MAX_MEGAPIXELS
from .logs import log_as_json
from .settings import MIB, ServiceSettings

DEFAULT_DATA = Path("pdfocr-data")
DEFAULTS = ServiceSettings(data=DEFAULT_DATA)
"""The settings' own defaults, which the options' defaults are."""


def main(argv: Sequence[str]) -> int:
    command, rest = argv[0], list(argv[1:])
    try:
        if command == "serve":
            return _serve(rest)
        return _token(rest)
    except PdfocrError as error:
        print(f"pdfocr {command}: error: {error}", file=sys.stderr)
        return int(error.exit_code)


def _serve(argv: list[str]) -> int:
    settings = _settings(_serve_parser().parse_args(argv))
    try:
        import uvicorn

        from .app import create_app
    except ImportError as error:
        print(
            f"pdfocr serve: error: {error.name} is not installed: pip install 'pdfocr[server]'",
            file=sys.stderr,
        )
        return int(ExitCode.DEPENDENCY)
    log_as_json()
    _check_before_serving(settings)
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(settings.drain_seconds) + 10,
    )
    from .store import DataFolderInUse, exclusive

    try:
        with exclusive(settings.data):
            uvicorn.Server(config).run()
    except DataFolderInUse as error:
        print(f"pdfocr serve: error: {error}", file=sys.stderr)
        return int(ExitCode.USAGE)
    return 0


def _serve_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pdfocr serve",
        description="Serve pdfocr over HTTP: jobs (POST /v1/jobs), their status and results, "
        "a page for people at /, /healthz, /readyz, /metrics, /openapi.json.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="default: 8080")
    parser.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA,
        help=f"jobs, results and the job table (default: ./{DEFAULT_DATA})",
    )
    parser.add_argument(
        "--no-auth", action="store_true", help="no tokens needed (only on a loopback address)"
    )
    parser.add_argument("-j", "--jobs", type=int, help="pages OCRed at once (default: one per CPU)")
    parser.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="run the pages on this Dask scheduler's workers (see pdfocr worker)",
    )
    _add_limits(parser)
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--index",
        default=DEFAULTS.index,
        help="the full-text index every job's pages go to (GET /v1/search): an SQLite file (relative:"
        f" in --data) or a postgresql:// URL (default: {DEFAULTS.index})",
    )
    where.add_argument("--no-index", action="store_true", help="keep no index (no /v1/search)")
    return parser


def _add_limits(parser: argparse.ArgumentParser) -> None:
    """The options that bound the work: jobs at once and waiting, uploads, pages, time."""
    parser.add_argument(
        "--concurrent-jobs",
        type=int,
        default=DEFAULTS.concurrent_jobs,
        help="jobs converted at once (default: 2)",
    )
    parser.add_argument(
        "--queue-size", type=int, default=DEFAULTS.queue_size, help="jobs that may wait (default: 50)"
    )
    parser.add_argument(
        "--max-upload-mb", type=float, default=256, help="a job's upload, at most (default: 256)"
    )
    parser.add_argument(
        "--max-files", type=int, default=DEFAULTS.max_files, help="files per job, at most (default: 200)"
    )
    parser.add_argument(
        "--max-pages", type=int, default=DEFAULTS.max_pages, help="pages per job, at most (default: 1000)"
    )
    parser.add_argument(
        "--max-megapixels",
        type=float,
        default=MAX_MEGAPIXELS,
        help=f"larger pages are refused as decompression bombs (default: {MAX_MEGAPIXELS:g})",
    )
    parser.add_argument(
        "--page-timeout", type=float, default=DEFAULTS.page_timeout, help="seconds per page (default: 300)"
    )
    parser.add_argument(
        "--job-deadline", type=float, default=DEFAULTS.job_deadline, help="seconds per job (default: 3600)"
    )
    parser.add_argument(
        "--result-ttl", type=float, default=24, help="hours a finished job is kept (default: 24)"
    )
    parser.add_argument(
        "--sync-max-mb", type=float, default=20, help="POST /v1/ocr's one image, at most (default: 20)"
    )
    parser.add_argument(
        "--drain-seconds",
        type=float,
        default=20,
        help="on SIGTERM, how long running jobs may finish before they are re-queued (default: 20)",
    )


def _settings(args: argparse.Namespace) -> ServiceSettings:
    return ServiceSettings(
        data=args.data,
        host=args.host,
        port=args.port,
        auth=not args.no_auth,
        jobs=args.jobs,
        cluster=args.cluster,
        concurrent_jobs=args.concurrent_jobs,
        queue_size=args.queue_size,
        max_upload_bytes=int(args.max_upload_mb * MIB),
        max_files=args.max_files,
        max_pages=args.max_pages,
        max_megapixels=args.max_megapixels,
        sync_max_bytes=int(args.sync_max_mb * MIB),
        drain_seconds=args.drain_seconds,
        page_timeout=args.page_timeout,
        job_deadline=args.job_deadline,
        result_ttl=args.result_ttl * 3600,
        index=None if args.no_index else args.index,
    )


def _check_before_serving(settings: ServiceSettings) -> None:
    """Say what would stop the service (an unreachable cluster, an unusable index) before
    it serves, and that it has no token yet, if so."""
    if settings.cluster is not None:  # an unreachable cluster is said before serving
        from ..executors.cluster import DaskExecutor

        DaskExecutor(settings.cluster).close()
    if settings.index_target is not None:  # an unusable index is said before serving
        from ..index import open_index

        settings.data.mkdir(parents=True, exist_ok=True)
        open_index(settings.index_target).close()
    if settings.auth:
        from .store import Store

        store = Store(settings.database)
        if not store.token_names():
            print(
                f"pdfocr serve: no API token yet; make one with: pdfocr token create --data {settings.data}",
                file=sys.stderr,
            )
        store.close()


def _token(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="pdfocr token", description="Manage the service's API tokens.")
    parser.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA,
        help=f"the service's data folder (default: ./{DEFAULT_DATA})",
    )
    actions = parser.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="make a token and print it (it is shown only once)")
    create.add_argument("--name", default="default", help="to tell tokens apart (and revoke one)")
    actions.add_parser("list", help="the tokens' names")
    revoke = actions.add_parser("revoke", help="revoke the tokens of this name")
    revoke.add_argument("name")
    args = parser.parse_args(argv)
    from .store import Store

    store = Store(args.data / "pdfocr.db")
    try:
        if args.action == "create":
            print(store.create_token(args.name))
        elif args.action == "list":
            for name in store.token_names():
                print(name)
        elif not store.revoke_token(args.name):
            print(f"pdfocr token: error: no token named {args.name!r}", file=sys.stderr)
            return int(ExitCode.USAGE)
    finally:
        store.close()
    return 0
