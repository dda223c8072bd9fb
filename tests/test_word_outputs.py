"""Word outputs (pdfocr.words): hOCR, ALTO v4, PAGE XML 2019 and JSON lines for a whole
bundle, checked by the formats' own rules (PAGE against its XSD, from the ocrd-validators
wheel; hOCR and ALTO by the rules their specifications state), against each other, and
against where the written PDF's text layer puts each word."""

from __future__ import annotations

import html
import importlib.metadata
import io
import json
import re
import subprocess
from pathlib import Path

import img2pdf
import pikepdf
import pytest
from conftest import pdftotext_words
from hard_pages import CASES as HARD_CASES
from hard_pages import DPI as HARD_DPI
from lxml import etree
from realistic_pages import realistic_cases, write_cases
from reportlab.pdfgen.canvas import Canvas

import pdfocr

ALTO = "{http://www.loc.gov/standards/alto/ns-v4#}"
PAGE = "{http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15}"
XHTML = "{http://www.w3.org/1999/xhtml}"
SAMPLE = Path(__file__).resolve().parent.parent / "samples"


@pytest.fixture(scope="module")
def page_schema() -> etree.XMLSchema:
    (xsd,) = [f for f in importlib.metadata.files("ocrd-validators") or [] if f.name == "page.xsd"]
    return etree.XMLSchema(etree.parse(str(xsd.locate())))


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> list[Path]:
    """Hard pages: one sideways (turned upright), one 4 degrees askew (straightened), a
    two-column page; and a PDF with a born-digital page (kept, its own words) before a scan."""
    folder = tmp_path_factory.mktemp("bundle")
    cases = write_cases(folder, realistic_cases(["turned-90", "askew-4", "two-columns"]))
    born = io.BytesIO()
    canvas = Canvas(born, pagesize=(612, 792))
    canvas.drawString(72, 700, "Typed invoice text")
    canvas.drawString(72, 680, "Second typed line")
    canvas.showPage()
    canvas.save()
    mixed = folder / "mixed.pdf"
    scanned = io.BytesIO(img2pdf.convert(str(SAMPLE / "page1.png")))
    with pikepdf.open(io.BytesIO(born.getvalue())) as document, pikepdf.open(scanned) as scan:
        document.pages.append(scan.pages[0])
        document.save(mixed)
    return [path for _, path in cases] + [mixed]


@pytest.fixture(scope="module")
def converted(tmp_path_factory, bundle: list[Path]) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("out")
    run = subprocess.run(
        [
            "pdfocr", *map(str, bundle), "-o", str(out / "out.pdf"), "--deskew",
            "--hocr", str(out / "out.hocr"), "--alto", str(out / "out.alto.xml"),
            "--page-xml", str(out / "page"), "--words", str(out / "out.jsonl"),
        ],
        capture_output=True, text=True, env=_env(),
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    return {"pdf": out / "out.pdf", "hocr": out / "out.hocr", "alto": out / "out.alto.xml",
            "page": out / "page", "jsonl": out / "out.jsonl"}  # fmt: skip


def _env() -> dict[str, str]:
    import os
    import sys

    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}


def _records(path: Path) -> tuple[list[dict], list[dict]]:
    records = [json.loads(line) for line in path.read_text().splitlines()]
    return [r for r in records if r["type"] == "page"], [r for r in records if r["type"] == "word"]


def _inside(inner: tuple[float, ...], outer: tuple[float, ...], slack: float = 1) -> bool:
    return (
        inner[0] >= outer[0] - slack
        and inner[1] >= outer[1] - slack
        and inner[2] <= outer[2] + slack
        and inner[3] <= outer[3] + slack
    )


def test_json_words_are_where_the_pdf_shows_them(converted: dict[str, Path]) -> None:
    pages, words = _records(converted["jsonl"])
    shown = pdftotext_words(converted["pdf"])
    assert [page["page"] for page in pages] == list(range(1, len(shown) + 1)) == [1, 2, 3, 4, 5]
    assert [page["origin"] for page in pages] == ["ocr", "ocr", "ocr", "pdf", "ocr"]
    assert [page["source_page"] for page in pages] == [None, None, None, 1, 2]
    for page in pages:
        number = page["page"]
        on_page = [word for word in words if word["page"] == number]
        layer = shown[number - 1]
        # The same words, in the same order, as the PDF's text layer (pdftotext).
        assert [word["text"] for word in on_page] == [word.text for word in layer], number
        dpi_x, dpi_y = page["dpi"]
        for word, placed in zip(on_page, layer, strict=True):
            left, top, right, bottom = word["px"]
            # Pixels to points as documented, and both boxes the same box.
            assert word["pt"] == pytest.approx(
                [left * 72 / dpi_x, page["height_pt"] - bottom * 72 / dpi_y,
                 right * 72 / dpi_x, page["height_pt"] - top * 72 / dpi_y], abs=0.02
            )  # fmt: skip
            # The layer's word where the box says: from its left edge, down within the line
            # (the layer stretches a word over the space after it).
            assert left * 72 / dpi_x == pytest.approx(placed.left, abs=2)
            assert (top + bottom) / 2 * 72 / dpi_y == pytest.approx((placed.top + placed.bottom) / 2, abs=8)


