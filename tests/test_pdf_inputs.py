"""Scanned PDFs in: every original page kept as it was, a text layer grafted on; pages
that already have text kept; PDFs that cannot be converted refused in one line. The
test PDFs are built here (img2pdf, pikepdf, reportlab), from the sample scans."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import img2pdf
import pikepdf
import pypdfium2 as pdfium
import pytest
from conftest import pdftotext, pdftotext_words, words_of
from PIL import Image
from reportlab.pdfgen.canvas import Canvas

import pdfocr

SAMPLE = Path(__file__).resolve().parent.parent / "samples"


def _png(image: Image.Image, dpi: int = 300) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", dpi=(dpi, dpi))
    return buffer.getvalue()


def _scan(path: Path, *images: bytes | Path, rotation: int = 0) -> Path:
    path.write_bytes(img2pdf.convert(list(images), rotation=img2pdf.Rotation[str(rotation)]))
    return path


def _qpdf_check(pdf: Path) -> None:
    assert subprocess.run(["qpdf", "--check", str(pdf)], capture_output=True).returncode == 0


@pytest.fixture(scope="module")
def sample_text(expected_sample_pages: list[str]) -> list[str]:
    return expected_sample_pages


def test_a_scanned_pdf_becomes_searchable_with_every_page_kept_as_it_was(
    tmp_path: Path, sample_text: list[str]
) -> None:
    scan = _scan(tmp_path / "scan.pdf", SAMPLE / "page1.png", SAMPLE / "page2.jpg")
    output = tmp_path / "out.pdf"
    result = pdfocr.convert(scan, output)
    assert result.page_count == 2 and result.kept_count == 0
    pages = pdftotext(output).split("\f")
    for got, want in zip(pages, sample_text[:2], strict=False):
        assert words_of(got) == words_of(want)
    with pikepdf.open(scan) as before, pikepdf.open(output) as after:
        for old, new in zip(before.pages, after.pages, strict=True):
            assert new.mediabox == old.mediabox
            # The page's own content stream and image are the very bytes they were.
            assert old.obj.Contents.read_raw_bytes() in [c.read_raw_bytes() for c in new.obj.Contents]
            assert (
                new.obj.Resources.XObject.Im0.read_raw_bytes()
                == old.obj.Resources.XObject.Im0.read_raw_bytes()
            )
    _qpdf_check(output)


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_a_page_shown_upright_by_rotate_is_read_as_a_reader_sees_it(tmp_path: Path, rotation: int) -> None:
    upright = Image.open(SAMPLE / "page1.png").convert("L")
    straight = _scan(tmp_path / "straight.pdf", _png(upright))
    sideways = _scan(
        tmp_path / "sideways.pdf", _png(upright.rotate(rotation, expand=True)), rotation=rotation
    )
    pdfocr.convert(straight, tmp_path / "straight-ocr.pdf")
    pdfocr.convert(sideways, tmp_path / "sideways-ocr.pdf")
    (want,) = pdftotext_words(tmp_path / "straight-ocr.pdf")
    (got,) = pdftotext_words(tmp_path / "sideways-ocr.pdf")
    assert [w.text for w in got] == [w.text for w in want]  # read upright, in reading order
    for a, b in zip(got, want, strict=True):  # and each word where the reader sees it
        assert (a.left, a.top, a.right, a.bottom) == pytest.approx((b.left, b.top, b.right, b.bottom), abs=1)
    with pikepdf.open(tmp_path / "sideways-ocr.pdf") as document:
        assert document.pages[0].obj.Rotate == rotation


def test_a_media_box_away_from_the_origin_and_a_crop_box(tmp_path: Path) -> None:
    pdf = pikepdf.open(io.BytesIO(img2pdf.convert(SAMPLE / "page1.png")))
    page = pdf.pages[0]
    width, height = float(page.mediabox[2]), float(page.mediabox[3])
    page.obj.MediaBox = pikepdf.Array([100, 200, 100 + width, 200 + height])
    page.obj.CropBox = pikepdf.Array([110, 215, 90 + width, 190 + height])
    page.obj.Contents = pikepdf.Stream(
        pdf, b"q 1 0 0 1 100 200 cm\n" + page.obj.Contents.read_bytes() + b"\nQ"
    )
    source = tmp_path / "offset.pdf"
    pdf.save(source)
    output = tmp_path / "out.pdf"
    pdfocr.convert(source, output)
    with pikepdf.open(output) as document:
        boxes = [float(v) for v in [*document.pages[0].mediabox, *document.pages[0].cropbox]]
        assert boxes == pytest.approx(
            [100, 200, 100 + width, 200 + height, 110, 215, 90 + width, 190 + height]
        )
    # "Page" starts 55 pt from the image's left edge, and the image from x = 100.
    text_page = pdfium.PdfDocument(str(output))[0].get_textpage()
    assert text_page.get_text_range().startswith("Page 1: memo")
    assert text_page.get_charbox(0)[0] == pytest.approx(155, abs=2)


def test_running_on_its_own_output_changes_nothing_and_never_doubles_the_text(tmp_path: Path) -> None:
    scan = _scan(tmp_path / "scan.pdf", SAMPLE / "page1.png", SAMPLE / "page3.png")
    first, second = tmp_path / "first.pdf", tmp_path / "second.pdf"
    pdfocr.convert(scan, first)
    result = pdfocr.convert(first, second, sidecar=tmp_path / "second.txt")
    assert result.kept_count == 2
    assert pdftotext(second).count("memo number 237") == pdftotext(first).count("memo number 237") == 1
    assert words_of((tmp_path / "second.txt").read_text())[:4] == words_of(pdftotext(first))[:4]
    with pikepdf.open(first) as a, pikepdf.open(second) as b:
        for old, new in zip(a.pages, b.pages, strict=True):
            assert [c.read_bytes() for c in new.obj.Contents] == [c.read_bytes() for c in old.obj.Contents]


def test_born_digital_and_vector_pages_are_kept_scanned_ones_read(tmp_path: Path) -> None:
    born = io.BytesIO()
    canvas = Canvas(born, pagesize=(612, 792))
    canvas.drawString(72, 700, "Typed invoice text")
    canvas.showPage()
    canvas.line(72, 72, 500, 500)  # a drawing, no text, no image
    canvas.showPage()
    canvas.save()
    digital = tmp_path / "digital.pdf"
    digital.write_bytes(born.getvalue())
    mixed = tmp_path / "mixed.pdf"
    with (
        pikepdf.open(digital) as document,
        pikepdf.open(_scan(tmp_path / "s.pdf", SAMPLE / "page1.png")) as scan,
    ):
        document.pages.append(scan.pages[0])
        document.save(mixed)
    output = tmp_path / "out.pdf"
    result = pdfocr.convert(mixed, output)
    assert [page.kept for page in result.pages] == [True, True, False]
    pages = pdftotext(output).split("\f")
    assert words_of(pages[0]) == ["Typed", "invoice", "text"]
    assert words_of(pages[1]) == []
    assert words_of(pages[2])[:4] == ["Page", "1", "memo", "number"]


def test_the_document_keeps_its_outline_labels_and_metadata(tmp_path: Path) -> None:
    source = tmp_path / "book.pdf"
    with pikepdf.open(_scan(tmp_path / "s.pdf", SAMPLE / "page1.png", SAMPLE / "page2.jpg")) as document:
        with document.open_outline() as outline:
            outline.root.append(pikepdf.OutlineItem("Chapter two", 1))
        document.Root.PageLabels = pikepdf.Dictionary(
            Nums=pikepdf.Array([0, pikepdf.Dictionary(S=pikepdf.Name.r)])
        )
        document.docinfo["/Title"] = "Minutes of the board"
        document.save(source)
    output = tmp_path / "out.pdf"
    pdfocr.convert(source, output)
    with pikepdf.open(output) as document:
        with document.open_outline() as outline:
            (item,) = outline.root
            assert item.title == "Chapter two"
            assert item.destination[0] == document.pages[1].obj  # still the right page
        assert document.Root.PageLabels.Nums[1].S == "/r"
        assert str(document.docinfo["/Title"]) == "Minutes of the board"


def test_a_linearized_pdf_stays_linearized(tmp_path: Path) -> None:
    source = tmp_path / "web.pdf"
    with pikepdf.open(_scan(tmp_path / "s.pdf", SAMPLE / "page1.png", SAMPLE / "page3.png")) as document:
        document.save(source, linearize=True)
    pdfocr.convert(source, tmp_path / "out.pdf")
    assert "memo number 237" in pdftotext(tmp_path / "out.pdf")
    check = subprocess.run(["qpdf", "--check-linearization", str(tmp_path / "out.pdf")], capture_output=True)
    assert check.returncode == 0, check.stdout
    with pikepdf.open(_scan(tmp_path / "s.pdf", SAMPLE / "page1.png")) as document:
        document.save(tmp_path / "plain.pdf")  # img2pdf's own files are linearized
    pdfocr.convert(tmp_path / "plain.pdf", tmp_path / "plain-out.pdf")
    with pikepdf.open(tmp_path / "plain-out.pdf") as document:
        assert not document.is_linearized  # only what was linearized


def test_pdfs_mix_with_images_and_folders_in_the_order_given(tmp_path: Path, cli) -> None:
    folder = tmp_path / "scans"
    folder.mkdir()
    _scan(folder / "b2.pdf", SAMPLE / "page3.png")
    (folder / "b10.png").write_bytes((SAMPLE / "page1.png").read_bytes())
    first = _scan(tmp_path / "a.pdf", SAMPLE / "page2.jpg")
    output = tmp_path / "out.pdf"
    run = cli(str(first), str(folder), str(SAMPLE / "page10.tif"), "-o", str(output))
    assert run.returncode == 0, run.stderr
    pages = pdftotext(output).split("\f")
    assert [words_of(page)[:2] for page in pages[:5]] == [
        ["Page", "2"],
        ["Page", "3"],
        ["Page", "1"],
        *[words_of(page)[:2] for page in pages[3:5]],
    ]
    assert len(pikepdf.open(output).pages) == 5
    _qpdf_check(output)


def test_a_pdf_given_as_bytes(tmp_path: Path) -> None:
    data = img2pdf.convert(SAMPLE / "page1.png")
    result = pdfocr.convert([data, data], tmp_path / "out.pdf")
    assert result.page_count == 2
    assert pdftotext(tmp_path / "out.pdf").count("memo number 237") == 2


def _encrypted(path: Path, user: str) -> Path:
    with pikepdf.open(_scan(path.with_suffix(".plain.pdf"), SAMPLE / "page1.png")) as document:
        document.save(
            path,
            encryption=pikepdf.Encryption(
                user=user, owner="owner-secret", allow=pikepdf.Permissions(extract=False)
            ),
        )
    return path


def test_pdfs_that_cannot_be_converted_are_refused_in_one_line(tmp_path: Path, cli) -> None:
    locked = _encrypted(tmp_path / "locked.pdf", user="secret")
    empty = tmp_path / "empty.pdf"
    with pikepdf.new() as document:
        document.save(empty)
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(b"%PDF-1.7\n" + b"\x00" * 40)
    xfa = tmp_path / "xfa.pdf"
    signed = tmp_path / "signed.pdf"
    for path, entries in (
        (xfa, {"/XFA": pikepdf.Array(), "/Fields": pikepdf.Array()}),
        (signed, {"/SigFlags": 3, "/Fields": pikepdf.Array()}),
    ):
        with pikepdf.open(_scan(tmp_path / "plain.pdf", SAMPLE / "page1.png")) as document:
            document.Root.AcroForm = pikepdf.Dictionary(entries)
            if path is xfa:
                document.Root.NeedsRendering = True
            document.save(path)
    cases = {
        locked: "the PDF needs a password to open",
        empty: "the PDF has no pages",
        cut: "corrupt PDF that cannot be repaired",
        xfa: "a dynamic XFA form",
        signed: "digitally signed: adding a text layer would invalidate the signature",
    }
    output = tmp_path / "out.pdf"
    output.write_bytes(b"previous")
    for path, reason in cases.items():
        run = cli(str(path), "-o", str(output))
        assert run.returncode == 3, (path, run.stderr)
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"pdfocr: error: {path}: {reason}"), lines
        assert output.read_bytes() == b"previous"
    anyway = cli(str(signed), "-o", str(output), "--invalidate-digital-signatures")
    assert anyway.returncode == 0, anyway.stderr
    assert f"{signed}: digitally signed; the output's copy of the signature no longer holds" in anyway.stderr
    assert "memo number 237" in pdftotext(output)


def test_a_pdf_with_owner_restrictions_only_is_converted(tmp_path: Path) -> None:
    restricted = _encrypted(tmp_path / "restricted.pdf", user="")
    output = tmp_path / "out.pdf"
    pdfocr.convert(restricted, output)
    assert "memo number 237" in pdftotext(output)


def _page_of_images(
    path: Path, page_size: tuple[float, float], images: list[tuple[pikepdf.Stream, tuple[float, ...]]]
) -> Path:
    """A PDF page drawing each image stream with its matrix (a, b, c, d, e, f)."""
    with pikepdf.new() as document:
        resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary())
        content = b""
        for number, (image, matrix) in enumerate(images):
            name = f"/Im{number}"
            resources.XObject[name] = (
                document.copy_foreign(image) if image.is_indirect else document.make_indirect(image)
            )
            content += b"q " + " ".join(f"{v:g}" for v in matrix).encode() + f" cm {name} Do Q\n".encode()
        page = pikepdf.Dictionary(
            Type=pikepdf.Name.Page,
            MediaBox=pikepdf.Array([0, 0, *page_size]),
            Resources=resources,
            Contents=document.make_stream(content),
        )
        document.pages.append(pikepdf.Page(page))
        document.save(path)
    return path


def _stream(document: pikepdf.Pdf, image: Image.Image, **extra: object) -> pikepdf.Stream:
    """A raw (Flate) image stream of a 1-bit or gray image."""
    import zlib

    bits = 1 if image.mode == "1" else 8
    data = image.tobytes() if bits == 8 else image.tobytes("raw", "1")
    stream = document.make_stream(zlib.compress(data))
    stream.Type, stream.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
    stream.Width, stream.Height, stream.BitsPerComponent = image.width, image.height, bits
    stream.Filter = pikepdf.Name.FlateDecode
    if "ImageMask" not in extra:
        stream.ColorSpace = pikepdf.Name.DeviceGray
    for key, value in extra.items():
        stream[f"/{key}"] = value
    return stream


@pytest.mark.parametrize("kind", ["two strips", "inverted decode", "stencil mask"])
def test_odd_but_common_scans(tmp_path: Path, kind: str, sample_text: list[str]) -> None:
    page = Image.open(SAMPLE / "page1.png").convert("L")
    width, height = page.width * 72 / 300, page.height * 72 / 300
    scratch = pikepdf.new()
    if kind == "two strips":
        top, bottom = (
            page.crop((0, 0, page.width, page.height // 2)),
            page.crop((0, page.height // 2, page.width, page.height)),
        )
        half = bottom.height * 72 / 300
        images = [
            (_stream(scratch, top), (width, 0, 0, height - half, 0, half)),
            (_stream(scratch, bottom), (width, 0, 0, half, 0, 0)),
        ]
    elif kind == "inverted decode":
        # Stored inverted (1 is black), which /Decode [1 0] turns back.
        inverted = page.point(lambda v: 255 if v < 128 else 0).convert("1")
        images = [(_stream(scratch, inverted, Decode=pikepdf.Array([1, 0])), (width, 0, 0, height, 0, 0))]
    else:
        # Text drawn as a stencil: the mask's 0 bits are painted with the fill colour.
        bilevel = page.point(lambda v: 255 if v >= 128 else 0).convert("1")
        images = [(_stream(scratch, bilevel, ImageMask=True), (width, 0, 0, height, 0, 0))]
    source = _page_of_images(tmp_path / "odd.pdf", (width, height), images)
    output = tmp_path / "out.pdf"
    result = pdfocr.convert(source, output)
    assert result.kept_count == 0
    assert words_of(pdftotext(output))[:20] == words_of(sample_text[0])[:20]
    with pikepdf.open(source) as before, pikepdf.open(output) as after:
        for name, image in before.pages[0].obj.Resources.XObject.items():
            assert after.pages[0].obj.Resources.XObject[name].read_raw_bytes() == image.read_raw_bytes()
        # The page's own content, an uncompressed stream, is still that: not recompressed.
        raw = [stream.read_raw_bytes() for stream in after.pages[0].obj.Contents]
        assert before.pages[0].obj.Contents.read_raw_bytes() in raw
    _qpdf_check(output)


def test_force_ocr_reads_every_page_and_replaces_it_with_its_image(tmp_path: Path, cli) -> None:
    scanned = _scan(tmp_path / "scan.pdf", SAMPLE / "page1.png")
    once = tmp_path / "once.pdf"
    pdfocr.convert(scanned, once)  # now a page with text
    forced = tmp_path / "forced.pdf"
    run = cli(str(once), "-o", str(forced), "--force-ocr")
    assert run.returncode == 0, run.stderr
    assert "kept as they were" not in run.stderr
    assert pdftotext(forced).count("memo number 237") == 1  # read again, not doubled
    with pikepdf.open(forced) as document:
        (page,) = document.pages
        assert len(page.get_images()) == 1  # the page is now its rendered image
        assert [round(float(v)) for v in page.mediabox] == [0, 0, 420, 595]
    _qpdf_check(forced)


def test_force_ocr_keeps_the_pages_themselves_outline_links_labels_and_rotation(tmp_path: Path) -> None:
    upright = Image.open(SAMPLE / "page1.png").convert("L")
    source = tmp_path / "book.pdf"
    scans = [_png(upright), _png(upright.rotate(90, expand=True))]
    with pikepdf.open(io.BytesIO(img2pdf.convert(scans))) as document:
        document.pages[1].obj.Rotate = 90  # the second scan stored sideways, shown upright
        with document.open_outline() as outline:
            outline.root.append(pikepdf.OutlineItem("Second", 1))
        document.Root.PageLabels = pikepdf.Dictionary(Nums=pikepdf.Array([0, {"/S": pikepdf.Name.r}]))
        link = pikepdf.Dictionary(
            Type=pikepdf.Name.Annot,
            Subtype=pikepdf.Name.Link,
            Rect=[50, 50, 150, 80],
            Border=[0, 0, 0],
            Dest=pikepdf.Array([document.pages[1].obj, pikepdf.Name.Fit]),
        )
        document.pages[0].obj.Annots = document.make_indirect(pikepdf.Array([link]))
        document.save(source)
    forced = tmp_path / "forced.pdf"
    result = pdfocr.convert(source, forced, force_ocr=True)
    assert result.kept_count == 0
    assert [text.count("memo number 237") for text in _page_texts(forced)] == [1, 1]
    first, second = pdftotext_words(forced)
    assert [w.text for w in first] == [w.text for w in second]  # both read upright
    for a, b in zip(first, second, strict=True):  # and placed where the reader sees them
        assert (a.left, a.top) == pytest.approx((b.left, b.top), abs=1.5)
    turned = tmp_path / "turned.pdf"
    result = pdfocr.convert(source, turned, force_ocr=True, rotate_pages=True)
    assert [page.rotated for page in result.pages] == [0, 0]  # upright already, as shown
    with pikepdf.open(forced) as document:
        pages = document.pages
        with document.open_outline() as outline:
            assert outline.root[0].destination[0] == pages[1].obj
        assert document.Root.PageLabels.Nums[1].S == "/r"
        assert pages[0].obj.Annots[0].Dest[0] == pages[1].obj
        assert pages[1].obj.Rotate == 90
        assert all(len(page.get_images()) == 1 for page in pages)  # each its rendered image only
    _qpdf_check(forced)


def _page_texts(pdf: Path) -> list[str]:
    """Each page's text as PDFium reads it (it keeps characters drawn twice, poppler not)."""
    document = pdfium.PdfDocument(str(pdf))
    return [page.get_textpage().get_text_range() for page in document]


