"""A click group whose subcommands are imported only when invoked.

`tutor --help` must answer in well under a second, so no command module (and
none of torch, transformers or sentence-transformers) is imported to list them.
"""

from __future__ import annotations

import importlib

import click


class LazyGroup(click.Group):
    """Subcommands given as ``name -> "module:attribute"``, resolved on first use."""

    def __init__(self, *args, lazy: dict[str, tuple[str, str]] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # name -> (import path, one-line help shown in `--help` without importing)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.lazy))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy:
            target, _ = self.lazy[name]
            module_name, attr = target.split(":")
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name and module_name.startswith(exc.name):
                    return _unavailable(name)
                raise
            return getattr(module, attr)
        return super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            if name in self.lazy:
                rows.append((name, self.lazy[name][1]))
            else:
                cmd = super().get_command(ctx, name)
                if cmd is not None and not cmd.hidden:
                    rows.append((name, cmd.get_short_help_str()))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _unavailable(name: str) -> click.Command:
    @click.command(name=name)
    def missing() -> None:
        raise click.ClickException(f"'tutor {name}' is not available in this build.")

    return missing