def test_every_format_has_the_same_words(converted: dict[str, Path]) -> None:
    _, words = _records(converted["jsonl"])
    expected = [word["text"] for word in words]
    hocr = etree.parse(str(converted["hocr"]))
    assert [w.text for w in hocr.iter(f"{XHTML}span") if w.get("class") == "ocrx_word"] == expected
    alto = etree.parse(str(converted["alto"]))
    assert [s.get("CONTENT") for s in alto.iter(f"{ALTO}String")] == expected
    from_page: list[str] = []
    for document in sorted(converted["page"].glob("*.xml")):
        for word in etree.parse(str(document)).iter(f"{PAGE}Word"):
            from_page.append(word.find(f"{PAGE}TextEquiv/{PAGE}Unicode").text)
    assert from_page == expected
    assert len(expected) > 300


def test_page_xml_is_valid_against_its_schema(
    converted: dict[str, Path], page_schema: etree.XMLSchema
) -> None:
    documents = sorted(converted["page"].glob("*.xml"))
    assert [d.name for d in documents] == [f"page-000{n}.xml" for n in range(1, 6)]
    for document in documents:
        tree = etree.parse(str(document))
        assert page_schema.validate(tree), (document.name, page_schema.error_log)
        page = tree.find(f"{PAGE}Page")
        width, height = int(page.get("imageWidth")), int(page.get("imageHeight"))
        for coords in page.iter(f"{PAGE}Coords"):
            for point in coords.get("points").split():
                x, y = map(int, point.split(","))
                assert 0 <= x <= width and 0 <= y <= height
        regions = [r.get("id") for r in page.iter(f"{PAGE}TextRegion")]
        refs = [r.get("regionRef") for r in page.iter(f"{PAGE}RegionRefIndexed")]
        assert refs == regions
    first = etree.parse(str(documents[0])).find(f"{PAGE}Page/{PAGE}TextRegion")
    assert first.get("primaryLanguage") == "English"


def test_page_xml_refuses_nothing_its_schema_allows(page_schema: etree.XMLSchema) -> None:
    # The validator itself can fail: a Word without its required id is refused.
    broken = etree.fromstring(
        f'<PcGts xmlns="{PAGE[1:-1]}"><Metadata><Creator>x</Creator><Created>2026-01-01T00:00:00</Created>'
        "<LastChange>2026-01-01T00:00:00</LastChange></Metadata>"
        '<Page imageFilename="a" imageWidth="10" imageHeight="10"><TextRegion>'
        '<Coords points="0,0 1,1"/></TextRegion></Page></PcGts>'
    )
    assert not page_schema.validate(broken)


def _checked_alto(root: etree._Element) -> list[etree._Element]:
    """The rules ALTO v4 states, each asserted; the document's pages."""
    assert root.tag == f"{ALTO}alto"
    assert [child.tag for child in root] == [f"{ALTO}Description", f"{ALTO}Layout"]
    assert root.findtext(f"{ALTO}Description/{ALTO}MeasurementUnit") == "pixel"
    assert root.find(f"{ALTO}Description/{ALTO}OCRProcessing/{ALTO}ocrProcessingStep") is not None
    ids = [element.get("ID") for element in root.iter() if element.get("ID") is not None]
    assert len(ids) == len(set(ids))
    pages = root.findall(f"{ALTO}Layout/{ALTO}Page")
    assert [int(page.get("PHYSICAL_IMG_NR")) for page in pages] == list(range(1, len(pages) + 1))

    def box(element: etree._Element) -> tuple[int, int, int, int]:
        left, top = int(element.get("HPOS")), int(element.get("VPOS"))
        return left, top, left + int(element.get("WIDTH")), top + int(element.get("HEIGHT"))

    for page in pages:
        (space,) = page.findall(f"{ALTO}PrintSpace")
        assert box(space) == (0, 0, int(page.get("WIDTH")), int(page.get("HEIGHT")))
        for block in space.findall(f"{ALTO}TextBlock"):
            assert _inside(box(block), box(space))
            for line in block.findall(f"{ALTO}TextLine"):
                assert _inside(box(line), box(block))
                strings = line.findall(f"{ALTO}String")
                assert strings and len(line.findall(f"{ALTO}SP")) == len(strings) - 1
                for string in strings:
                    assert string.get("CONTENT")
                    assert _inside(box(string), box(line))
                    if string.get("WC") is not None:
                        assert 0 <= float(string.get("WC")) <= 1
    return pages


