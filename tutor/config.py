"""Where tutor keeps its data, and which course it serves.

Every location comes from platformdirs so an installed tutor behaves like any
other desktop program, and one variable, ``TUTOR_HOME``, moves all of them at
once (tests and CI point it at a scratch folder). Flags override both.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "tutor"
DEFAULT_COURSE = "genai-models"

_PACKAGE_DIR = Path(__file__).resolve().parent
_SOURCE_ROOT = _PACKAGE_DIR.parent


@dataclass(frozen=True)
class Paths:
    """The folders tutor writes to; created on demand, never inside the repo."""

    data_dir: Path
    cache_dir: Path

    @property
    def model_cache(self) -> Path:
        return self.cache_dir / "models"

    @property
    def index_cache(self) -> Path:
        return self.cache_dir / "index"

    @property
    def default_db_path(self) -> Path:
        return self.data_dir / "tutor.db"


def paths() -> Paths:
    """Resolve the data and cache folders from ``TUTOR_HOME`` or platformdirs."""
    home = os.environ.get("TUTOR_HOME")
    if home:
        root = Path(home).expanduser()
        return Paths(data_dir=root / "data", cache_dir=root / "cache")
    import platformdirs

    return Paths(
        data_dir=Path(platformdirs.user_data_dir(APP_NAME)),
        cache_dir=Path(platformdirs.user_cache_dir(APP_NAME)),
    )


def db_url(flag: str | None = None) -> str:
    """The database URL: ``--db`` flag, then ``TUTOR_DB_URL``, then SQLite in the data dir."""
    if flag:
        return flag
    env = os.environ.get("TUTOR_DB_URL")
    if env:
        return env
    return f"sqlite:///{paths().default_db_path}"


def _bundled(kind: str) -> Path:
    """A shipped data folder: the source tree when run from a checkout, else the wheel's copy."""
    source = _SOURCE_ROOT / kind
    if source.is_dir():
        return source
    return _PACKAGE_DIR / "_data" / kind


def course_dir(flag: str | Path | None = None) -> Path:
    """The course folder: ``--course`` flag, then ``TUTOR_COURSE``, then the shipped course."""
    chosen = flag or os.environ.get("TUTOR_COURSE")
    if chosen:
        return Path(chosen).expanduser()
    return _bundled("content") / DEFAULT_COURSE


def quiz_dir(course_id: str = DEFAULT_COURSE) -> Path:
    """The question bank shipped for a course."""
    return _bundled("quizzes") / course_id


def adapters_dir() -> Path:
    """Where shipped LoRA and embedder adapters live."""
    return _bundled("adapters")


def offline() -> None:
    """Forbid every model-hub download: all weights come from installed packages."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
