"""Two tiny SVG charts for the adapter card (no plotting library needed for a line and some bars)."""

from __future__ import annotations

from html import escape

_W, _H, _PAD = 520, 260, 48
_COLOURS = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3")


def _frame(title: str, body: list[str], y_max: float, y_label: str) -> str:
    ticks = []
    for i in range(5):
        v = y_max * i / 4
        y = _H - _PAD - (_H - 2 * _PAD) * i / 4
        ticks.append(
            f'<line x1="{_PAD}" x2="{_W - _PAD / 2}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{_PAD - 6}" y="{y + 4:.1f}" font-size="10" text-anchor="end">{v:.2f}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" font-family="sans-serif">'
        f'<rect width="100%" height="100%" fill="white"/>'
        f'<text x="{_W / 2}" y="18" font-size="13" text-anchor="middle">{escape(title)}</text>'
        f'<text x="12" y="{_H / 2}" font-size="10" transform="rotate(-90 12 {_H / 2})" '
        f'text-anchor="middle">{escape(y_label)}</text>' + "".join(ticks) + "".join(body) + "</svg>\n"
    )


def line_chart(title: str, series: dict[str, list[float]], x_label: str, y_label: str) -> str:
    """One polyline per series over its index (e.g. loss per step)."""
    values = [v for vs in series.values() for v in vs] or [1.0]
    y_max = max(values) * 1.05 or 1.0
    n = max((len(vs) for vs in series.values()), default=1)
    body = []
    for k, (name, vs) in enumerate(series.items()):
        pts = " ".join(
            f"{_PAD + (_W - 1.5 * _PAD) * i / max(1, n - 1):.1f},{_H - _PAD - (_H - 2 * _PAD) * v / y_max:.1f}"
            for i, v in enumerate(vs)
        )
        colour = _COLOURS[k % len(_COLOURS)]
        body.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{pts}"/>')
        body.append(f'<text x="{_W - _PAD}" y="{40 + 14 * k}" font-size="11" fill="{colour}" '
                    f'text-anchor="end">{escape(name)}</text>')
    body.append(f'<text x="{_W / 2}" y="{_H - 10}" font-size="11" text-anchor="middle">{escape(x_label)}</text>')
    return _frame(title, body, y_max, y_label)


def bar_chart(title: str, groups: dict[str, dict[str, float]], y_label: str) -> str:
    """Grouped bars: ``groups[group][series] = value`` (values in 0..1)."""
    names = list(dict.fromkeys(s for g in groups.values() for s in g))
    y_max = 1.0
    slot = (_W - 1.5 * _PAD) / max(1, len(groups))
    width = slot * 0.8 / max(1, len(names))
    body = []
    for gi, (group, values) in enumerate(groups.items()):
        x0 = _PAD + gi * slot + slot * 0.1
        for si, name in enumerate(names):
            v = values.get(name, 0.0)
            h = (_H - 2 * _PAD) * v / y_max
            x = x0 + si * width
            body.append(f'<rect x="{x:.1f}" y="{_H - _PAD - h:.1f}" width="{width - 2:.1f}" height="{h:.1f}" '
                        f'fill="{_COLOURS[si % len(_COLOURS)]}"/>')
            body.append(f'<text x="{x + width / 2:.1f}" y="{_H - _PAD - h - 3:.1f}" font-size="9" '
                        f'text-anchor="middle">{v:.2f}</text>')
        body.append(f'<text x="{x0 + slot * 0.4:.1f}" y="{_H - _PAD + 14}" font-size="11" '
                    f'text-anchor="middle">{escape(group)}</text>')
    for si, name in enumerate(names):
        body.append(f'<text x="{_W - _PAD}" y="{36 + 13 * si}" font-size="11" '
                    f'fill="{_COLOURS[si % len(_COLOURS)]}" text-anchor="end">{escape(name)}</text>')
    return _frame(title, body, y_max, y_label)