def test_alto_follows_the_rules_of_alto_4(converted: dict[str, Path]) -> None:
    pages = _checked_alto(etree.parse(str(converted["alto"])).getroot())
    assert len(pages) == 5
    # The kept page's words come from the PDF's own text: no confidences there.
    assert all(s.get("WC") is None for s in pages[3].iter(f"{ALTO}String"))
    assert all(s.get("WC") is not None for s in pages[0].iter(f"{ALTO}String"))


def _checked_hocr(root: etree._Element) -> list[etree._Element]:
    """The rules hOCR 1.2 states, each asserted; the document's pages."""
    meta = {m.get("name"): m.get("content") for m in root.iter(f"{XHTML}meta") if m.get("name")}
    assert meta["ocr-system"].startswith("pdfocr ")
    capabilities = set(meta["ocr-capabilities"].split())
    pages = [e for e in root.iter(f"{XHTML}div") if e.get("class") == "ocr_page"]
    assert meta["ocr-number-of-pages"] == str(len(pages))

    def properties(element: etree._Element) -> dict[str, str]:
        return dict(part.strip().split(" ", 1) for part in element.get("title").split(";"))

    def bbox(element: etree._Element) -> tuple[int, ...]:
        return tuple(int(v) for v in properties(element)["bbox"].split())

    for number, page in enumerate(pages):
        assert properties(page)["ppageno"] == str(number)
        ids = set()
        for element in page.iter():
            kind = element.get("class")
            if kind is None:
                continue
            assert kind in capabilities, kind
            assert element.get("id") not in ids
            ids.add(element.get("id"))
            parent = element.getparent()
            if element is not page:
                assert _inside(bbox(element), bbox(parent)), (kind, element.get("id"))
            expected_parent = {"ocr_carea": "ocr_page", "ocr_par": "ocr_carea", "ocr_line": "ocr_par",
                               "ocrx_word": "ocr_line"}.get(kind)  # fmt: skip
            if expected_parent:
                assert parent.get("class") == expected_parent
            if kind == "ocrx_word" and page.get("data-origin") != "pdf":
                assert 0 <= int(properties(element)["x_wconf"]) <= 100
    return pages


def test_hocr_follows_the_rules_of_hocr(converted: dict[str, Path]) -> None:
    assert len(_checked_hocr(etree.parse(str(converted["hocr"])).getroot())) == 5


@pytest.mark.parametrize("name", list(HARD_CASES))
def test_every_hard_page_gives_valid_documents_with_the_layers_words(
    name: str, tmp_path: Path, page_schema
) -> None:
    case = HARD_CASES[name]()
    path = tmp_path / "page.png"
    case.image.save(path, dpi=(HARD_DPI, HARD_DPI))
    output = tmp_path / "out.pdf"
    result = pdfocr.convert(path, output, engine="tesseract", languages=case.languages, output_type="pdf")
    (page,) = result.pages
    assert page.words is not None
    words = [word.text for line in page.words.text.lines for word in line.words]
    assert words
    # The same characters as the PDF's layer (extractors turn right-to-left words round
    # and join Chinese characters into words of their own).
    layer = "".join(html.unescape(word.text) for word in pdftotext_words(output)[0])

    def marks_off(text: str) -> list[str]:
        return sorted(re.sub(r"[\s\u200e\u200f]", "", text))

    assert marks_off(layer) == marks_off("".join(words))
    alto = etree.fromstring(result.to_alto().encode())
    assert len(_checked_alto(alto)) == 1
    assert [s.get("CONTENT") for s in alto.iter(f"{ALTO}String")] == words
    hocr = etree.fromstring(result.to_hocr().encode())
    assert len(_checked_hocr(hocr)) == 1
    assert [w.text for w in hocr.iter(f"{XHTML}span") if w.get("class") == "ocrx_word"] == words
    (document,) = result.to_page_xml().values()
    tree = etree.fromstring(document.encode())
    assert page_schema.validate(tree), page_schema.error_log
    assert [w.findtext(f"{PAGE}TextEquiv/{PAGE}Unicode") for w in tree.iter(f"{PAGE}Word")] == words


