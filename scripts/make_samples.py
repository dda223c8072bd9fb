"""Generate samples/: a small scan bundle and the text it holds.

    python scripts/make_samples.py

Writes a folder of pages in the shapes scanners and phones produce: PNG pages (one
with a dpi, one without), a JPEG photo-like page, and a 2-page 1-bit Group 4 TIFF;
plus samples/expected.txt, the text of every page in bundle order, pages separated by
form feeds (the format of pdfocr's --sidecar).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic_pages import SERIF, draw_page, prose

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def main() -> int:
    SAMPLES.mkdir(exist_ok=True)
    texts = []
    page1 = draw_page(prose(1), dpi=300)
    page1.image.save(SAMPLES / "page1.png", dpi=(300, 300), optimize=True)
    texts.append(page1.text)

    page2 = draw_page(prose(2), dpi=200, font=SERIF, noise=True, seed=2)
    page2.image.save(SAMPLES / "page2.jpg", dpi=(200, 200), quality=80)
    texts.append(page2.text)

    # No resolution stored: pdfocr assumes its --dpi (300 by default).
    page3 = draw_page(prose(3), dpi=300)
    page3.image.save(SAMPLES / "page3.png", optimize=True)
    texts.append(page3.text)

    frames = [draw_page(prose(n), dpi=300, font=SERIF) for n in (4, 5)]
    bilevel = [frame.image.point(lambda v: 255 if v > 128 else 0).convert("1") for frame in frames]
    bilevel[0].save(
        SAMPLES / "page10.tif",
        save_all=True,
        append_images=bilevel[1:],
        compression="group4",
        dpi=(300, 300),
    )
    texts.extend(frame.text for frame in frames)

    (SAMPLES / "expected.txt").write_text("\f".join(text + "\n" for text in texts), encoding="utf-8")
    for path in sorted(SAMPLES.iterdir()):
        print(f"{path.name:14} {path.stat().st_size:>8} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
