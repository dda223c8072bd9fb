"""How well pdfocr reads what people really scan and photograph, against bare Tesseract,
OCRmyPDF and RapidOCR, scored against the text drawn on the page.

    bench/setup-ocrmypdf.sh                       # once: OCRmyPDF in bench/.venv-ocrmypdf
    apt-get install unpaper                       # once: for OCRmyPDF's --clean
    .venv/bin/pip install opencv-python-headless numpy rapidocr==3.10.0 onnxruntime   # once
    .venv/bin/python bench/hard.py [--cases NAME,...] [--out DIR] [--skip-ocrmypdf]
                                   [--pdfocr-args "--rotate-pages --deskew"] [--jobs 2]

Writes the pages of ``scripts/realistic_pages.py`` (phone photos of a page, a book and a
receipt as 72-dpi JPEGs, faxes as Group 4 TIFFs at 204x196 and 204x98 dpi, a faded
photocopy, bleed-through, forms, columns, an invoice table, turned pages, German) to a
folder (``--out DIR``, or a temporary one), then reads every page with:

  - pdfocr:           ``.venv/bin/pdfocr FILE -o OUT.pdf --sidecar OUT.txt`` (its defaults),
                      scored on the sidecar; "pdfocr pdftotext" on ``pdftotext OUT.pdf -``
  - pdfocr ARGS:      the same with ``--pdfocr-args`` added (a column only when given)
  - tesseract:        ``tesseract FILE stdout`` (eng, no options)
  - ocrmypdf:         ``ocrmypdf FILE OUT.pdf --sidecar OUT.txt`` (its defaults)
  - ocrmypdf clean:   the same with ``--rotate-pages --deskew --clean`` (needs unpaper)
  - rapidocr:         RapidOCR's Python API on the file, with the models its wheel carries,
                      its text lines joined in its order
No producer is told the language: the German page shows what an unnamed language costs.

Prints one table, a row per case and a column per producer, each cell "recall/CER" in
percent: the share of the truth's words found (``realistic_pages.word_recall``) and the
character error rate (``realistic_pages.cer``: edits over the truth's characters, all
whitespace one space; over 100 when a producer adds much text that is not there). Then the
mean over the cases (a refused page counting as 0/100), the mean over the cases each ran,
and seconds per page: the wall time of one run on one page, start-up included (RapidOCR:
its call alone, models loaded once per worker). A producer that fails on a page shows
"refused" there, with its one-line reason under the table, and so do pdfocr's warnings.
Runs ``--jobs`` pages at a time (default 2), each producer alone and every Tesseract on
one thread (OMP_THREAD_LIMIT=1), so its times are those of one core; ``--out DIR`` keeps
the pages, every PDF and text, and ``results.json`` with the raw results.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from realistic_pages import CASES, Case, cer, word_recall, write_cases  # noqa: E402

OCRMYPDF = ROOT / "bench" / ".venv-ocrmypdf" / "bin" / "ocrmypdf"
PDFOCR = ROOT / ".venv" / "bin" / "pdfocr"
TIMEOUT = 600
ENVIRONMENT = {**os.environ, "OMP_THREAD_LIMIT": "1"}


class Refused(Exception):
    """A producer that would not or could not read a page; the message is its reason."""


@dataclass
class Reading:
    texts: dict[str, str]
    """Text read, by column (pdfocr gives two: its sidecar and pdftotext's reading)."""
    seconds: float
    note: str = ""


@dataclass
class Result:
    case: str
    column: str
    recall: float | None = None
    cer: float | None = None
    seconds: float | None = None
    refused: str | None = None
    note: str = ""
    text: str = field(default="", repr=False)


def _one_line(text: str) -> str:
    """The line of a tool's error output that says most: its last non-empty one."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return (lines[-1] if lines else "no message")[:240]


def _run(command: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Runs ``command`` and times it; a failure or a timeout is a ``Refused``."""
    started = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=ENVIRONMENT, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        raise Refused(f"timed out after {TIMEOUT} s") from None
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise Refused(f"exit {done.returncode}: {_one_line(done.stderr or done.stdout)}")
    return seconds, done


def _pdfocr_command() -> list[str]:
    return [str(PDFOCR)] if PDFOCR.exists() else [sys.executable, "-m", "pdfocr"]


def pdfocr(extra: list[str], column: str, with_pdftotext: bool) -> Callable[[Path, Path], Reading]:
    """pdfocr with its defaults plus ``extra``, read from its sidecar (and the PDF)."""

    def read(image: Path, work: Path) -> Reading:
        output, sidecar = work / "out.pdf", work / "out.txt"
        seconds, done = _run(
            [*_pdfocr_command(), str(image), "-o", str(output), "--sidecar", str(sidecar), *extra]
        )
        texts = {column: sidecar.read_text(encoding="utf-8").replace("\f", "\n")}
        if with_pdftotext:
            extracted = subprocess.run(
                ["pdftotext", str(output), "-"], capture_output=True, text=True, check=True
            )
            texts[f"{column} pdftotext"] = extracted.stdout.replace("\f", "\n")
        # Without the page's path, the same warning on several pages is said once.
        warnings = [line.replace(f"{image}: ", "") for line in done.stderr.splitlines() if "warning" in line]
        return Reading(texts, seconds, "; ".join(warnings)[:300])

    return read


def tesseract(image: Path, work: Path) -> Reading:
    seconds, done = _run(["tesseract", str(image), "stdout"])
    return Reading({"tesseract": done.stdout}, seconds)


def ocrmypdf(extra: list[str], column: str) -> Callable[[Path, Path], Reading]:
    """OCRmyPDF with its defaults plus ``extra``, read from its sidecar."""

    def read(image: Path, work: Path) -> Reading:
        output, sidecar = work / "out.pdf", work / "out.txt"
        seconds, _ = _run([str(OCRMYPDF), str(image), str(output), "--sidecar", str(sidecar), *extra])
        return Reading({column: sidecar.read_text(encoding="utf-8").replace("\f", "\n")}, seconds)

    return read


# RapidOCR runs in worker processes of its own, each with one engine loaded once.
_RAPIDOCR = None


def _rapidocr_start() -> None:
    global _RAPIDOCR  # one engine per worker process, loaded before its first page
    import rapidocr

    models = Path(rapidocr.__file__).parent / "models"
    _RAPIDOCR = rapidocr.RapidOCR(
        params={
            "Global.log_level": "error",
            # The models the wheel carries, named, so that nothing is ever downloaded.
            "Det.model_path": str(models / "PP-OCRv6_det_small.onnx"),
            "Rec.model_path": str(models / "PP-OCRv6_rec_small.onnx"),
            "Cls.model_path": str(models / "ch_ppocr_mobile_v2.0_cls_mobile.onnx"),
            "EngineConfig.onnxruntime.intra_op_num_threads": 1,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        }
    )


def _rapidocr_read(image: str) -> tuple[str, float]:
    started = time.perf_counter()
    output = _RAPIDOCR(image)
    return "\n".join(output.txts or ()), time.perf_counter() - started


def rapidocr_column(written: list[tuple[Case, Path]], jobs: int) -> list[Result]:
    """Every page read by RapidOCR, ``jobs`` at a time."""
    try:
        import rapidocr  # noqa: F401
    except ImportError:
        return [
            Result(case.name, "rapidocr", refused="rapidocr is not installed in .venv") for case, _ in written
        ]
    results = []
    with concurrent.futures.ProcessPoolExecutor(jobs, initializer=_rapidocr_start) as pool:
        futures = [(case, pool.submit(_rapidocr_read, str(path))) for case, path in written]
        for case, future in futures:
            try:
                text, seconds = future.result()
                results.append(_scored(case, "rapidocr", text, seconds))
            except Exception as error:  # a page RapidOCR fails on is that page's result, not the bench's end
                results.append(
                    Result(case.name, "rapidocr", refused=_one_line(f"{type(error).__name__}: {error}"))
                )
    return results


def _scored(case: Case, column: str, text: str, seconds: float, note: str = "") -> Result:
    return Result(
        case.name, column, word_recall(case.text, text), cer(case.text, text), seconds, None, note, text
    )


def producers(args: argparse.Namespace) -> dict[str, tuple[list[str], Callable[[Path, Path], Reading]]]:
    """Each producer that runs as a command: the columns it fills and how it reads a page."""
    chosen: dict[str, tuple[list[str], Callable[[Path, Path], Reading]]] = {
        "pdfocr": (["pdfocr", "pdfocr pdftotext"], pdfocr([], "pdfocr", True)),
    }
    if args.pdfocr_args:
        chosen["pdfocr+"] = (["pdfocr+"], pdfocr(shlex.split(args.pdfocr_args), "pdfocr+", False))
    chosen["tesseract"] = (["tesseract"], tesseract)
    if not args.skip_ocrmypdf:
        chosen["ocrmypdf"] = (["ocrmypdf"], ocrmypdf([], "ocrmypdf"))
        clean = ["--rotate-pages", "--deskew", "--clean"]
        chosen["ocrmypdf clean"] = (["ocrmypdf clean"], ocrmypdf(clean, "ocrmypdf clean"))
    return chosen


def run_commands(written: list[tuple[Case, Path]], args: argparse.Namespace, work: Path) -> list[Result]:
    """Every page read by every command-line producer, ``--jobs`` at a time, one producer
    after the other (so that pages run alongside pages of the same producer)."""
    results: list[Result] = []
    for name, (columns, read) in producers(args).items():
        if name.startswith("ocrmypdf") and not OCRMYPDF.exists():
            results += [
                Result(c.name, col, refused="not installed: run bench/setup-ocrmypdf.sh")
                for c, _ in written
                for col in columns
            ]
            continue

        def one(
            case: Case, image: Path, name: str = name, columns: list[str] = columns, read=read
        ) -> list[Result]:
            folder = work / "out" / case.name / name.replace(" ", "-").replace("+", "-plus")
            folder.mkdir(parents=True, exist_ok=True)
            try:
                reading = read(image, folder)
            except Refused as refusal:
                return [Result(case.name, column, refused=str(refusal)) for column in columns]
            return [
                _scored(case, column, text, reading.seconds, reading.note)
                for column, text in reading.texts.items()
            ]

        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            for found in pool.map(lambda pair: one(*pair), written):
                results += found
        print(f"hard: {name} done", file=sys.stderr)
    return results


def versions() -> dict[str, str]:
    """The version of every producer, as each reports it."""
    found = {}
    for name, command in {
        "pdfocr": [*_pdfocr_command(), "--version"],
        "tesseract": ["tesseract", "--version"],
        "ocrmypdf": [str(OCRMYPDF), "--version"],
        "unpaper": ["unpaper", "--version"],
    }.items():
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=60)
            found[name] = (done.stdout or done.stderr).splitlines()[0].strip()
        except (OSError, IndexError, subprocess.TimeoutExpired):
            found[name] = "not installed"
    try:
        from importlib.metadata import version

        found["rapidocr"] = version("rapidocr")
    except Exception:
        found["rapidocr"] = "not installed"
    return found


