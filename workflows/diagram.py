"""Diagrams of the lifecycles: Mermaid text, and SVG drawn here without any library.

Each transition is labelled with the roles that may fire it (and "system" where the
scheduler may), so a programme officer can read who does what from the picture.
"""

from __future__ import annotations

from collections import deque
from html import escape

from workflows.base import Lifecycle

ROLE_SHORT = {
    "applicant": "applicant",
    "evaluator": "evaluator",
    "programme_officer": "officer",
    "finance_officer": "finance",
    "admin": "admin",
}


def who(machine: type[Lifecycle], event: str) -> str:
    declared = machine.rules[event]
    names = [ROLE_SHORT.get(role, role) for role in sorted(declared.roles)]
    if declared.system:
        names.append("system")
    return ", ".join(names)


def mermaid(machine: type[Lifecycle]) -> str:
    lines = ["stateDiagram-v2", f"    [*] --> {machine.initial_value()}"]
    for source, event, target in machine.edges():
        lines.append(f"    {source} --> {target}: {event} ({who(machine, event)})")
    for state in machine.states:
        if state.final:
            lines.append(f"    {state.value} --> [*]")
    return "\n".join(lines) + "\n"


def _layers(machine: type[Lifecycle]) -> list[list[str]]:
    """States by their distance from the initial state (breadth first)."""
    depth = {machine.initial_value(): 0}
    queue = deque([machine.initial_value()])
    edges = machine.edges()
    while queue:
        state = queue.popleft()
        for source, _, target in edges:
            if source == state and target not in depth:
                depth[target] = depth[state] + 1
                queue.append(target)
    for value in machine.state_values():
        depth.setdefault(value, max(depth.values()) + 1)
    layers: list[list[str]] = [[] for _ in range(max(depth.values()) + 1)]
    for value in machine.state_values():
        layers[depth[value]].append(value)
    return layers


BOX_W, BOX_H, GAP_X, GAP_Y, MARGIN, LEGEND_W = 170, 40, 60, 100, 30, 330


def svg(machine: type[Lifecycle]) -> str:
    """States in rows by distance from the start; each transition is a numbered arrow
    and the legend beside it says, per number, the transition and who fires it."""
    layers = _layers(machine)
    edges = machine.edges()
    widest = max(len(layer) for layer in layers)
    chart_w = MARGIN * 2 + widest * BOX_W + (widest - 1) * GAP_X + 60
    chart_h = MARGIN * 2 + len(layers) * BOX_H + (len(layers) - 1) * GAP_Y
    width = chart_w + LEGEND_W
    height = max(chart_h, MARGIN * 2 + 20 * (len(edges) + 1))
    position: dict[str, tuple[float, float]] = {}
    for row, layer in enumerate(layers):
        row_width = len(layer) * BOX_W + (len(layer) - 1) * GAP_X
        start = (chart_w - 60 - row_width) / 2
        for column, value in enumerate(layer):
            position[value] = (start + column * (BOX_W + GAP_X), MARGIN + row * (BOX_H + GAP_Y))
    names = {state.value: state.name for state in machine.states}
    finals = {state.value for state in machine.states if state.final}

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'role="img" aria-labelledby="{machine.entity}-title" class="lifecycle">',
        f'<title id="{machine.entity}-title">Lifecycle of {escape(machine.title)}</title>',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker>'
        "</defs>",
    ]
    markers, legend = [], []
    pairs: dict[tuple[str, str], int] = {}
    for number, (source, event, target) in enumerate(edges, start=1):
        x1, y1 = position[source]
        x2, y2 = position[target]
        nth = pairs.get((source, target), 0)
        pairs[(source, target)] = nth + 1
        if source == target:
            cx, cy = x1 + BOX_W, y1 + BOX_H / 2
            path = (
                f"M{cx:.0f},{cy - 8:.0f} C{cx + 45:.0f},{cy - 35:.0f} "
                f"{cx + 45:.0f},{cy + 35:.0f} {cx:.0f},{cy + 8:.0f}"
            )
            mx, my = cx + 34 + 20 * nth, cy
        else:
            sx, sy = x1 + BOX_W / 2, y1 + (BOX_H if y2 > y1 else 0)
            tx, ty = x2 + BOX_W / 2, y2 + (0 if y2 > y1 else BOX_H)
            if y2 == y1:
                sy, ty = y1 + BOX_H, y2 + BOX_H
            bend = 0 if y2 > y1 else (70 + 25 * nth) * (1 if x2 >= x1 else -1)
            cx, cy = (sx + tx) / 2 + bend, (sy + ty) / 2 + (45 if y2 == y1 else 0)
            path = f"M{sx:.0f},{sy:.0f} Q{cx:.0f},{cy:.0f} {tx:.0f},{ty:.0f}"
            t = 0.5 if y2 <= y1 else 0.45
            mx = (1 - t) ** 2 * sx + 2 * (1 - t) * t * cx + t**2 * tx
            my = (1 - t) ** 2 * sy + 2 * (1 - t) * t * cy + t**2 * ty
        parts.append(f'<path d="{path}" class="edge" marker-end="url(#arrow)"/>')
        markers.append(
            f'<g class="edge-number"><circle cx="{mx:.0f}" cy="{my:.0f}" r="9"/>'
            f'<text x="{mx:.0f}" y="{my + 4:.0f}" text-anchor="middle">{number}'
            "</text></g>"
        )
        legend.append(
            f'<text x="{chart_w:.0f}" y="{MARGIN + 20 * number:.0f}" '
            f'class="legend">{number}. {escape(event)} — {escape(who(machine, event))}'
            "</text>"
        )
    for value, (x, y) in position.items():
        kind = "state final" if value in finals else "state"
        if value == machine.initial_value():
            kind += " initial"
        parts.append(
            f'<g class="{kind}"><rect x="{x:.0f}" y="{y:.0f}" width="{BOX_W}" '
            f'height="{BOX_H}" rx="8"/>'
            f'<text x="{x + BOX_W / 2:.0f}" y="{y + BOX_H / 2 + 5:.0f}" '
            f'text-anchor="middle">{escape(names[value])}</text></g>'
        )
    parts.extend(markers)
    parts.append(
        f'<text x="{chart_w:.0f}" y="{MARGIN:.0f}" class="legend-title">'
        "Transitions — who may fire them</text>"
    )
    parts.extend(legend)
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
