"""Archival output: PDF/A-1b, 2b and 3b (and plain PDF), validated from the bytes written,
with nothing lost against the plain PDF: images byte for byte, the text layer, the look
of every page. PDF/A-1b files also pass Apache PDFBox's Preflight where Java has it."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from pathlib import Path

import img2pdf
import pikepdf
import pytest
from conftest import pdftotext
from pdfminer.high_level import extract_text as pdfminer_text
from pikepdf import pdfa
from PIL import Image, ImageChops, ImageCms, ImageStat
from pypdf import PdfReader
from reportlab.pdfgen.canvas import Canvas

import pdfocr
from pdfocr.colourprofile import cmyk_profile

SAMPLE = Path(__file__).resolve().parent.parent / "samples"
FLAVOURS = {"pdfa-1": "1b", "pdfa-2": "2b", "pdfa-3": "3b", "pdfa": "2b", "auto": "2b"}
PREFLIGHT_JARS = [
    Path("/usr/share/java") / name
    for name in (
        "preflight.jar",
        "pdfbox2.jar",
        "xmpbox.jar",
        "fontbox2.jar",
        "commons-logging.jar",
        "javax.activation.jar",
        "jaxb-api.jar",
    )
]


def _crop() -> Image.Image:
    """A few lines of the first sample page, small enough to read fast."""
    page = Image.open(SAMPLE / "page1.png").convert("L")
    return page.crop((0, 0, page.width, page.height // 3))


def _save(image: Image.Image, path: Path, **options: object) -> Path:
    image.save(path, dpi=(300, 300), **options)
    return path


@pytest.fixture(scope="module")
def every_kind(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """One page of every image kind pdfocr supports, CMYK among RGB ones."""
    folder = tmp_path_factory.mktemp("kinds")
    gray = _crop()
    rgb = Image.merge("RGB", [gray, gray, gray.point(lambda v: min(255, v + 40))])  # tinted paper
    return [
        _save(gray, folder / "01-gray.png"),
        _save(rgb, folder / "02-rgb.png"),
        _save(rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=16), folder / "03-palette.png"),
        _save(gray.point(lambda v: 255 if v > 128 else 0).convert("1"), folder / "04-bilevel.png"),
        _save(gray.convert("I;16"), folder / "05-16bit.png"),
        _save(rgb.convert("RGBA"), folder / "06-alpha.png"),
        _save(gray, folder / "07-gray.jpg", quality=90),
        _save(rgb, folder / "08-rgb.jpg", quality=90),
        _save(rgb.convert("CMYK"), folder / "09-cmyk.jpg", quality=90),
        _save(gray.convert("1"), folder / "10-fax.tif", compression="group4"),
        _save(rgb, folder / "11-lzw.tif", compression="tiff_lzw"),
        _save(gray, folder / "12-plain.bmp"),
        _save(rgb.convert("P"), folder / "13-palette.gif"),
        _save(rgb, folder / "14-lossless.webp", lossless=True),
    ]


@pytest.fixture(scope="module")
def plain(every_kind: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("plain") / "plain.pdf"
    result = pdfocr.convert(every_kind, output, output_type="pdf")
    assert result.output_type == "pdf"
    with pikepdf.open(output) as document:
        assert "/OutputIntents" not in document.Root
    return output


def _images(pdf: Path) -> list[tuple[str, bytes]]:
    """Every image of every page: its filter and its raw (still encoded) bytes."""
    with pikepdf.open(pdf) as document:
        return [
            (repr(image.get("/Filter")), image.read_raw_bytes())
            for page in document.pages
            for image in page.get_images().values()
        ]


def _rendered(pdf: Path, folder: Path) -> list[Image.Image]:
    folder.mkdir(exist_ok=True)
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(folder / "page")], check=True)
    return [Image.open(path).convert("RGB") for path in sorted(folder.glob("page-*.png"))]


def _difference(a: Image.Image, b: Image.Image) -> float:
    return max(ImageStat.Stat(ImageChops.difference(a, b)).mean)


def _preflight(pdf: Path) -> subprocess.CompletedProcess[str]:
    classpath = ":".join(str(jar) for jar in PREFLIGHT_JARS)
    return subprocess.run(
        ["java", "-cp", classpath, "org.apache.pdfbox.preflight.Validator_A1b", str(pdf)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def _has_preflight() -> bool:
    return shutil.which("java") is not None and all(jar.exists() for jar in PREFLIGHT_JARS)


@pytest.mark.parametrize("output_type", ["pdfa-1", "pdfa-2", "pdfa-3", "pdfa", "auto"])
def test_every_image_kind_as_pdfa_loses_nothing(
    tmp_path: Path, every_kind: list[Path], plain: Path, output_type: str
) -> None:
    output = tmp_path / "archival.pdf"
    flavour = FLAVOURS[output_type]
    if flavour == "1b":
        # PDF/A-1 is PDF 1.4, which has no 16-bit images; pdfocr keeps the PNG's 16 bits.
        with pytest.raises(pdfocr.ArchivalError, match=r"05-16bit.png: .*\(ISO_19005_1:[^)]*\)$"):
            pdfocr.convert(every_kind, output, output_type=output_type)
        assert not output.exists()
        every_kind = [path for path in every_kind if "16bit" not in path.name]
        plain = tmp_path / "plain.pdf"
        pdfocr.convert(every_kind, plain, output_type="pdf")
    result = pdfocr.convert(every_kind, output, output_type=output_type)
    assert result.output_type == f"pdfa-{flavour[0]}"
    report = pdfa.validate_written(output, flavour)
    assert report.passed, report.summary()
    # Nothing lost: the very image bytes, the same text everywhere, the same look.
    assert _images(output) == _images(plain)
    assert pdftotext(output) == pdftotext(plain)
    assert [page.extract_text() for page in PdfReader(output).pages] == [
        page.extract_text() for page in PdfReader(plain).pages
    ]
    assert pdfminer_text(output) == pdfminer_text(plain)
    shown, before = _rendered(output, tmp_path / "a"), _rendered(plain, tmp_path / "p")
    assert len(shown) == len(before) == len(every_kind)
    for number, (page, original) in enumerate(zip(shown, before, strict=True), start=1):
        # The CMYK photo among RGB pages is shown through pdfocr's CMYK profile (within
        # a few levels in poppler); every other page exactly as in the plain PDF.
        cmyk = "cmyk" in every_kind[number - 1].name
        assert _difference(page, original) <= (4 if cmyk else 0), number
    if flavour == "1b" and _has_preflight():
        checked = _preflight(output)
        assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_output_intent_fits_the_pages(tmp_path: Path, every_kind: list[Path]) -> None:
    cmyk_only = [every_kind[8], every_kind[0], every_kind[9]]  # CMYK, gray and 1-bit pages
    output, plain = tmp_path / "cmyk.pdf", tmp_path / "plain.pdf"
    pdfocr.convert(cmyk_only, output, output_type="pdfa-1")
    pdfocr.convert(cmyk_only, plain, output_type="pdf")
    with pikepdf.open(output) as document:
        (intent,) = document.Root.OutputIntents
        assert intent.DestOutputProfile.read_bytes()[16:20] == b"CMYK"
        for page in document.pages:  # RGB, should a page paint any, is sRGB
            assert page.obj.Resources.ColorSpace.DefaultRGB[1].read_bytes()[16:20] == b"RGB "
    shown, before = _rendered(output, tmp_path / "a"), _rendered(plain, tmp_path / "p")
    for page, original in zip(shown, before, strict=True):
        assert _difference(page, original) == 0  # DeviceCMYK shown exactly as before
    if _has_preflight():
        checked = _preflight(output)
        assert checked.returncode == 0, checked.stdout + checked.stderr
    mixed = tmp_path / "mixed.pdf"
    pdfocr.convert([every_kind[1], every_kind[8]], mixed)
    with pikepdf.open(mixed) as document:
        (intent,) = document.Root.OutputIntents
        assert intent.DestOutputProfile.read_bytes()[16:20] == b"RGB "
        # The CMYK photo among RGB pages: its colours given by pdfocr's CMYK profile.
        default = document.pages[1].obj.Resources.ColorSpace.DefaultCMYK
        assert default[1].read_bytes() == cmyk_profile()


def test_the_cmyk_profile_shows_cmyk_as_screens_do() -> None:
    profile = ImageCms.ImageCmsProfile(io.BytesIO(cmyk_profile()))
    assert ImageCms.getProfileDescription(profile).strip() == "pdfocr CMYK (as screens show DeviceCMYK)"
    assert cmyk_profile.__wrapped__() == cmyk_profile()  # the same bytes every time
    to_screen = ImageCms.buildTransform(profile, ImageCms.createProfile("sRGB"), "CMYK", "RGB")
    photo = Image.open(SAMPLE / "page2.jpg").convert("RGB").resize((300, 400))
    colours = Image.merge("RGB", [Image.linear_gradient("L").resize((300, 400))] * 2 + [photo.split()[0]])
    for image in (photo, colours):
        cmyk = image.convert("CMYK")
        shown = ImageCms.applyTransform(cmyk, to_screen)
        assert shown is not None
        assert _difference(shown, cmyk.convert("RGB")) < 3  # Pillow's DeviceCMYK: 1 - ink


def _with_title(scan: Path, path: Path, **docinfo: str) -> Path:
    with pikepdf.open(scan) as document:
        for key, value in docinfo.items():
            document.docinfo[f"/{key}"] = value
        with document.open_outline() as outline:
            outline.root.append(pikepdf.OutlineItem("Start", 0))
        document.save(path)
    return path


@pytest.mark.parametrize("output_type", ["auto", "pdfa-1", "pdfa-3"])
def test_a_scanned_pdf_becomes_pdfa_with_its_metadata_carried_over(tmp_path: Path, output_type: str) -> None:
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(img2pdf.convert([SAMPLE / "page1.png", SAMPLE / "page2.jpg"]))
    made = {"Title": "Minutes", "Author": "Records office", "CreationDate": "D:20240102030405Z"}
    source = _with_title(scan, tmp_path / "minutes.pdf", **made)
    output = tmp_path / "out.pdf"
    result = pdfocr.convert(source, output, output_type=output_type)
    flavour = FLAVOURS[output_type]
    assert result.output_type == f"pdfa-{flavour[0]}"
    assert pdfa.validate_written(output, flavour).passed
    assert "memo number 237" in pdftotext(output)
    if flavour == "1b" and _has_preflight():
        checked = _preflight(output)
        assert checked.returncode == 0, checked.stdout + checked.stderr
    with pikepdf.open(output) as document, pikepdf.open(source) as before:
        metadata = document.open_metadata()
        assert metadata["dc:title"] == "Minutes" and str(document.docinfo["/Title"]) == "Minutes"
        assert metadata["dc:creator"] == ["Records office"]
        assert metadata["xmp:CreateDate"].startswith("2024-01-02T03:04:05")  # when it was made
        assert str(document.docinfo["/Producer"]).startswith("pdfocr ")
        assert metadata["pdf:Producer"] == str(document.docinfo["/Producer"])
        with document.open_outline() as outline:
            assert [item.title for item in outline.root] == ["Start"]
        for new, old in zip(document.pages, before.pages, strict=True):
            for name, image in old.get_images().items():
                assert new.get_images()[name].read_raw_bytes() == image.read_raw_bytes()


@pytest.mark.parametrize("output_type", ["pdf", "pdfa-2"])
def test_title_author_subject_and_keywords(tmp_path: Path, cli, output_type: str) -> None:
    output = tmp_path / "out.pdf"
    run = cli(
        str(SAMPLE / "page3.png"),
        "-o",
        str(output),
        "--output-type",
        output_type,
        "--title",
        "Quarterly report",
        "--author",
        "Ann Example",
        "--subject",
        "Shipping costs",
        "--keywords",
        "costs, depots",
    )
    assert run.returncode == 0, run.stderr
    assert ("(PDF/A-2b)" if output_type == "pdfa-2" else "(PDF)") in run.stderr
    with pikepdf.open(output) as document:
        info, metadata = document.docinfo, document.open_metadata()
        assert str(info["/Title"]) == metadata["dc:title"] == "Quarterly report"
        assert str(info["/Author"]) == "Ann Example" and metadata["dc:creator"] == ["Ann Example"]
        assert str(info["/Subject"]) == metadata["dc:description"] == "Shipping costs"
        assert str(info["/Keywords"]) == metadata["pdf:Keywords"] == "costs, depots"
        assert str(info["/Producer"]) == metadata["pdf:Producer"] == f"pdfocr {pdfocr.__version__}"
        assert str(info["/CreationDate"]).startswith("D:2") and metadata["xmp:ModifyDate"].startswith("2")


def _typed_page(path: Path) -> Path:
    """A born-digital page in a font that is not embedded and has no free substitute
    (Symbol; tests/test_font_substitutes.py has those that do): PDF/A forbids it."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(612, 792))
    canvas.setFont("Symbol", 12)
    canvas.drawString(72, 700, "abgd")
    canvas.save()
    path.write_bytes(buffer.getvalue())
    return path


