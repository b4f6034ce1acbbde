"""tutor: a local-first terminal tutor and adaptive quiz engine.

Kept free of heavy imports so that `tutor --help` answers instantly; torch,
transformers and sentence-transformers are imported only where they are used.
"""

__version__ = "0.1.0"
