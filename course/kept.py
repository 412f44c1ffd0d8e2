"""Copies each worker keeps of work that comes out the same for everyone who asks (a
page's fixed parts, a report's items), bounded so that memory stays flat.

Flask-free: services keep their own copies too.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def kept(store: dict[K, V], key: K, make: Callable[[], V], limit: int) -> V:
    """`store[key]`, made by `make()` the first time it is asked for.

    A store that holds `limit` copies starts again from none rather than tracking which
    copy was used last: that bookkeeping would cost every request, and a full store means
    the copies are not being asked for again much anyway.
    """
    value = store.get(key)
    if value is None:
        if len(store) >= limit:
            store.clear()
        value = store[key] = make()
    return value