def _cell(result: Result | None) -> str:
    if result is None:
        return "-"
    if result.refused is not None:
        return "refused"
    return f"{100 * result.recall:.0f}/{100 * result.cer:.1f}"


def _means(results: list[Result]) -> list[str]:
    """A column's summary cells: the mean with refused pages as 0/100, the mean over the
    pages it read (with their number when some were refused), and seconds per page."""
    ran = [r for r in results if r.refused is None]
    if not ran:
        return ["0/100.0", "-", "-"]
    recall, errors = sum(r.recall for r in ran), sum(r.cer for r in ran)
    over_all = (
        f"{100 * recall / len(results):.0f}/{100 * (errors + len(results) - len(ran)) / len(results):.1f}"
    )
    over_ran = f"{100 * recall / len(ran):.0f}/{100 * errors / len(ran):.1f}"
    if len(ran) < len(results):
        over_ran += f" ({len(ran)})"
    return [over_all, over_ran, f"{sum(r.seconds for r in ran) / len(ran):.2f}"]


def _grouped(pairs: list[tuple[str, str, str]]) -> dict[str, tuple[list[str], list[str]]]:
    """(column, case, message) grouped by message: the columns and the cases that gave it."""
    groups: dict[str, tuple[list[str], list[str]]] = {}
    for column, case, message in pairs:
        columns, cases = groups.setdefault(message, ([], []))
        if column not in columns:
            columns.append(column)
        if case not in cases:
            cases.append(case)
    return groups


