from __future__ import annotations

import os
from pathlib import Path

import pytest
from pypdf import PdfReader
from reportlab.pdfgen.canvas import Canvas

from pdfocr.merge import PagePart, atomic_output, atomic_path, merge_pages


def _one_page(path: Path, label: str) -> Path:
    canvas = Canvas(str(path), pagesize=(200, 100))
    canvas.drawString(10, 50, label)
    canvas.save()
    return path


def test_many_pages_stay_in_order(tmp_path: Path) -> None:
    # More files than qpdf keeps open at once (200): it must reopen them as it goes.
    single = _one_page(tmp_path / "single.pdf", "same")
    pages = [_one_page(tmp_path / f"p{n}.pdf", f"page {n}") for n in range(5)]
    for n in range(300):
        pages.append(tmp_path / f"same{n}.pdf")
        os.link(single, pages[-1])
    output = tmp_path / "out.pdf"
    assembled = merge_pages([PagePart(file=str(page)) for page in pages], output, tmp_path)
    assert assembled.path == output and not assembled.linearized
    reader = PdfReader(output)
    assert len(reader.pages) == 305
    assert [reader.pages[n].extract_text().strip() for n in range(6)] == [f"page {n}" for n in range(5)] + [
        "same"
    ]


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
    with atomic_path(target) as temporary:
        temporary.write_bytes(b"newer")
        assert target.read_bytes() == b"new"
    assert target.read_bytes() == b"newer"
    assert [p.name for p in tmp_path.iterdir()] == ["out.pdf"]
