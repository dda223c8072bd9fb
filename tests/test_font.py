from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import ROOT
from fontTools.ttLib import TTFont

FONT = ROOT / "pdfocr" / "fonts" / "glyphless.ttf"


def test_committed_font_is_what_the_script_makes(tmp_path: Path) -> None:
    committed = FONT.read_bytes()
    try:
        subprocess.run([sys.executable, str(ROOT / "scripts" / "make_glyphless_font.py")], check=True)
        assert FONT.read_bytes() == committed
    finally:
        FONT.write_bytes(committed)


def test_font_maps_all_of_unicode_to_a_glyph_that_paints_nothing() -> None:
    font = TTFont(str(FONT))
    cmap = font.getBestCmap()
    for char in "Aé中あ한שم𝔘\U0010fffd":
        assert cmap[ord(char)] == "blank"
    assert len(cmap) > 1_100_000
    glyph = font["glyf"]["blank"]
    # Two one-point contours: no area to paint, but a box for extractors: the em box,
    # a little wider than the advance, so that boxes of text in a row overlap.
    assert glyph.numberOfContours == 2 and glyph.endPtsOfContours == [0, 1]
    assert list(glyph.coordinates) == [(-5, -200), (505, 800)]
    head = font["head"]
    assert (head.xMin, head.yMin, head.xMax, head.yMax) == (-5, -200, 505, 800)


def test_the_text_paints_nothing_even_when_drawn_visible(tmp_path: Path) -> None:
    import pikepdf
    import pypdfium2 as pdfium
    from PIL import Image, ImageChops

    import pdfocr

    output = tmp_path / "out.pdf"
    pdfocr.convert(ROOT / "samples" / "page3.png", output, output_type="pdf")
    with pikepdf.open(output) as document:  # the same text, in fill mode (0) instead of 3
        page = document.pages[0]
        contents = page.obj.Contents
        for stream in contents if isinstance(contents, pikepdf.Array) else [contents]:
            stream.write(stream.read_bytes().replace(b"3 Tr", b"0 Tr"))
        document.save(tmp_path / "visible.pdf")
    shown = []
    for pdf in (output, tmp_path / "visible.pdf"):
        subprocess.run(
            ["pdftoppm", "-r", "72", "-gray", "-png", "-singlefile", str(pdf), str(pdf)], check=True
        )
        shown.append(Image.open(f"{pdf}.png").convert("L"))
        shown.append(pdfium.PdfDocument(str(pdf))[0].render(scale=1).to_pil().convert("L"))
    assert ImageChops.difference(shown[0], shown[2]).getbbox() is None  # poppler
    assert ImageChops.difference(shown[1], shown[3]).getbbox() is None  # PDFium
