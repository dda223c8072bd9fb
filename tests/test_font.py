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


def test_font_maps_all_of_unicode_to_an_empty_glyph() -> None:
    font = TTFont(str(FONT))
    cmap = font.getBestCmap()
    for char in "Aé中あ한שم𝔘\U0010fffd":
        assert cmap[ord(char)] == "blank"
    assert font["glyf"]["blank"].numberOfContours == 0
    assert len(cmap) > 1_100_000