def test_what_cannot_be_pdfa(tmp_path: Path, cli) -> None:
    typed = _typed_page(tmp_path / "typed.pdf")
    scan = SAMPLE / "page1.png"
    output = tmp_path / "out.pdf"
    # By default: plain PDF, and one warning line saying why.
    run = cli(str(scan), str(typed), "-o", str(output))
    assert run.returncode == 0, run.stderr
    warning, summary = run.stderr.strip().splitlines()
    assert warning.startswith(f"pdfocr: warning: written as plain PDF, not PDF/A: {typed}: ")
    assert "(PDF)" in summary
    with pikepdf.open(output) as document:
        assert len(document.pages) == 2 and "/OutputIntents" not in document.Root
    # Asked for: an error naming the rule, the file and the page; nothing written.
    output.write_bytes(b"previous")
    run = cli(str(scan), str(typed), "-o", str(output), "--output-type", "pdfa-2")
    assert run.returncode == 8
    (line,) = run.stderr.strip().splitlines()
    assert line.startswith(f"pdfocr: error: {output}: cannot be PDF/A-2b: {typed}: ")
    assert "ISO_19005_2:" in line or "pikepdf:" in line
    assert output.read_bytes() == b"previous"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out.pdf", "typed.pdf"]  # no leftovers
    with pytest.raises(pdfocr.ArchivalError) as caught:
        pdfocr.convert([scan, typed], output, output_type="pdfa-1")
    assert caught.value.exit_code == 8 and caught.value.file == str(output)