def print_table(cases: list[Case], columns: list[str], results: list[Result], pdfocr_args: str) -> None:
    by = {(r.case, r.column): r for r in results}
    rows = {case.name: [_cell(by.get((case.name, column))) for column in columns] for case in cases}
    summary = zip(*(_means([r for r in results if r.column == column]) for column in columns), strict=True)
    rows.update(zip(("mean", "mean ran", "s/page"), map(list, summary), strict=True))
    width = [
        max(len(column), *(len(cells[k]) for cells in rows.values())) + 2 for k, column in enumerate(columns)
    ]
    label = max(map(len, rows)) + 2
    print(f"recall/CER in percent (words of the truth found / character error rate), {len(cases)} pages")
    if pdfocr_args:
        print(f"pdfocr+ is pdfocr {pdfocr_args}")
    print(f"{'case':{label}}" + "".join(f"{column:>{w}}" for column, w in zip(columns, width, strict=True)))
    for name, cells in rows.items():
        print(f"{name:{label}}" + "".join(f"{cell:>{w}}" for cell, w in zip(cells, width, strict=True)))
    refusals = [(r.column, r.case, r.refused) for r in results if r.refused is not None]
    for message, (who, where) in _grouped(refusals).items():
        print(f"  refused by {', '.join(who)} on {', '.join(where)}: {message}")
    notes = [(r.column, r.case, r.note) for r in results if r.note and not r.column.endswith("pdftotext")]
    for message, (who, where) in _grouped(notes).items():
        print(f"  {', '.join(who)} on {', '.join(where)}: {message}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated case names (default: all)")
    parser.add_argument("--out", type=Path, help="keep the pages and outputs here, with results.json")
    parser.add_argument("--skip-ocrmypdf", action="store_true")
    parser.add_argument("--pdfocr-args", default="", help="a second pdfocr column with these options added")
    parser.add_argument("--jobs", type=int, default=2, help="pages read at once (default 2)")
    args = parser.parse_args()
    names = args.cases.split(",")
    unknown = [name for name in names if name not in CASES]
    if unknown:
        parser.error(f"unknown case {', '.join(unknown)}; the cases: {', '.join(CASES)}")
    with tempfile.TemporaryDirectory(prefix="pdfocr-hard-") as scratch:
        work = args.out or Path(scratch)
        started = time.perf_counter()
        written = write_cases(work / "pages", [CASES[name]() for name in names])
        print(f"hard: {len(written)} pages written in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        results = run_commands(written, args, work)
        results += rapidocr_column(written, args.jobs)
        cases = [case for case, _ in written]
        columns = list(dict.fromkeys(result.column for result in results))
        print_table(cases, columns, results, args.pdfocr_args)
        print(f"({time.perf_counter() - started:.0f} s in all)")
        if args.out:
            report = {
                "command": sys.argv,
                "versions": versions(),
                "cases": [
                    {
                        "name": c.name,
                        "kind": c.kind,
                        "file": str(p),
                        "format": c.file_format,
                        "dpi": list(c.dpi),
                        "languages": c.languages,
                        "truth": list(c.truth),
                    }
                    for c, p in written
                ],
                "results": [asdict(result) for result in results],
            }
            (args.out / "results.json").write_text(
                json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
