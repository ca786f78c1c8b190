"""Text normalisation shared by the catalogue's stored search column and the search query."""
from app.slack_text import strip_accents


def normalize(text: str | None) -> str:
    """Lowercase, strip accents and punctuation, collapse spaces: "¡Café, CÓDIGO!" -> "cafe codigo".

    Done in Python (not in the database) so SQLite and PostgreSQL match exactly the same rows.
    """
    if not text:
        return ""
    without_marks = strip_accents(str(text))
    # Punctuation becomes a word break so "APIs," and "node.js" match the words "apis" and "js".
    words_only = "".join(ch if ch.isalnum() else " " for ch in without_marks.casefold())
    return " ".join(words_only.split())