def test_the_library_gives_the_same_documents(tmp_path: Path) -> None:
    result = pdfocr.convert(SAMPLE / "page1.png", tmp_path / "out.pdf")
    (page,) = result.pages
    assert page.words is not None and page.words.origin == "ocr"
    words = [word.text for line in page.words.text.lines for word in line.words]
    assert " ".join(words) == " ".join(page.text.split())
    assert result.to_json_lines().count('"type":"word"') == len(words)
    assert result.to_hocr().count('class="ocrx_word"') == len(words)
    assert result.to_alto().count("<String ") == len(words)
    assert list(result.to_page_xml()) == ["page-0001.xml"]


def test_word_outputs_go_to_stdout_one_at_a_time(cli, tmp_path: Path) -> None:
    run = cli(str(SAMPLE / "page1.png"), "-o", str(tmp_path / "out.pdf"), "--words", "-")
    assert run.returncode == 0, run.stderr
    first = json.loads(run.stdout.splitlines()[0])
    assert first["type"] == "page" and first["width_px"] == 1749
    both = cli(str(SAMPLE / "page1.png"), "-o", str(tmp_path / "out.pdf"), "--hocr", "-", "--alto", "-")
    assert both.returncode == 2
    assert "--hocr - and --alto - cannot both go to stdout" in both.stderr


def test_an_unwritable_word_output_fails_before_any_work(cli, tmp_path: Path) -> None:
    output = tmp_path / "out.pdf"
    run = cli(str(SAMPLE / "page1.png"), "-o", str(output), "--alto", str(tmp_path / "missing" / "out.xml"))
    assert run.returncode != 0
    assert "missing" in run.stderr and "does not exist" in run.stderr
    assert not output.exists()


def test_the_index_takes_the_conversions_own_words(tmp_path: Path) -> None:
    from pdfocr.index import open_index

    index = tmp_path / "pages.db"
    result = pdfocr.convert(SAMPLE / "page1.png", tmp_path / "out.pdf", index=str(index))
    (page,) = result.pages
    assert page.words is not None
    memo = next(word for line in page.words.text.lines for word in line.words if word.text == "memo")
    store = open_index(index)
    try:
        (hit,) = store.search("memo")
    finally:
        store.close()
    assert hit.boxes == (pytest.approx(page.words.to_points(memo.box)),)
    assert hit.size == pytest.approx(page.words.size_points)


def test_pages_are_numbered_as_the_pdfs_when_a_pdf_page_was_left_out(tmp_path: Path) -> None:
    from fakes import FailingEngine, png_pages
    from PIL import Image

    pages = []
    for data in png_pages(3):  # page N is 100 + N pixels wide, which the fake engine reads
        buffer = io.BytesIO()
        Image.open(io.BytesIO(data)).save(buffer, format="PNG", dpi=(300, 300))
        pages.append(buffer.getvalue())
    scan = tmp_path / "three.pdf"
    scan.write_bytes(img2pdf.convert(pages))
    result = pdfocr.convert(scan, tmp_path / "out.pdf", engine=FailingEngine(fail_on=1), skip_bad_pages=True)
    assert [page.number for page in result.pages] == [1, 3]  # page 2 is kept in the PDF, unread
    records = [json.loads(line) for line in result.to_json_lines().splitlines()]
    assert [r["page"] for r in records if r["type"] == "page"] == [1, 3]
    assert list(result.to_page_xml()) == ["page-0001.xml", "page-0003.xml"]


def test_the_readmes_example_runs(cli, tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    (line,) = [text for text in readme.splitlines() if text.startswith("pdfocr scans/ -o scans.pdf --hocr")]
    (tmp_path / "scans").mkdir()
    for name in ("page1.png", "page3.png"):
        (tmp_path / "scans" / name).write_bytes((SAMPLE / name).read_bytes())
    run = cli(*line.split()[1:], cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert etree.parse(str(tmp_path / "scans.hocr")).getroot().tag == f"{XHTML}html"
    assert len(etree.parse(str(tmp_path / "scans.alto.xml")).getroot().findall(f".//{ALTO}Page")) == 2
    assert sorted(p.name for p in (tmp_path / "scans.page").iterdir()) == ["page-0001.xml", "page-0002.xml"]
    assert (tmp_path / "scans.jsonl").read_text().count('"type":"page"') == 2
