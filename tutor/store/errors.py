"""The one error the progress store raises.

Kept in its own tiny module (no SQLAlchemy import) so callers can catch it
without paying for the database stack, and so every failure a user can cause
(missing folder, foreign file, newer schema, locked database) reaches the CLI
and the app as a single readable line instead of a traceback.
"""

from __future__ import annotations


class StoreError(Exception):
    """A progress-store problem the user can act on; ``str(err)`` is one line."""