def test_hidden_annotations_keep_a_pdf_plain_unless_pdfa_is_asked_for(tmp_path: Path) -> None:
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(img2pdf.convert(SAMPLE / "page1.png"))
    with pikepdf.open(scan) as document:
        note = pikepdf.Dictionary(
            Type=pikepdf.Name.Annot,
            Subtype=pikepdf.Name.Text,
            Rect=[10, 10, 30, 30],
            F=2,  # hidden
        )
        document.pages[0].obj.Annots = document.make_indirect(pikepdf.Array([document.make_indirect(note)]))
        document.save(tmp_path / "noted.pdf")
    with pytest.warns(pdfocr.PdfocrWarning, match=r"written as plain PDF, not PDF/A: .*[Aa]nnotation"):
        result = pdfocr.convert(tmp_path / "noted.pdf", tmp_path / "kept.pdf")
    assert result.output_type == "pdf"
    with pikepdf.open(tmp_path / "kept.pdf") as document:
        assert len(document.pages[0].obj.Annots) == 1  # nothing lost
    with pytest.warns(pdfocr.PdfocrWarning, match=r"[Aa]nnotation"):
        result = pdfocr.convert(tmp_path / "noted.pdf", tmp_path / "archival.pdf", output_type="pdfa")
    assert result.output_type == "pdfa-2"
    assert pdfa.validate_written(tmp_path / "archival.pdf", "2b").passed


