from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader
from reportlab.pdfgen.canvas import Canvas

from pdfocr import merge
from pdfocr.merge import atomic_output, merge_pages


def _one_page(path: Path, label: str) -> Path:
    canvas = Canvas(str(path), pagesize=(200, 100))
    canvas.drawString(10, 50, label)
    canvas.save()
    return path


@pytest.mark.parametrize("fan_in", [3, 200])
def test_pages_stay_in_order_through_merge_rounds(tmp_path: Path, monkeypatch, fan_in: int) -> None:
    monkeypatch.setattr(merge, "MERGE_FAN_IN", fan_in)
    pages = [_one_page(tmp_path / f"p{n}.pdf", f"page {n}") for n in range(11)]
    output = io.BytesIO()
    merge_pages(pages, output, {"/Producer": "test"}, tmp_path)
    reader = PdfReader(output)
    assert [page.extract_text().strip() for page in reader.pages] == [f"page {n}" for n in range(11)]
    assert reader.metadata is not None and reader.metadata["/Producer"] == "test"


def test_atomic_output_replaces_only_on_success(tmp_path: Path) -> None:
    target = tmp_path / "out.pdf"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_output(target) as stream:
        stream.write(b"half")
        raise RuntimeError("the producer failed")
    assert target.read_bytes() == b"old"
    with atomic_output(target) as stream:
        stream.write(b"new")
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.pdf"]
