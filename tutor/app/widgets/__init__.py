"""Widgets shared by the screens; none of them calls the engine."""