def test_the_same_pdf_twice_is_two_documents_each_page_with_one_layer(tmp_path: Path) -> None:
    scan = _scan(tmp_path / "scan.pdf", SAMPLE / "page1.png")
    output = tmp_path / "out.pdf"
    pdfocr.convert([scan, SAMPLE / "page3.png", scan], output)
    texts = _page_texts(output)
    assert [text.count("memo number 237") for text in texts] == [1, 0, 1]


def test_layers_land_on_the_words_on_odd_page_geometry(tmp_path: Path) -> None:
    # A crop box larger than the media box (PDFium shows their intersection), and page
    # content that leaves a graphics state open (its transformation must not move the layer).
    cases = {}
    for name in ("crop larger", "unclosed q"):
        pdf = pikepdf.open(io.BytesIO(img2pdf.convert(SAMPLE / "page1.png")))
        page = pdf.pages[0]
        if name == "crop larger":
            page.obj.CropBox = pikepdf.Array([-50, -50, 1000, 1000])
        else:
            page.obj.Contents = pdf.make_stream(page.obj.Contents.read_bytes() + b"\nq 1 0 0 1 50 -50 cm q\n")
        path = tmp_path / f"{name}.pdf"
        pdf.save(path)
        cases[name] = path
    for name, path in cases.items():
        output = tmp_path / f"{name}-out.pdf"
        pdfocr.convert(path, output)
        text_page = pdfium.PdfDocument(str(output))[0].get_textpage()
        assert text_page.get_text_range().startswith("Page 1: memo"), name
        assert text_page.get_charbox(0)[0] == pytest.approx(55, abs=2), name  # on the ink


