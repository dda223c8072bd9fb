from __future__ import annotations

import io
import warnings
from pathlib import Path

import pytest
from PIL import ExifTags, Image

from pdfocr.errors import InputError, PdfocrWarning
from pdfocr.inputs import PageSource, expand_inputs, load_page, natural_key, ocr_ready
from pdfocr.options import ConvertOptions


def _png(path: Path, size: tuple[int, int] = (40, 30), **info: object) -> Path:
    Image.new("L", size, 255).save(path, **info)
    return path


def test_natural_order_puts_page2_before_page10() -> None:
    names = ["page10.png", "Page2.png", "page1.png", "page100.png", "page3b.png", "page3a.png"]
    assert sorted(names, key=natural_key) == [
        "page1.png",
        "Page2.png",
        "page3a.png",
        "page3b.png",
        "page10.png",
        "page100.png",
    ]


def test_folder_expands_to_its_images_in_natural_order(tmp_path: Path) -> None:
    for name in ["page10.png", "page2.png", "page1.png"]:
        _png(tmp_path / name)
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / ".hidden.png").write_bytes(b"junk that would fail if it were read")
    sub = tmp_path / "sub"
    sub.mkdir()
    _png(sub / "page1.png")
    labels = [Path(page.label).relative_to(tmp_path).as_posix() for page in expand_inputs([tmp_path])]
    assert labels == ["page1.png", "page2.png", "page10.png", "sub/page1.png"]


def test_files_keep_the_order_given_and_tiff_frames_are_pages(tmp_path: Path) -> None:
    frames = [Image.new("1", (50 + n, 40), 1) for n in range(3)]
    frames[0].save(tmp_path / "multi.tif", save_all=True, append_images=frames[1:], compression="group4")
    _png(tmp_path / "b.png")
    pages = expand_inputs([tmp_path / "b.png", tmp_path / "multi.tif"])
    assert [(Path(p.label).name, p.page_number) for p in pages] == [
        ("b.png", None),
        ("multi.tif", 1),
        ("multi.tif", 2),
        ("multi.tif", 3),
    ]
    assert [load_page(p, ConvertOptions(dpi=300)).image.width for p in pages[1:]] == [50, 51, 52]


def test_bytes_and_file_objects_are_inputs(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (30, 20), "white").save(buffer, format="PNG")
    pages = expand_inputs([buffer.getvalue(), io.BytesIO(buffer.getvalue())])
    assert [p.label for p in pages] == ["<input 1>", "<input 2>"]
    assert load_page(pages[1], ConvertOptions(dpi=300)).image.size == (30, 20)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b"this is plain text, not a picture", "not a PDF or a recognised image"),
        (b"P3\n1 1\n255\n0 0 0\n", "unsupported image format PPM"),
    ],
)
def test_bad_files_are_refused_with_their_name(tmp_path: Path, content: bytes, reason: str) -> None:
    bad = tmp_path / "scan.png"
    bad.write_bytes(content)
    with pytest.raises(InputError) as caught:
        expand_inputs([bad])
    assert str(caught.value).startswith(f"{bad}: {reason}")


def test_missing_path_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or folder"):
        expand_inputs([tmp_path / "nope.png"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="folder contains no images"):
        expand_inputs([tmp_path / "empty"])


def test_truncated_image_is_reported_when_decoded(tmp_path: Path) -> None:
    whole = _png(tmp_path / "whole.png", size=(600, 400))
    Image.effect_noise((600, 400), 60).save(whole)
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    (page,) = expand_inputs([truncated])
    with pytest.raises(InputError, match="corrupt or truncated") as caught:
        load_page(page, ConvertOptions(dpi=300))
    assert caught.value.file == str(truncated)


def test_truncated_tiff_frame_names_the_page(tmp_path: Path) -> None:
    frames = [Image.effect_noise((300, 300), 80) for _ in range(2)]
    tiff = tmp_path / "two.tif"
    frames[0].save(tiff, save_all=True, append_images=frames[1:])
    data = tiff.read_bytes()
    # The second frame's pixels follow the first's: cut into them, keep the directories.
    page = PageSource(label="two.tif", frame=1, frame_count=2, data=data[: len(data) - 50_000])
    with pytest.raises(InputError) as caught:
        load_page(page, ConvertOptions(dpi=300))
    assert str(caught.value).startswith("two.tif (page 2): ")


def test_resolution_from_the_image_or_the_fallback(tmp_path: Path) -> None:
    with_dpi = _png(tmp_path / "a.png", dpi=(200, 200))
    without = _png(tmp_path / "b.png")
    pages = expand_inputs([with_dpi, without])
    assert load_page(pages[0], ConvertOptions(dpi=300)).dpi == pytest.approx((200, 200), abs=0.1)
    assert load_page(pages[1], ConvertOptions(dpi=150)).dpi == (150, 150)


def test_sixteen_bit_images_are_scaled_not_clipped() -> None:
    image = Image.new("I;16", (20, 20), 30_000)
    for x in range(10):
        for y in range(20):
            image.putpixel((x, y), 5_000)
    ready = ocr_ready(image)
    assert ready.mode == "L"
    dark, light = ready.getpixel((2, 2)), ready.getpixel((15, 2))
    assert dark < 100 < light  # clipping would turn both white


def test_transparency_is_flattened_onto_white() -> None:
    image = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    image.putpixel((5, 5), (0, 0, 0, 255))
    ready = ocr_ready(image)
    assert ready.mode == "RGB"
    assert ready.getpixel((0, 0)) == (255, 255, 255)
    assert ready.getpixel((5, 5)) == (0, 0, 0)


def _phone_photo(path: Path, size: tuple[int, int], camera: bool = True) -> Path:
    exif = Image.Exif()
    if camera:
        exif[ExifTags.Base.Make] = "Phone maker"
        exif[ExifTags.Base.Model] = "Phone 12"
    Image.new("RGB", size, (200, 190, 180)).save(path, quality=80, dpi=(72, 72), exif=exif)
    return path


@pytest.mark.parametrize(
    ("size", "inches"),
    [((3024, 4032), (8.25, 11.0)), ((4032, 3024), (11.0, 8.25)), ((2480, 3508), (8.27, 11.69))],
)
def test_a_phone_photo_is_the_size_of_a_sheet_not_of_its_72_dpi(
    tmp_path: Path, size: tuple[int, int], inches: tuple[float, float]
) -> None:
    photo = _phone_photo(tmp_path / "photo.jpg", size)
    (page,) = expand_inputs([photo])
    with warnings.catch_warnings():
        warnings.simplefilter("error", PdfocrWarning)  # no "72 dpi, which no scanner makes"
        loaded = load_page(page, ConvertOptions())
    width, height = (pixels / dpi for pixels, dpi in zip(loaded.image.size, loaded.dpi, strict=True))
    assert (width, height) == pytest.approx(inches, abs=0.02)
    # The photo still goes into the PDF as it is.
    assert loaded.original == photo.read_bytes()


def test_an_image_at_72_dpi_from_no_camera_keeps_its_size_and_the_warning(tmp_path: Path) -> None:
    image = _phone_photo(tmp_path / "screen.jpg", (720, 720), camera=False)
    (page,) = expand_inputs([image])
    with pytest.warns(PdfocrWarning, match="72 x 72 dpi, which no scanner makes"):
        loaded = load_page(page, ConvertOptions())
    assert loaded.dpi == (72.0, 72.0)
    assert load_page(page, ConvertOptions(force_dpi=True, dpi=200)).dpi == (200.0, 200.0)
