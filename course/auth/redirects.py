"""Where to send someone after signing in, without becoming an open redirect."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None.

    Browsers treat `//host`, `/\\host` and `\\\\host` as other sites, and strip tabs and
    newlines before parsing, so those and any control character (which would also end up
    in the Location header) are refused whether written plainly or percent-encoded (any
    number of times).
    """
    if not target:
        return None
    decoded = target
    for _ in range(5):
        once = unquote(decoded)
        if once == decoded:
            break
        decoded = once
    else:
        return None
    if any(ch < " " or ch == "\x7f" for ch in decoded):
        return None  # no header may hold them, and browsers drop some before parsing
    cleaned = decoded.strip()
    if not cleaned.startswith("/") or cleaned.startswith("//") or "\\" in cleaned:
        return None
    parts = urlsplit(cleaned)
    if parts.scheme or parts.netloc:
        return None
    return target if target == decoded else cleaned
