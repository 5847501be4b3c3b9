"""Short labels from long texts (titles of voiceovers, B-roll, caption sources)."""

from __future__ import annotations


def shorten(text: str, width: int) -> str:
    """``text`` on one line in at most ``width`` characters, cut after a whole word when one fits
    (else mid-word, as for Chinese or Japanese written without spaces), marked with an ellipsis."""
    flat = " ".join((text or "").split())
    if len(flat) <= width:
        return flat
    head = flat[:width - 1]
    if flat[width - 1].isalnum() and " " in head:  # the cut falls inside a word: drop that word
        head = head.rsplit(" ", 1)[0]
    return head.rstrip(" ,.;:") + "…"
