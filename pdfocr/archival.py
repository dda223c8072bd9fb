"""The document as it is written: its metadata, and archival output (PDF/A).

PDF/A is made and checked by pikepdf's own PDF/A support (``pikepdf.pdfa``: veraPDF's
rules, no Ghostscript), which changes the document's structure and metadata only, never
what a page draws: every image keeps its bytes. Every PDF/A file is validated from the
bytes written before it may replace the output; one that fails is never presented as
PDF/A.

``auto`` (the default) writes PDF/A-2b when the result can be PDF/A without losing
anything of the inputs, and otherwise plain PDF with one warning saying why; an explicit
PDF/A type that cannot be met is an :class:`ArchivalError` naming the rule and the page.
"""

from __future__ import annotations

import contextlib
import datetime
import importlib.resources
import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pikepdf

from .colourprofile import cmyk_profile
from .errors import ArchivalError, OutputError, PdfocrWarning, os_reason
from .graft import forms_in
from .version import __version__

_FLAVOURS = {"auto": "2b", "pdfa": "2b", "pdfa-1": "1b", "pdfa-2": "2b", "pdfa-3": "3b"}

PRODUCER = f"pdfocr {__version__}"


@dataclass(frozen=True)
class DocumentInfo:
    """What the document says of itself (``--title`` and so on; None: the input's own,
    for a bundle that starts with a PDF)."""

    title: str | None = None
    author: str | None = None
    subject: str | None = None
    keywords: str | None = None


@dataclass(frozen=True)
class DocumentRequest:
    """How the document is to be written."""

    output_type: str = "pdf"
    """One of :data:`~pdfocr.options.OUTPUT_TYPES`."""
    info: DocumentInfo = DocumentInfo()
    page_names: tuple[tuple[str | None, int | None], ...] = ()
    """Each output page's input file and page (None: a single-page file), for messages."""
    optimize: str = "none"
    """``lossless``: images stored smaller, pixel for pixel (:mod:`pdfocr.optimize`)."""


LABELS = {"pdf": "PDF", "pdfa-1": "PDF/A-1b", "pdfa-2": "PDF/A-2b", "pdfa-3": "PDF/A-3b"}
"""What each output type pdfocr writes is called."""


@dataclass(frozen=True)
class Written:
    """How the document was written."""

    output_type: str
    """``pdf``, or the PDF/A part it conforms to (``pdfa-1``, ``pdfa-2``, ``pdfa-3``)."""


@dataclass(frozen=True)
class _Problem:
    """Why a document cannot be PDF/A: the rule, what breaks it, and where."""

    rule: str
    message: str
    page: int | None
    """The output's page (1-based) the problem is on; None for the document."""


