"""What the word outputs cost and how they compare with Tesseract's own.

    .venv/bin/python bench/words.py [--cases upright,two-columns,...] [--repeat 5]

Writes realistic pages (``scripts/realistic_pages.py``) and the bundled samples to a
temporary folder and converts them with pdfocr (``engine="tesseract"``, ``languages="eng"``,
plain PDF). Then, per format (hOCR, ALTO, PAGE XML, JSON lines): the time to make it from
the result (the least of ``--repeat`` runs), per page and as a share of the conversion's
wall time; and whether it is valid (PAGE XML against its XSD from the ocrd-validators
wheel; hOCR and ALTO: every box within its parent's, identifiers unique). Then, per page,
against ``tesseract IMAGE OUT -l eng hocr alto`` (Tesseract's own hOCR): the number of words
each gives, and for the words both give (matched in order by their text), how far apart
their boxes are in pixels (the largest of the four sides' differences: median and 95th
percentile); and the number of words in Tesseract's own ALTO (``alto``, v3) of the page.
"""

from __future__ import annotations

import argparse
import difflib
import importlib.metadata
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from realistic_pages import realistic_cases, write_cases  # noqa: E402

import pdfocr  # noqa: E402
from pdfocr.words import word_pages  # noqa: E402

XHTML = "{http://www.w3.org/1999/xhtml}"
ALTO = "{http://www.loc.gov/standards/alto/ns-v4#}"
DEFAULT_CASES = "upright,two-columns,invoice-table,askew-4,fax-fine,colour-form"


def _boxes_nested_hocr(document: str) -> bool:
    root = etree.fromstring(document.encode())
    seen: set[str] = set()
    for element in root.iter():
        title, kind = element.get("title"), element.get("class")
        if not kind or not title:
            continue
        if element.get("id") in seen:
            return False
        seen.add(element.get("id"))
        parent = element.getparent()
        if kind != "ocr_page" and not _within(_hocr_box(element), _hocr_box(parent)):
            return False
    return True


def _hocr_box(element: etree._Element) -> tuple[int, ...]:
    part = next(p for p in element.get("title").split(";") if p.strip().startswith("bbox"))
    return tuple(int(v) for v in part.split()[1:])


def _boxes_nested_alto(document: str) -> bool:
    root = etree.fromstring(document.encode())
    ids = [e.get("ID") for e in root.iter() if e.get("ID")]
    if len(ids) != len(set(ids)):
        return False

    def box(e: etree._Element) -> tuple[int, ...]:
        x, y = int(e.get("HPOS")), int(e.get("VPOS"))
        return x, y, x + int(e.get("WIDTH")), y + int(e.get("HEIGHT"))

    for kind in ("TextBlock", "TextLine", "String"):
        for element in root.iter(f"{ALTO}{kind}"):
            if not _within(box(element), box(element.getparent())):
                return False
    return True


def _within(inner: tuple[int, ...], outer: tuple[int, ...]) -> bool:
    return inner[0] >= outer[0] and inner[1] >= outer[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


def _tesseract_words(image: Path, folder: Path) -> tuple[list[tuple[str, tuple[int, ...]]], int]:
    """Tesseract's own hOCR words with their boxes, and how many words its ALTO (v3) has."""
    out = folder / image.stem
    command = ["tesseract", str(image), str(out), "-l", "eng", "hocr", "alto"]
    subprocess.run(command, check=True, capture_output=True)
    root = etree.parse(str(out.with_suffix(".hocr"))).getroot()
    alto = etree.parse(str(out.with_suffix(".xml"))).getroot()
    strings = sum(1 for e in alto.iter() if isinstance(e.tag, str) and e.tag.endswith("}String"))
    words = [
        (w.xpath("string()").strip(), _hocr_box(w))
        for w in root.iter(f"{XHTML}span")
        if w.get("class") == "ocrx_word" and w.xpath("string()").strip()
    ]
    return words, strings


def _timed(make: object, pages: list, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        make(pages)  # type: ignore[operator]
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default=DEFAULT_CASES)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from pdfocr.words.alto import to_alto
    from pdfocr.words.hocr import to_hocr
    from pdfocr.words.jsonl import to_json_lines
    from pdfocr.words.pagexml import to_page_xml

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        images = [path for _, path in write_cases(folder, realistic_cases(args.cases.split(",")))]
        images += [ROOT / "samples" / "page1.png", ROOT / "samples" / "page3.png"]
        started = time.perf_counter()
        result = pdfocr.convert(
            images, folder / "out.pdf", engine="tesseract", languages="eng", output_type="pdf"
        )
        conversion = time.perf_counter() - started
        pages = word_pages(result.pages)
        count = len(pages)
        print(f"words: {count} pages converted in {conversion:.1f} s ({conversion / count:.2f} s a page)")
        schema_file = next(
            f for f in importlib.metadata.files("ocrd-validators") or [] if f.name == "page.xsd"
        )
        schema = etree.XMLSchema(etree.parse(str(schema_file.locate())))

        def page_xml(pages: list) -> list[str]:
            return [to_page_xml(page) for page in pages]

        print(f"{'format':12} {'ms/page':>8} {'% of conversion':>16}  valid")
        for name, make, valid in (
            ("hOCR", to_hocr, lambda: _boxes_nested_hocr(to_hocr(pages))),
            ("ALTO", to_alto, lambda: _boxes_nested_alto(to_alto(pages))),
            (
                "PAGE XML",
                page_xml,
                lambda: all(schema.validate(etree.fromstring(d.encode())) for d in page_xml(pages)),
            ),
            ("JSON lines", to_json_lines, lambda: True),
        ):
            seconds = _timed(make, pages, args.repeat)
            share = 100 * seconds / conversion
            print(f"{name:12} {1000 * seconds / count:8.2f} {share:15.2f}%  {'yes' if valid() else 'NO'}")

        columns = ("pdfocr", "tess hOCR", "tess ALTO", "matched", "box px p50")
        header = f"{'page':28} " + " ".join(f"{c:>{max(7, len(c))}}" for c in columns) + f" {'p95':>5}"
        print("\n" + header)
        for image, page in zip(images, pages, strict=True):
            ours = [(w.text, w.box) for line in page.text.lines for w in line.words]
            theirs, alto_strings = _tesseract_words(image, folder)
            matcher = difflib.SequenceMatcher(
                a=[t for t, _ in ours], b=[t for t, _ in theirs], autojunk=False
            )
            gaps = []
            for block in matcher.get_matching_blocks():
                for k in range(block.size):
                    mine, other = ours[block.a + k][1], theirs[block.b + k][1]
                    sides = (mine.left, mine.top, mine.right, mine.bottom)
                    gaps.append(max(abs(a - b) for a, b in zip(sides, other, strict=True)))
            p50 = statistics.median(gaps) if gaps else float("nan")
            p95 = sorted(gaps)[int(0.95 * (len(gaps) - 1))] if gaps else float("nan")
            counts = f"{len(ours):7} {len(theirs):9} {alto_strings:9} {len(gaps):8}"
            print(f"{image.name:28} {counts} {p50:10.1f} {p95:5.1f}")


if __name__ == "__main__":
    main()
