"""Output size on a bundle mixing every kind of scan, against the input, img2pdf (images
only, no text) and Tesseract's own PDF renderer (image + text), in one run.

    .venv/bin/python bench/size.py

Goal (issue 3): pdfocr's PDF at most 1.05 x the input bytes + 10 KB per page.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import tempfile
from pathlib import Path

import img2pdf
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from synthetic_pages import SERIF, draw_page, prose  # noqa: E402


def _page(number: int, dpi: int = 300) -> Image.Image:
    return draw_page(prose(number, 8), dpi=dpi, font=SERIF, noise=True, seed=number).image


def _tinted(gray: Image.Image) -> Image.Image:
    """A colour scan: blue ink on cream paper."""
    return Image.merge(
        "RGB", [gray.point(lambda v: v * 250 // 255), gray.point(lambda v: v * 245 // 255), gray]
    )


def build_bundle(folder: Path) -> list[Path]:
    files: list[tuple[str, Image.Image, dict[str, object]]] = []
    files.append(("01-photo.jpg", _tinted(_page(1)), {"quality": 85}))
    files.append(("02-cmyk.jpg", _tinted(_page(2)).convert("CMYK"), {"quality": 85}))
    bilevel = _page(3).point(lambda v: 255 if v > 160 else 0).convert("1")
    files.append(("03-fax.tif", bilevel, {"compression": "group4"}))
    files.append(("04-gray.png", _page(4), {"optimize": True}))
    files.append(("05-palette.png", _tinted(_page(5)).quantize(16), {"optimize": True}))
    deep = Image.new("I;16", _page(6).size)
    deep.putdata([v * 257 for v in _page(6).get_flattened_data()])
    files.append(("06-deep.png", deep, {}))
    alpha = _tinted(_page(7)).convert("RGBA")
    alpha.putalpha(_page(7).point(lambda v: 255 - v // 2))
    files.append(("07-alpha.png", alpha, {}))
    exif = Image.Exif()
    exif[0x0112] = 6
    files.append(("08-sideways.jpg", _tinted(_page(8)).transpose(Image.Transpose.ROTATE_90), {"exif": exif}))
    paths = []
    for name, image, options in files:
        path = folder / name
        image.save(path, dpi=(300, 300), **options)
        paths.append(path)
    frames = [_page(n).point(lambda v: 255 if v > 160 else 0).convert("1") for n in (9, 10)]
    pages = folder / "09-pages.tif"
    frames[0].save(pages, save_all=True, append_images=frames[1:], compression="group4", dpi=(300, 300))
    return [*paths, pages]


def img2pdf_size(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        data = path.read_bytes()
        total += len(img2pdf.convert(data, rotation=img2pdf.Rotation.ifvalid))
    return total


def tesseract_size(paths: list[Path], work: Path) -> tuple[int, list[str]]:
    """Tesseract's PDF of every file it can read, joined; and the files it could not."""
    outputs, failed = [], []
    for path in paths:
        base = work / f"tess-{path.stem}"
        done = subprocess.run(["tesseract", str(path), str(base), "pdf"], capture_output=True)
        if done.returncode == 0:
            outputs.append(f"{base}.pdf")
        else:
            failed.append(path.name)
    joined = work / "tesseract.pdf"
    subprocess.run(["qpdf", "--empty", "--pages", *outputs, "--", str(joined)], check=True)
    return joined.stat().st_size, failed


def main() -> int:
    logging.getLogger("img2pdf").setLevel(logging.ERROR)  # its note about alpha soft masks
    with tempfile.TemporaryDirectory(prefix="pdfocr-size-") as scratch:
        work = Path(scratch)
        folder = work / "bundle"
        folder.mkdir()
        paths = build_bundle(folder)
        pages = 0
        for path in paths:
            pages += getattr(Image.open(path), "n_frames", 1)
        inputs = sum(path.stat().st_size for path in paths)
        output = work / "pdfocr.pdf"
        subprocess.run([sys.executable, "-m", "pdfocr", str(folder), "-o", str(output), "-q"], check=True)
        ours = output.stat().st_size
        goal = 1.05 * inputs + 10_000 * pages
        print(f"{len(paths)} files, {pages} pages (300 dpi A5 scans of every kind)")
        print(f"{'':32}{'bytes':>12}{'x input':>9}")
        rows = [
            ("input files", inputs),
            ("pdfocr (image + text)", ours),
            ("goal: 1.05 x input + 10 KB/page", round(goal)),
            ("img2pdf (images only)", img2pdf_size(paths)),
        ]
        tesseract, unread = tesseract_size(paths, work)
        rows.append(("tesseract pdf renderer + qpdf", tesseract))
        for label, size in rows:
            print(f"{label:32}{size:>12,}{size / inputs:>9.2f}")
        extra = ours - rows[3][1]
        print(f"pdfocr over img2pdf: {extra:,} bytes ({extra / pages:,.0f} per page)")
        if unread:
            print(f"tesseract could not read {', '.join(unread)}: its total leaves them out")
    return 0


if __name__ == "__main__":
    sys.exit(main())
