"""How well a page was read, from the engine's own result: the signs that tell a page read
the wrong way up, and a measure to compare two readings of one page.

Telling costs nothing: it looks only at the words the engine returned. A page read upside
down gives words of mean confidence near 30 (95 upright, measured with Tesseract on dense
300-dpi prose); a page scanned sideways is read as lines that run down the page.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import PageText

TURNED_CONFIDENCE = 60.0
"""A reading whose mean word confidence (0-100, weighted by characters) is below this may
be of a page the wrong way up. Upright text pages score 85-96, even faded ones over 70;
upside-down ones 25-35."""
RUNNING_DOWN_SHARE = 0.5
"""A reading with more of its characters than this in lines running down the page is of
a page lying sideways."""
MIN_CHARACTERS = 20
"""Readings with fewer characters than this tell nothing: a stamp, a page number, noise."""


@dataclass(frozen=True)
class Reading:
    """What the engine's result says of how the page was read."""

    characters: int
    """Characters in words (spaces not counted)."""
    confidence: float | None
    """Mean word confidence (0-100) weighted by characters; None when the engine gives
    no confidences."""
    running_down: float
    """The share of characters in lines that run down the page (0-1)."""

    @classmethod
    def of(cls, text: PageText) -> Reading:
        """The reading of ``text``."""
        characters = down = 0
        weighted = known = 0.0
        for line in text.lines:
            line_characters = sum(len(word.text) for word in line.words)
            characters += line_characters
            if line.runs_down:
                down += line_characters
            for word in line.words:
                if word.confidence is not None:
                    weighted += word.confidence * len(word.text)
                    known += len(word.text)
        return cls(
            characters=characters,
            confidence=weighted / known if known else None,
            running_down=down / characters if characters else 0.0,
        )

    @property
    def looks_turned(self) -> bool:
        """Whether the page may be the wrong way up: its lines run down the page, or its
        words' confidence collapsed."""
        if self.characters < MIN_CHARACTERS:
            return False
        if self.running_down > RUNNING_DOWN_SHARE:
            return True
        return self.confidence is not None and self.confidence < TURNED_CONFIDENCE

    @property
    def score(self) -> float:
        """How much was read well, to choose between two readings of one page: the
        characters, weighted by confidence, those in lines running down the page at half
        weight (a page read sideways may be read right, but it is better upright)."""
        counted = self.characters * (1.0 - self.running_down / 2)
        return counted * (self.confidence / 100.0 if self.confidence is not None else 1.0)