def test_an_input_pdfs_own_output_intent_and_default_colours_are_kept(tmp_path: Path) -> None:
    earlier = tmp_path / "earlier.pdf"
    pdfocr.convert(SAMPLE / "page2.jpg", earlier, output_type="pdfa-2", ocr_max_megapixels=50)
    with pikepdf.open(earlier) as document:  # an archival PDF from elsewhere, CMYK intent...
        intent = document.Root.OutputIntents[0]
        intent.DestOutputProfile = document.make_stream(cmyk_profile(), N=4)
        intent.OutputConditionIdentifier = "Press of the records office"
        page = document.pages[0]  # ... that says what its RGB means
        own = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
        page.obj.Resources.ColorSpace = pikepdf.Dictionary(
            DefaultRGB=pikepdf.Array([pikepdf.Name.ICCBased, document.make_stream(own, N=3)])
        )
        document.save(tmp_path / "press.pdf")
    output = tmp_path / "out.pdf"
    result = pdfocr.convert([tmp_path / "press.pdf", SAMPLE / "page3.png"], output)
    assert result.output_type == "pdfa-2", result
    with pikepdf.open(output) as document:
        (intent,) = document.Root.OutputIntents
        assert str(intent.OutputConditionIdentifier) == "Press of the records office"
        assert document.pages[0].obj.Resources.ColorSpace.DefaultRGB[1].read_bytes() == own


