"""The app's .tcss files; absolute paths so subclasses elsewhere still find them."""

from pathlib import Path

STYLE_DIR = Path(__file__).resolve().parent