def test_a_pdf_page_that_fails_is_kept_as_it_was_with_skip_bad_pages(tmp_path: Path) -> None:
    from fakes import FailingEngine, png_pages

    pages = [_png(Image.open(io.BytesIO(data))) for data in png_pages(3)]  # at 300 dpi
    source = _scan(tmp_path / "three.pdf", *pages)  # page N is 100 + N pixels wide
    output = tmp_path / "out.pdf"
    result = pdfocr.convert(source, output, engine=FailingEngine(fail_on=1), skip_bad_pages=True)
    assert [(skipped.page, skipped.reason) for skipped in result.skipped] == [(2, "engine exploded")]
    with pikepdf.open(source) as before, pikepdf.open(output) as after:
        assert len(after.pages) == 3  # the page that failed is still there
        assert after.pages[1].obj.Contents.read_raw_bytes() == before.pages[1].obj.Contents.read_raw_bytes()
    assert _page_texts(output) == ["fine", "", "fine"]


def test_pdf_names_and_headers_that_are_unusual(tmp_path: Path) -> None:
    import os

    odd_name = Path(os.fsdecode(os.fsencode(tmp_path) + b"/scan-\xff.pdf"))
    _scan(odd_name, SAMPLE / "page1.png")
    late_header = tmp_path / "bom.pdf"
    late_header.write_bytes(b"\xef\xbb\xbf\r\n" + img2pdf.convert(SAMPLE / "page1.png"))
    for source in (odd_name, late_header):
        output = tmp_path / "out.pdf"
        pdfocr.convert(source, output)
        assert "memo number 237" in pdftotext(output)