def test_forms_that_draw_each_other_are_refused_not_followed_forever(tmp_path: Path) -> None:
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(img2pdf.convert(str(every_kind_cmyk(tmp_path))))
    with pikepdf.open(scan) as document:
        first = document.make_indirect(document.make_stream(b"/Other Do"))
        second = document.make_indirect(document.make_stream(b"/Other Do"))
        for form, other in ((first, second), (second, first)):
            form.Type, form.Subtype, form.BBox = pikepdf.Name.XObject, pikepdf.Name.Form, [0, 0, 10, 10]
            form.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Other=other))
        page = document.pages[0]
        page.obj.Resources.XObject.Loop = first
        page.obj.Contents = document.make_stream(page.obj.Contents.read_bytes() + b"\n/Loop Do")
        document.save(tmp_path / "loop.pdf")
    output = tmp_path / "out.pdf"
    # A CMYK scan: RGB is given its meaning in every form's resources, each form once, so
    # the walk ends; PDF/A then refuses the cycle itself, in one clear line.
    with pytest.raises(pdfocr.ArchivalError, match=r"loop.pdf: .*draws itself"):
        pdfocr.convert(tmp_path / "loop.pdf", output, output_type="pdfa-2")
    with pytest.warns(pdfocr.PdfocrWarning, match=r"written as plain PDF, not PDF/A: .*draws itself"):
        result = pdfocr.convert(tmp_path / "loop.pdf", output)
    assert result.output_type == "pdf" and "memo number 237" in pdftotext(output)
    with pikepdf.open(output) as document:
        assert document.pages[0].obj.Resources.XObject.Loop.Resources.XObject.Other.objgen != (0, 0)


def every_kind_cmyk(folder: Path) -> Path:
    return _save(_crop().convert("CMYK"), folder / "cmyk.jpg", quality=90)


def test_pdfa_to_stdout(tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "pdfocr",
        str(SAMPLE / "page3.png"),
        "-o",
        "-",
        "--output-type",
        "pdfa-1",
    ]
    run = subprocess.run(command, capture_output=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    (tmp_path / "out.pdf").write_bytes(run.stdout)
    assert pdfa.validate_written(tmp_path / "out.pdf", "1b").passed
    assert b"wrote stdout (PDF/A-1b)" in run.stderr
    assert list(tmp_path.iterdir()) == [tmp_path / "out.pdf"]


def test_a_file_that_fails_validation_once_written_is_never_presented_as_pdfa(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(path: object, flavour: object, save_kwargs: object = None) -> pdfa.Report:
        report = pdfa.Report(pdfa.Flavour(str(flavour)))
        report.findings.append(pdfa.Finding("ISO_19005_2:0-0", "obj 1 0", "refused for the test"))
        return report

    # pikepdf.pdfa.save validates what it wrote with this function of its own module.
    monkeypatch.setattr("pikepdf.pdfa._api.validate_written", refuse)
    output = tmp_path / "out.pdf"
    output.write_bytes(b"previous")
    source = SAMPLE / "page3.png"
    with pytest.raises(pdfocr.ArchivalError, match="refused for the test"):
        pdfocr.convert(source, output, output_type="pdfa-2", engine=_echo())
    assert output.read_bytes() == b"previous"
    assert [path.name for path in tmp_path.iterdir()] == ["out.pdf"]
    with pytest.warns(
        pdfocr.PdfocrWarning, match=r"written as plain PDF, not PDF/A: .*page3.png: refused for the test"
    ):
        result = pdfocr.convert(source, output, engine=_echo())
    assert result.output_type == "pdf"
    with pikepdf.open(output) as document:
        assert "/OutputIntents" not in document.Root


def _echo() -> object:
    from fakes import EchoEngine

    return EchoEngine()
