"""The pages' inputs on a Dask cluster, for :class:`~.cluster.DaskExecutor`: what of a
page's input crosses the network, once.

An input goes to the cluster when the first of its pages is handed over: a PDF's page as
a PDF of its own, an image file whole (a TIFF's frames share it), scattered to a worker
(the scheduler sees only its key) and released when no page out needs it; a worker that
runs one of its pages fetches it from there. With ``paths`` (storage shared by every
worker), an input that is a file of its own travels as its path instead.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ClusterError
from ..page import PageTask
from ..pdfpages import one_page_pdf

if TYPE_CHECKING:
    from .cluster_connection import ClusterConnection

SCATTER_ATTEMPTS = 3


@dataclass(eq=False)
class _File:
    """An input file on the cluster: its data's future, and its pages out."""

    data: Any  # distributed.Future
    pages: int = 0


class ClusterInputs:
    """The input files on the cluster, by path (a PDF's: by path and page) or by the
    identity of in-memory data, each with its pages out."""

    def __init__(self, connection: ClusterConnection, *, paths: bool) -> None:
        self._connection = connection
        self.paths = paths
        self._files: dict[object, _File] = {}
        self._lock = threading.Lock()
        self.bytes_sent = 0
        """Input bytes sent to the cluster so far."""

    def take(self, task: PageTask) -> tuple[PageTask, object | None, Any]:
        """What travels of ``task``: the task without its input's bytes, the key of its
        input file here (to :meth:`release` once the page is out no more; None if there
        is none to release), and the future of the file's data on the cluster (None when
        nothing is sent). An input that cannot be read raises its
        :class:`~pdfocr.errors.InputError`."""
        file_key, data = self._input_of(task)
        sent_as_path = self._sent_as_path(task)
        source = task.source
        if sent_as_path:  # the worker reads it there
            assert source.path is not None
            source = dataclasses.replace(source, path=os.path.abspath(source.path))
        frame_in_data = 0 if source.is_pdf and not sent_as_path else None  # see _read
        bare = dataclasses.replace(
            task,
            source=dataclasses.replace(
                source, data=None, path=source.path if sent_as_path else None, data_frame=frame_in_data
            ),
        )
        return bare, file_key, data

    def _input_of(self, task: PageTask) -> tuple[object | None, Any]:
        """The page's input file on the cluster (sent with its first page): its key here,
        and its data's future."""
        source = task.source
        if (
            source.broken is not None
            or (source.path is None and source.data is None)
            or self._sent_as_path(task)
        ):
            return None, None
        file_key: object = source.path if source.path is not None else id(source.data)
        if source.is_pdf and source.path is not None:
            file_key = (source.path, source.frame)  # a PDF's page travels alone
        with self._lock:
            known = self._files.get(file_key)
            if known is not None and known.data.status not in ("pending", "finished"):
                known = None  # lost with the worker that held it
            if known is None:
                data = self._read(task)
                known = self._files[file_key] = _File(self._scatter(data))
                self.bytes_sent += len(data)
            known.pages += 1
            return file_key, known.data

    def _read(self, task: PageTask) -> bytes:
        """What a worker needs of the page's input: a PDF's page as a PDF of its own, an
        image file whole (a multi-page TIFF too)."""
        source = task.source
        if source.is_pdf and source.path is not None:
            return one_page_pdf(source.label, source.path, source.frame, task.options.password)
        return source.read()

    def _sent_as_path(self, task: PageTask) -> bool:
        source = task.source
        return self.paths and source.path is not None and not source.scratch and source.data is None

    def _scatter(self, data: bytes) -> Any:
        """``data`` sent to a worker; to another if that one dies meanwhile."""
        for attempt in range(SCATTER_ATTEMPTS):
            try:
                [scattered] = self._connection.client.scatter([data], hash=False)
                return scattered
            except OSError as error:  # Dask's CommClosedError is one
                if self._connection.client.status != "running" or attempt == SCATTER_ATTEMPTS - 1:
                    raise ClusterError(
                        f"cannot send a page to the cluster at {self._connection.address} ({error})"
                    ) from None
        raise AssertionError("not reached")

    def release(self, file_key: object | None) -> None:
        """A page of the file under ``file_key`` is out no more."""
        if file_key is None:
            return
        with self._lock:
            known = self._files.get(file_key)
            if known is not None:
                known.pages -= 1
                if known.pages <= 0:
                    del self._files[file_key]  # no page out needs it: the cluster forgets it

    def clear(self) -> None:
        """Forget every file (the executor is closing)."""
        with self._lock:
            self._files.clear()