class _NotArchival(Exception):
    def __init__(self, problem: _Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def write_document(
    assembled: Path,
    destination: Path,
    request: DocumentRequest,
    *,
    linearize: bool = False,
    named: Path | None = None,
) -> Written:
    """Write ``assembled`` (the merged pages) to ``destination`` as ``request`` asks,
    with its information and pdfocr's own marks in the metadata; ``linearize`` for fast
    web view. ``named`` is the output that messages name."""
    named = named or destination
    output_type, info, pages = request.output_type, request.info, request.page_names
    if output_type == "pdf":
        _write_plain(assembled, destination, info, linearize, named, optimize=request.optimize)
        return Written("pdf")
    flavour = _FLAVOURS[output_type]
    try:
        strict = output_type != "auto"
        _write_archival(
            assembled, destination, flavour, info, linearize, named, strict=strict, optimize=request.optimize
        )
    except _NotArchival as failure:
        problem = failure.problem
        where = _where(problem.page, pages)
        reason = f"{where}{problem.message} ({problem.rule})"
        if output_type != "auto":
            raise ArchivalError(f"cannot be PDF/A-{flavour}: {reason}", file=named) from None
        warnings.warn(PdfocrWarning(f"written as plain PDF, not PDF/A: {reason}"), stacklevel=2)
        _write_plain(assembled, destination, info, linearize, named, optimize=request.optimize)
        return Written("pdf")
    return Written(f"pdfa-{flavour[0]}")


def _optimized(document: pikepdf.Pdf, level: str) -> None:
    if level != "none":  # lossy pages are JPEGs already; the rest is made smaller losslessly
        from .optimize import optimize_lossless

        optimize_lossless(document)


def _where(page: int | None, pages: Sequence[tuple[str | None, int | None]]) -> str:
    """The input file and page a problem is on; for a problem of the whole document (its
    metadata, its forms), the first input, whose document-level parts the output keeps."""
    if page is None or not 0 < page <= len(pages):
        first = pages[0][0] if pages else None
        return f"{first}: " if first is not None else ""
    source, number = pages[page - 1]
    if source is None:
        return f"page {page}: "
    return f"{source} (page {number}): " if number is not None else f"{source}: "


def _write_plain(
    assembled: Path, destination: Path, info: DocumentInfo, linearize: bool, named: Path, *, optimize: str
) -> None:
    with _opened(assembled, named) as document:
        _describe(document, info)
        _optimized(document, optimize)
        _save(
            named,
            document.save,
            destination,
            # Streams go out as they came in: no decoding, no recompression.
            stream_decode_level=pikepdf.StreamDecodeLevel.none,
            compress_streams=False,
            object_stream_mode=pikepdf.ObjectStreamMode.generate,
            linearize=linearize,
        )


def _write_archival(
    assembled: Path,
    destination: Path,
    flavour: str,
    info: DocumentInfo,
    linearize: bool,
    named: Path,
    *,
    strict: bool,
    optimize: str,
) -> None:
    from pikepdf import pdfa  # its own dependencies (fontTools, jsonschema) load only for PDF/A

    from .fontsubstitutes import FontsMissing, embed_substitutes  # fontTools, as pdfa

    with _opened(assembled, named) as document:
        _describe(document, info)
        _optimized(document, optimize)
        _drop_empty_transitions(document)
        try:
            # Fonts an input names without embedding them get free substitutes embedded.
            embed_substitutes(document)
        except FontsMissing as missing:
            if strict:
                raise missing.locate(named, None) from None
            raise _NotArchival(_Problem("pdfocr:fonts", missing.message, None)) from None
        if "/OutputIntents" in document.Root:
            # An input's own output intent (a PDF/A's, a press profile) is kept, not replaced.
            prepared = pdfa.prepare(document, flavour, output_intent=None)
        else:
            # An output intent that fits the images, which keep their colour spaces: CMYK
            # for CMYK scans (RGB, should a page paint any, then given as sRGB); sRGB for
            # the rest, CMYK images among RGB ones then given pdfocr's CMYK profile.
            shown = _image_colour_spaces(document)
            cmyk_intent = "/DeviceCMYK" in shown and "/DeviceRGB" not in shown
            prepared = pdfa.prepare(
                document, flavour, output_intent=cmyk_profile() if cmyk_intent else "sRGB"
            )
            if cmyk_intent:
                _set_default_space(document, "/DefaultRGB", _srgb_profile(), 3)
            elif "/DeviceCMYK" in shown:
                _set_default_space(document, "/DefaultCMYK", cmyk_profile(), 4)
        losses = _losses(prepared)
        if losses and not strict:
            raise _NotArchival(_Problem("pikepdf:prepare", losses[0], None))
        _mark_producer(document)
        # Flate streams pass through as they are (PNG data stays byte for byte); streams
        # stored uncompressed are compressed, their content the same.
        settings: dict[str, Any] = {"linearize": linearize, "recompress_flate": False}
        try:
            # Written to an open file: given a path, pikepdf writes a file of its own beside
            # it, which a killed run would leave there; given a stream, it writes a nameless
            # temporary file, validates it, and only then copies it over.
            with open(destination, "wb") as stream:
                _save(named, pdfa.save, document, stream, flavour, repair=False, **settings)
        except pdfa.PdfaError as error:
            # Not PDF/A (checked from the bytes written). The document is checked again for
            # the message: its own object numbers lead to the page at fault.
            report = pdfa.check(document, flavour, **settings)
            if report.passed:
                raise _NotArchival(_problem(error.report, None)) from None
            raise _NotArchival(_problem(report, document)) from None
    for loss in losses:  # said only of a file that was written
        warnings.warn(PdfocrWarning(f"{named}: for PDF/A-{flavour}: {loss}"), stacklevel=3)


def _drop_empty_transitions(document: pikepdf.Pdf) -> None:
    """Drop page transitions that say nothing (an empty /Trans: reportlab writes one on
    every page), which the validator cannot confirm and would keep the file from PDF/A."""
    for page in document.pages:
        transition = page.obj.get("/Trans")
        if isinstance(transition, pikepdf.Dictionary) and len(transition.keys()) == 0:
            del page.obj.Trans


def _resources(document: pikepdf.Pdf) -> Iterator[pikepdf.Dictionary]:
    """Every resource dictionary the pages draw with: each page's, those of the forms
    they draw (however deeply; each form once, so a form that draws itself ends), and
    those of their annotations' appearances."""
    seen: set[tuple[int, int]] = set()
    pending: list[pikepdf.Object] = []
    for page in document.pages:
        pending.append(page.obj)
        pending += _appearances(page.obj.get("/Annots"))
    while pending:
        holder = pending.pop()
        if holder.is_indirect:
            if holder.objgen in seen:
                continue
            seen.add(holder.objgen)
        resources = holder.get("/Resources")
        if not isinstance(resources, pikepdf.Dictionary):
            continue
        yield resources
        pending += forms_in(resources)


def _appearances(annotations: pikepdf.Object | None) -> list[pikepdf.Stream]:
    """The appearance streams of ``annotations`` (every state of each)."""
    found: list[pikepdf.Stream] = []
    for annotation in annotations if isinstance(annotations, pikepdf.Array) else []:
        kinds = annotation.get("/AP") if isinstance(annotation, pikepdf.Dictionary) else None
        for _, appearance in kinds.items() if isinstance(kinds, pikepdf.Dictionary) else []:
            states = list(appearance.values()) if isinstance(appearance, pikepdf.Dictionary) else [appearance]
            found += [state for state in states if isinstance(state, pikepdf.Stream)]
    return found


def _image_colour_spaces(document: pikepdf.Pdf) -> set[str]:
    """The device colour spaces of the images the pages (and the forms they draw) show;
    for an image with a palette, its palette's."""
    found: set[str] = set()
    for resources in _resources(document):
        xobjects = resources.get("/XObject")
        for _, item in xobjects.items() if isinstance(xobjects, pikepdf.Dictionary) else []:
            if not isinstance(item, pikepdf.Stream) or item.get("/Subtype") != "/Image":
                continue
            space = item.get("/ColorSpace")
            if isinstance(space, pikepdf.Array) and len(space) > 1 and space[0] == "/Indexed":
                space = space[1]
            if isinstance(space, pikepdf.Name):
                found.add(str(space))
    return found


def _srgb_profile() -> bytes:
    """The sRGB profile pikepdf ships (ICC version 2, as PDF/A-1 needs)."""
    return (importlib.resources.files("pikepdf.pdfa") / "data" / "sRGB.icc").read_bytes()


def _set_default_space(document: pikepdf.Pdf, default: str, profile: bytes, components: int) -> None:
    """Give a device colour space a meaning the output intent does not: ``default``
    (``/DefaultRGB``, ``/DefaultCMYK``) as that ICC profile, in every resource dictionary
    without one of its own. The images keep their bytes and their colour space."""
    space = pikepdf.Array([pikepdf.Name.ICCBased, document.make_stream(profile, N=components)])
    for resources in _resources(document):
        spaces = resources.get("/ColorSpace")
        if not isinstance(spaces, pikepdf.Dictionary):
            spaces = resources.ColorSpace = pikepdf.Dictionary()
        if default not in spaces:
            spaces[default] = space


def _losses(prepared: Any) -> list[str]:
    """What making the document PDF/A takes away from it (``prepare``'s changes that
    remove content or metadata), one sentence each. Dropping an image's /Interpolate (a
    hint to smooth it when enlarged, which PDF/A forbids) changes nothing drawn."""
    losses = []
    if prepared.annotations_removed:  # prepare's one warning: what it removed, on which pages
        losses += [sentence for level, sentence in prepared.messages() if level == "warning"]
    if prepared.alternate_presentations_removed:
        losses.append("alternate presentations (slideshows) would be removed")
    if prepared.document_javascript_removed:
        losses.append("document-level JavaScript would be removed")
    if prepared.xmp_dropped:
        dropped = ", ".join(prepared.xmp_dropped)
        losses.append(f"XMP metadata PDF/A does not permit would be removed: {dropped}")
    if prepared.xmp_unreadable:
        losses.append("the XMP metadata cannot be read and would be replaced")
    return losses


def _problem(report: Any, document: pikepdf.Pdf | None) -> _Problem:
    """The report's first violation (or, with none, the first construct it could not
    check), with the output page it is on."""
    finding = (report.violations or report.findings)[0]
    page = None
    found = re.search(r"obj (\d+) (\d+)", finding.where)
    message = finding.message
    if document is not None and found:
        objgen = (int(found[1]), int(found[2]))
        page = _page_using(document, objgen)
        from .fontsubstitutes import describe_font

        font = describe_font(document.get_object(objgen))
        message = f"{font}: {message}" if font is not None else message
    if finding.kind != "violation":
        message += " (so the file cannot be confirmed as PDF/A)"
    return _Problem(finding.rule, message, page)


def _page_using(document: pikepdf.Pdf, objgen: tuple[int, int]) -> int | None:
    """The first page (1-based) whose content, resources or annotations use the object
    ``objgen``."""
    for number, page in enumerate(document.pages, start=1):
        if page.obj.objgen == objgen:
            return number
        seen: set[tuple[int, int]] = set()
        parts = [page.obj.get(key) for key in ("/Resources", "/Contents", "/Annots")]
        if any(_reaches(part, objgen, seen) for part in parts if part is not None):
            return number
    return None


_NOT_FOLLOWED = frozenset({"/Parent", "/P", "/Dest", "/A", "/Next", "/Prev", "/First", "/Last", "/Popup"})
"""Keys that lead away from a page (to other pages, the outline, actions)."""


def _reaches(item: pikepdf.Object, objgen: tuple[int, int], seen: set[tuple[int, int]]) -> bool:
    if not isinstance(item, pikepdf.Object):  # a number, a name, a string
        return False
    if item.is_indirect:
        if item.objgen == objgen:
            return True
        if item.objgen in seen:
            return False
        seen.add(item.objgen)
    if isinstance(item, pikepdf.Array):
        return any(_reaches(value, objgen, seen) for value in item)
    if isinstance(item, (pikepdf.Dictionary, pikepdf.Stream)):
        return any(_reaches(value, objgen, seen) for key, value in item.items() if key not in _NOT_FOLLOWED)
    return False


@contextlib.contextmanager
def _opened(path: Path, named: Path) -> Iterator[pikepdf.Pdf]:
    # An open file, not the name: a name that is not UTF-8 is no text for qpdf.
    try:
        with open(path, "rb") as stream, pikepdf.open(stream) as document:
            yield document
    except (OSError, pikepdf.PdfError) as error:
        raise OutputError(f"could not assemble the PDF: {error}", file=named) from None


def _save(named: Path, save: Any, *arguments: Any, **settings: Any) -> None:
    try:
        save(*arguments, **settings)
    except OSError as error:  # a full disk
        raise OutputError(os_reason(error), file=named) from None
    except pikepdf.PdfError as error:
        raise OutputError(f"could not write the PDF: {error}", file=named) from None


def _describe(document: pikepdf.Pdf, info: DocumentInfo) -> None:
    """Write ``info`` and pdfocr's marks (producer, dates) to the XMP metadata and the
    document information dictionary alike. What the input said of itself (a bundle that
    starts with a PDF carries its metadata over) stays unless ``info`` replaces it."""
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat()
    with document.open_metadata(set_pikepdf_as_editor=False, update_docinfo=True) as metadata:
        if "/Metadata" not in document.Root:
            metadata.load_from_docinfo(document.docinfo, raise_failure=False)
        if info.title is not None:
            metadata["dc:title"] = info.title
        if info.author is not None:
            metadata["dc:creator"] = [info.author]
        if info.subject is not None:
            metadata["dc:description"] = info.subject
        if info.keywords is not None:
            metadata["pdf:Keywords"] = info.keywords
        if "xmp:CreatorTool" not in metadata:
            metadata["xmp:CreatorTool"] = PRODUCER
        if "xmp:CreateDate" not in metadata:
            metadata["xmp:CreateDate"] = now
        metadata["xmp:ModifyDate"] = now
        metadata["xmp:MetadataDate"] = now
        metadata["pdf:Producer"] = PRODUCER


def _mark_producer(document: pikepdf.Pdf) -> None:
    """pdfocr as the producer again (preparing for PDF/A names pikepdf), in the XMP
    metadata and the document information alike."""
    with document.open_metadata(set_pikepdf_as_editor=False, update_docinfo=True) as metadata:
        metadata["pdf:Producer"] = PRODUCER