def test_restrictions_are_not_carried_over_and_stamps_are_warned_about(tmp_path: Path) -> None:
    restricted = _encrypted(tmp_path / "restricted.pdf", user="")
    output = tmp_path / "out.pdf"
    pdfocr.convert(restricted, output)
    with pikepdf.open(output) as document:
        assert not document.is_encrypted
    stamped = tmp_path / "stamped.pdf"
    with pikepdf.open(_scan(tmp_path / "s.pdf", SAMPLE / "page1.png")) as document:
        layer = io.BytesIO()
        canvas = Canvas(layer, pagesize=(420, 595))
        canvas.drawString(300, 20, "ABC000123")  # a Bates number on the scan
        canvas.save()
        with pikepdf.open(layer) as stamp:
            document.pages[0].add_overlay(stamp.pages[0])
        document.save(stamped)
    with pytest.warns(pdfocr.PdfocrWarning, match=r"only a little text on it \('ABC000123'\).*--force-ocr"):
        result = pdfocr.convert(stamped, tmp_path / "stamped-out.pdf")
    assert result.kept_count == 1


def test_a_pdf_that_needs_a_password_opens_with_it(tmp_path: Path, cli) -> None:
    locked = _encrypted(tmp_path / "locked.pdf", user="open sesame")
    output = tmp_path / "out.pdf"
    refused = cli(str(locked), "-o", str(output))
    assert refused.returncode == 3
    assert refused.stderr.strip().endswith("the PDF needs a password to open (--password)")
    wrong = cli(str(locked), "-o", str(output), "--password", "guess")
    assert wrong.returncode == 3
    assert wrong.stderr.strip().endswith("the password given does not open the PDF")
    opened = cli(str(locked), "-o", str(output), "--password", "open sesame")
    assert opened.returncode == 0, opened.stderr
    assert "memo number 237" in pdftotext(output)
    with pikepdf.open(output) as document:
        assert not document.is_encrypted
    assert "open sesame" not in repr(pdfocr.ConvertOptions(password="open sesame"))


