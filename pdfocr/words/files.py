"""Writing the word outputs a conversion was asked for: each file replaced atomically
(a failed write leaves an existing one as it was), a stream written to; PAGE XML a folder
of documents, one per page. Checked before the conversion, like the PDF's own target."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import OutputError
from ..merge import Output, check_writable, write_bytes
from . import WordPage, word_pages

if TYPE_CHECKING:
    from ..conversion import Result


@dataclass(frozen=True)
class WordOutputs:
    """Where each word output goes (None: not written). ``page_xml`` is a folder, made
    if it does not exist (its parent must)."""

    hocr: Output | None = None
    alto: Output | None = None
    page_xml: str | os.PathLike[str] | None = None
    words: Output | None = None

    @property
    def any(self) -> bool:
        return any(getattr(self, field.name) is not None for field in fields(self))

    def check(self) -> None:
        """Fail before any OCR if a target clearly cannot be written."""
        for target in (self.hocr, self.alto, self.words):
            if isinstance(target, (str, os.PathLike)):
                check_writable(Path(target))
        if self.page_xml is not None:
            folder = Path(self.page_xml)
            if folder.exists() and not folder.is_dir():
                raise OutputError("is not a folder (PAGE XML is a document per page)", file=folder)
            check_writable(folder / "page-0001.xml" if folder.is_dir() else folder)

    def write(self, result: Result) -> None:
        """Write every output asked for, from ``result``'s words."""
        from .alto import to_alto
        from .hocr import to_hocr
        from .jsonl import to_json_lines
        from .pagexml import page_file_name, to_page_xml

        pages = word_pages(result.pages)
        makers: list[tuple[Output | None, Callable[[list[WordPage]], str]]] = [
            (self.hocr, to_hocr),
            (self.alto, to_alto),
            (self.words, to_json_lines),
        ]
        for target, make in makers:
            if target is not None:
                write_bytes(target, make(pages).encode())
        if self.page_xml is not None:
            folder = Path(self.page_xml)
            try:
                folder.mkdir(exist_ok=True)
            except OSError as error:
                raise OutputError(f"cannot make the folder ({error.strerror})", file=folder) from None
            for page in pages:
                write_bytes(folder / page_file_name(page), to_page_xml(page).encode())
