"""Uploads kept under names of the service's own: a job's files saved into its folder,
and the client's names for them, kept for messages only (never used as paths)."""

import shutil
from pathlib import Path

from fastapi import UploadFile

from .store import StoredInput


def save(files: list[UploadFile], folder: Path) -> list[StoredInput]:
    """Each upload into the job's folder under a name of the service's own."""
    folder.mkdir(parents=True)
    stored = []
    for number, upload in enumerate(files, start=1):
        name = f"input-{number:03d}"
        with open(folder / name, "wb") as target:
            upload.file.seek(0)
            shutil.copyfileobj(upload.file, target, 1024 * 1024)
        stored.append(StoredInput(stored=name, name=client_name(upload.filename, number)))
    return stored


def client_name(filename: str | None, number: int) -> str:
    """The client's name for a file, for messages only: its last part, printable, short."""
    last = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    clean = "".join(char for char in last if char.isprintable())[:200]
    return clean or f"file {number}"