def _encoded(image: Image.Image, format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, dpi=(300, 300), **options)
    return buffer.getvalue()


@pytest.mark.parametrize("kind", ["JPEG 2000", "CMYK JPEG", "palette PNG", "soft mask"])
def test_more_kinds_of_scanned_pages(tmp_path: Path, kind: str, sample_text: list[str]) -> None:
    page = Image.open(SAMPLE / "page1.png").convert("L")
    if kind == "JPEG 2000":
        source = _scan(tmp_path / "jpx.pdf", _encoded(page, "JPEG2000", irreversible=False))
    elif kind == "CMYK JPEG":
        source = _scan(tmp_path / "cmyk.pdf", _encoded(page.convert("CMYK"), "JPEG", quality=90))
    elif kind == "palette PNG":
        source = _scan(
            tmp_path / "palette.pdf", _encoded(page.convert("P", palette=Image.Palette.ADAPTIVE), "PNG")
        )
    else:
        width, height = page.width * 72 / 300, page.height * 72 / 300
        scratch = pikepdf.new()
        image = _stream(scratch, page)
        image.SMask = _stream(scratch, Image.new("L", page.size, 255))  # opaque everywhere
        source = _page_of_images(
            tmp_path / "smask.pdf", (width, height), [(image, (width, 0, 0, height, 0, 0))]
        )
    output = tmp_path / "out.pdf"
    result = pdfocr.convert(source, output)
    assert result.kept_count == 0, kind
    assert words_of(pdftotext(output))[:20] == words_of(sample_text[0])[:20], kind
    with pikepdf.open(source) as before, pikepdf.open(output) as after:
        for name, image in before.pages[0].obj.Resources.XObject.items():
            assert after.pages[0].obj.Resources.XObject[name].read_raw_bytes() == image.read_raw_bytes()


