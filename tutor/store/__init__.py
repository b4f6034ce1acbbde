"""The progress store: learners, chats, quiz attempts, mastery and reviews.

``Store`` pulls in SQLAlchemy, so it is imported lazily: code that only needs
the plain records (``tutor.store.records``) or ``StoreError`` stays light and
``tutor --help`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tutor.store.errors import StoreError

if TYPE_CHECKING:
    from tutor.store.store import Store

__all__ = ["Store", "StoreError"]


def __getattr__(name: str) -> Any:
    if name == "Store":
        from tutor.store.store import Store

        return Store
    raise AttributeError(f"module 'tutor.store' has no attribute {name!r}")
