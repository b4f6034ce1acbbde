"""Reading YAML files so that every later error can point at a line.

The data is loaded with the safe loader and, separately, composed into nodes;
the nodes map a field path such as ``concepts[3].objective`` back to the line it
came from, and reveal duplicate mapping keys, which PyYAML would silently drop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

PathPart = str | int


@dataclass(frozen=True)
class YamlDoc:
    """A parsed YAML file: its data, its node tree and the name used in messages."""

    name: str
    data: Any
    node: yaml.Node | None

    def line(self, path: Sequence[PathPart] = ()) -> int | None:
        """1-based line of the value at ``path`` (or of its closest existing parent)."""
        node = self.node
        best = node.start_mark.line + 1 if node is not None else None
        for part in path:
            node = _child(node, part)
            if node is None:
                break
            best = node.start_mark.line + 1
        return best

    def where(self, path: Sequence[PathPart] = ()) -> str:
        """``file:line: field.path`` prefix for a problem at ``path``."""
        line = self.line(path)
        location = f"{self.name}:{line}" if line is not None else self.name
        dotted = field_path(path)
        return f"{location}: {dotted}" if dotted else location


def field_path(path: Sequence[PathPart]) -> str:
    """``("concepts", 3, "objective")`` -> ``concepts[3].objective``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _child(node: yaml.Node | None, part: PathPart) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode) and isinstance(part, str):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == part:
                return value
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return node.value[part]
    return None


def load_yaml(path: Path, name: str) -> tuple[YamlDoc | None, list[str]]:
    """Parse ``path``; on failure return no document and the problems (file and line)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [f"{name}: file not found"]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [f"{name}: cannot read file ({exc})"]
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        location = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        problem = exc.problem or exc.context or "invalid YAML"
        return None, [f"{location}: YAML syntax error: {problem}"]
    except yaml.YAMLError as exc:
        return None, [f"{name}: YAML error: {exc}"]
    doc = YamlDoc(name=name, data=data, node=node)
    return doc, _duplicate_keys(doc, node, ())


def _duplicate_keys(doc: YamlDoc, node: yaml.Node | None, path: tuple[PathPart, ...]) -> list[str]:
    problems: list[str] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in seen:
                    problems.append(
                        f"{doc.name}:{key.start_mark.line + 1}: {field_path(path + (key.value,))}: duplicate key"
                    )
                seen.add(key.value)
                problems += _duplicate_keys(doc, value, path + (key.value,))
    elif isinstance(node, yaml.SequenceNode):
        for index, value in enumerate(node.value):
            problems += _duplicate_keys(doc, value, path + (index,))
    return problems


def pydantic_problems(
    doc: YamlDoc, exc: ValidationError, prefix: Sequence[PathPart] = (), rewrite: Any = None
) -> list[str]:
    """One ``file:line: field: message`` line per pydantic error.

    ``rewrite(error) -> str | None`` may replace pydantic's wording with a
    domain message (e.g. "needs at least two options").
    """
    problems = []
    for error in exc.errors():
        loc = tuple(prefix) + tuple(p for p in error["loc"] if isinstance(p, (str, int)))
        message = (rewrite(error) if rewrite else None) or _plain(error)
        problems.append(f"{doc.where(loc)}: {message}")
    return problems


def _plain(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return "unknown field"
    message = str(error.get("msg", "invalid value"))
    if "input" in error and kind not in ("model_type", "dict_type", "list_type", "tuple_type"):
        value = error["input"]
        if isinstance(value, (str, int, float, bool)) or value is None:
            message += f" (got {value!r})"
    return message