def test_a_broken_cross_reference_table_is_repaired_with_a_warning(tmp_path: Path) -> None:
    data = bytearray(img2pdf.convert(SAMPLE / "page1.png"))
    start = data.rindex(b"startxref")
    data[start:] = b"startxref\n999999\n%%EOF\n"  # points nowhere
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(bytes(data))
    with pytest.warns(pdfocr.PdfocrWarning, match=r"broken.pdf: a damaged PDF, repaired"):
        pdfocr.convert(broken, tmp_path / "out.pdf")
    assert "memo number 237" in pdftotext(tmp_path / "out.pdf")
    _qpdf_check(tmp_path / "out.pdf")


def test_redo_ocr_replaces_an_earlier_ocr_and_keeps_visible_text(tmp_path: Path, cli) -> None:
    scan = _scan(tmp_path / "scan.pdf", SAMPLE / "page1.png")
    ours = tmp_path / "ours.pdf"
    pdfocr.convert(scan, ours)  # an earlier OCR: pdfocr's own layer
    theirs = tmp_path / "tesseract"  # and Tesseract's own PDF renderer's
    subprocess.run(
        ["tesseract", str(SAMPLE / "page1.png"), str(theirs), "-l", "eng", "pdf"],
        check=True,
        capture_output=True,
    )
    for earlier in (ours, theirs.with_suffix(".pdf")):
        redone = tmp_path / f"{earlier.stem}-redone.pdf"
        result = pdfocr.convert(earlier, redone, redo_ocr=True)
        assert result.kept_count == 0, earlier
        assert [text.count("memo number 237") for text in _page_texts(redone)] == [1], earlier  # replaced
        with pikepdf.open(earlier) as before, pikepdf.open(redone) as after:
            for name, image in before.pages[0].obj.Resources.XObject.items():
                if image.get("/Subtype") == "/Image":
                    assert (
                        after.pages[0].obj.Resources.XObject[name].read_raw_bytes() == image.read_raw_bytes()
                    )
        _qpdf_check(redone)
    born = io.BytesIO()
    canvas = Canvas(born, pagesize=(612, 792))
    canvas.drawString(72, 700, "Typed and visible")
    canvas.save()
    typed = tmp_path / "typed.pdf"
    typed.write_bytes(born.getvalue())
    result = pdfocr.convert(typed, tmp_path / "typed-out.pdf", redo_ocr=True)
    assert result.kept_count == 1  # visible text is not an earlier OCR: kept
    both = cli(str(scan), "-o", str(tmp_path / "x.pdf"), "--redo-ocr", "--force-ocr")
    assert both.returncode == 2
    assert "exclude each other" in both.stderr


def test_redo_ocr_reads_the_scan_under_visible_text_without_doubling_either(tmp_path: Path) -> None:
    scan = _scan(tmp_path / "scan.pdf", SAMPLE / "page1.png")
    earlier = tmp_path / "earlier.pdf"
    pdfocr.convert(scan, earlier)  # an earlier OCR's invisible layer ...
    stamp = io.BytesIO()  # ... and a visible stamp typed on the page, in the margin
    with pikepdf.open(earlier) as document:
        width, height = (float(v) for v in document.pages[0].mediabox[2:])
        canvas = Canvas(stamp, pagesize=(width, height))
        canvas.setFont("Helvetica-Bold", 14)
        canvas.drawString(width - 200, height - 24, "RECEIVED DECEMBER")
        canvas.save()
        with pikepdf.open(io.BytesIO(stamp.getvalue())) as typed:
            document.pages[0].add_overlay(typed.pages[0])
        document.save(tmp_path / "stamped.pdf")
    default = pdfocr.convert(tmp_path / "stamped.pdf", tmp_path / "kept.pdf")
    assert default.kept_count == 1  # visible text: kept as it is by default
    result = pdfocr.convert(tmp_path / "stamped.pdf", tmp_path / "redone.pdf", redo_ocr=True)
    assert result.kept_count == 0
    # The stamp was masked, not read again: the page's text is the stamp, then what was read.
    assert result.pages[0].text.startswith("RECEIVED DECEMBER\n")
    assert result.pages[0].text.count("RECEIVED") == 1 and "memo number 237" in result.pages[0].text
    (text,) = _page_texts(tmp_path / "redone.pdf")
    assert text.count("memo number 237") == 1 and text.count("RECEIVED DECEMBER") == 1
    with pikepdf.open(tmp_path / "stamped.pdf") as before, pikepdf.open(tmp_path / "redone.pdf") as after:
        old, new = before.pages[0].obj.Resources, after.pages[0].obj.Resources
        assert new.XObject.Im0.read_raw_bytes() == old.XObject.Im0.read_raw_bytes()
    _qpdf_check(tmp_path / "redone.pdf")


def test_redo_ocr_finds_invisible_text_in_nested_forms_and_edits_no_shared_form(tmp_path: Path) -> None:
    document = pikepdf.open(io.BytesIO(img2pdf.convert(SAMPLE / "page1.png")))
    font = pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
    )
    hidden = document.make_stream(b"BT /F1 12 Tf 3 Tr 72 72 Td (HIDDEN SHARED) Tj ET")
    hidden.Type, hidden.Subtype, hidden.BBox = pikepdf.Name.XObject, pikepdf.Name.Form, [0, 0, 612, 792]
    hidden.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    outer = document.make_stream(b"/Inner Do")  # the text two forms deep
    outer.Type, outer.Subtype, outer.BBox = pikepdf.Name.XObject, pikepdf.Name.Form, [0, 0, 612, 792]
    outer.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Inner=hidden))
    scan = document.pages[0]
    scan.obj.Resources.XObject.Outer = outer
    scan.obj.Contents = document.make_stream(scan.obj.Contents.read_bytes() + b"\n/Outer Do")
    document.add_blank_page(page_size=(612, 792))  # a page without images draws it too
    drawing = document.pages[1]
    drawing.obj.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Outer=outer))
    drawing.obj.Contents = document.make_stream(b"/Outer Do")
    document.save(tmp_path / "nested.pdf")
    result = pdfocr.convert(tmp_path / "nested.pdf", tmp_path / "redone.pdf", redo_ocr=True)
    assert [page.kept for page in result.pages] == [False, True]
    first, second = _page_texts(tmp_path / "redone.pdf")
    assert "memo number 237" in first and "HIDDEN" not in first  # the earlier layer is gone
    assert "HIDDEN SHARED" in second  # the page kept as it was still draws its form
    _qpdf_check(tmp_path / "redone.pdf")


def test_redo_ocr_copes_with_forms_that_draw_each_other(tmp_path: Path) -> None:
    document = pikepdf.open(io.BytesIO(img2pdf.convert(SAMPLE / "page1.png")))
    font = pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
    )

    def form(content: bytes) -> pikepdf.Stream:
        made = document.make_stream(content)
        made.Type, made.Subtype, made.BBox = pikepdf.Name.XObject, pikepdf.Name.Form, [0, 0, 612, 792]
        made.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font), XObject=pikepdf.Dictionary())
        return document.make_indirect(made)

    # Two forms that draw each other (a cycle), each drawing a third that both share.
    shared = form(b"BT /F1 12 Tf 3 Tr 72 72 Td (HIDDEN) Tj ET")
    first, second = form(b"/Shared Do /Other Do"), form(b"/Shared Do /Other Do")
    first.Resources.XObject.Shared = second.Resources.XObject.Shared = shared
    first.Resources.XObject.Other, second.Resources.XObject.Other = second, first
    scan = document.pages[0]
    scan.obj.Resources.XObject.Loop = first
    scan.obj.Contents = document.make_stream(scan.obj.Contents.read_bytes() + b"\n/Loop Do")
    document.save(tmp_path / "cycle.pdf")
    result = pdfocr.convert(tmp_path / "cycle.pdf", tmp_path / "redone.pdf", redo_ocr=True)
    assert not result.pages[0].kept
    (text,) = _page_texts(tmp_path / "redone.pdf")
    assert "memo number 237" in text and "HIDDEN" not in text
    with pikepdf.open(tmp_path / "redone.pdf") as redone:
        forms = [item for item in redone.objects if isinstance(item, pikepdf.Stream) and item.get("/BBox")]
        hidden = [item for item in forms if b"HIDDEN" in item.read_bytes()]
        assert not hidden and len(forms) <= 4 + 1  # each form copied once (and the new layer)
    _qpdf_check(tmp_path / "redone.pdf")


def test_a_pdf_page_past_its_time_limit_is_named_and_can_be_skipped(tmp_path: Path) -> None:
    from fakes import HangingEngine, png_pages

    pages = [_png(Image.open(io.BytesIO(data))) for data in png_pages(3)]  # at 300 dpi
    source = _scan(tmp_path / "three.pdf", *pages)  # page N is 100 + N pixels wide
    with pytest.raises(pdfocr.EngineError) as caught:
        pdfocr.convert(source, tmp_path / "out.pdf", engine=HangingEngine(hang_on=1), page_timeout=1)
    assert str(caught.value) == f"{source} (page 2): stopped after 1 s without a result (the page timeout)"
    result = pdfocr.convert(
        source, tmp_path / "out.pdf", engine=HangingEngine(hang_on=1), page_timeout=1, skip_bad_pages=True
    )
    assert [skipped.page for skipped in result.skipped] == [2]
    assert len(pikepdf.open(tmp_path / "out.pdf").pages) == 3
