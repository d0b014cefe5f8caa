"""A Grace trace as an SVG timeline (tools/ktrace.py writes it; stdlib only).

render(timeline, window) draws one lane per CPU under a row for the grace
periods. Each grace period is a band across every lane, from its start to
its end, with a diamond where each CPU's quiescent state for it arrived. In
a lane: the running task (a thin strip with its name), idle stretches
greyed, read sections as bars, synchronize_rcu calls as bars under them,
call_rcu as a dot joined by a curve to the tick where its callback ran.
A legend and a time axis (ms since the first event) end the picture. Every
mark has a <title>, so a browser shows its details on hover. The file is
self-contained: no scripts, no fonts, no external styles.
"""

from __future__ import annotations

import math
import zlib
from xml.sax.saxutils import escape

WIDTH = 1200
LEFT, RIGHT = 92, 24
TOP = 54
GP_ROW = 30
LANE = 84
AXIS = 40
FONT = "font-family:Helvetica,Arial,sans-serif"

GP_FILLS = ("#d8ecd6", "#d6e4f2")          # alternate grace periods
GP_STROKES = ("#5a9a52", "#4f7fb0")
READ = "#e8912d"
READ_OTHER = "#d9b47a"
SYNC = "#3b5fa8"
QS = "#1f6f3a"
CB = "#8a3fa0"
IDLE = "#e4e4e4"
ALERT = "#c0392b"
LOST = "#f6e3e1"


def nice_step(span_ms: float, target: int = 10) -> float:
    """A round tick interval (1, 2 or 5 times a power of ten) for span_ms."""
    raw = span_ms / max(target, 1)
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for m in (1, 2, 5, 10):
        if raw <= m * power:
            return m * power
    return 10 * power


def task_color(pid: int) -> str:
    """A soft colour per task; the idle tasks (pid 0) are grey."""
    if pid <= 0:
        return "#bdbdbd"
    h = zlib.crc32(str(pid).encode()) % 360
    return f"hsl({h},45%,62%)"


class Canvas:
    """SVG elements in drawing order, with the time-to-x mapping."""

    def __init__(self, tl, window):
        self.tl = tl
        start, end = window
        self.w0 = tl.t0 + int((start or 0) * 1e6)
        self.w1 = tl.t0 + int(end * 1e6) if end is not None else tl.t1
        if self.w1 <= self.w0:
            self.w1 = self.w0 + 1000
        self.plot = WIDTH - LEFT - RIGHT
        self.items: list[str] = []

    def x(self, ns: float) -> float:
        return LEFT + (ns - self.w0) * self.plot / (self.w1 - self.w0)

    def visible(self, start: float, end: float) -> bool:
        return end >= self.w0 and start <= self.w1

    def clip(self, start: float, end: float) -> tuple[float, float]:
        return self.x(max(start, self.w0)), self.x(min(end, self.w1))

    def lane_y(self, cpu: int) -> float:
        return TOP + GP_ROW + cpu * LANE

    def add(self, element: str, title: str | None = None):
        if title:
            tag_end = element.index(" ")
            tag = element[1:tag_end]
            element = element.rstrip("/>").rstrip() + f"><title>{escape(title)}</title></{tag}>"
        self.items.append(element)

    def rect(self, x, y, w, h, fill, title=None, extra=""):
        self.add(f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0.8):.1f}" height="{h:.1f}" '
                 f'fill="{fill}" {extra}/>', title)

    def text(self, x, y, s, size=11, fill="#222", anchor="start", weight="normal"):
        self.items.append(f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{fill}" '
                          f'text-anchor="{anchor}" font-weight="{weight}" style="{FONT}">'
                          f'{escape(s)}</text>')

    def ms(self, ns: float) -> str:
        return f"{(ns - self.tl.t0) / 1e6:.3f} ms"


def draw_lane_backgrounds(c: Canvas):
    for cpu in range(c.tl.ncpu):
        y = c.lane_y(cpu)
        c.rect(LEFT, y, c.plot, LANE - 6, "#ffffff", extra='stroke="#cfcfcf" class="lane"')
        c.text(LEFT - 10, y + LANE / 2, f"cpu{cpu}", 13, anchor="end", weight="bold")


def draw_lanes(c: Canvas):
    tl = c.tl
    for cpu, since in sorted(tl.kept_from.items()):
        if since > c.w0:                   # the buffer overwrote this CPU's older events
            x1 = c.x(min(since, c.w1))
            c.rect(LEFT, c.lane_y(cpu) + 1, x1 - LEFT, LANE - 8, LOST,
                   f"cpu{cpu}: events before {c.ms(since)} were lost (a full buffer)")
            if x1 - LEFT > 90:
                c.text(LEFT + 6, c.lane_y(cpu) + LANE - 12, "earlier events lost", 10, ALERT)
    for s in tl.idle:
        if c.visible(s.start, s.end):
            x0, x1 = c.clip(s.start, s.end)
            c.rect(x0, c.lane_y(s.cpu) + 1, x1 - x0, LANE - 8, "url(#idle)",
                   f"cpu{s.cpu} idle (extended quiescent state) {c.ms(s.start)} .. {c.ms(s.end)}")
    for t in tl.tasks:
        if not c.visible(t.start, t.end):
            continue
        x0, x1 = c.clip(t.start, t.end)
        y = c.lane_y(t.cpu) + 3
        name = t.label if t.pid <= 0 else f"{t.label} ({t.pid})"
        c.rect(x0, y, x1 - x0, 11, task_color(t.pid),
               f"cpu{t.cpu} runs {name} {c.ms(t.start)} .. {c.ms(t.end)}", 'rx="2"')
        if x1 - x0 > 7 * len(name) + 6:
            c.text(x0 + 4, y + 9, name, 9, "#1b1b1b")


def draw_grace_periods(c: Canvas):
    tl = c.tl
    bottom = c.lane_y(tl.ncpu) - 6
    c.text(LEFT - 10, TOP + 19, "grace", 11, anchor="end", weight="bold")
    c.text(LEFT - 10, TOP + 31, "periods", 11, anchor="end", weight="bold")
    for n, g in sorted(tl.gps.items()):
        if g.start is None:
            continue
        end = g.end if g.end is not None else tl.t1
        if not c.visible(g.start, end):
            continue
        x0, x1 = c.clip(g.start, end)
        fill, stroke = GP_FILLS[n % 2], GP_STROKES[n % 2]
        waits = " ".join(f"cpu{i}" for i in range(tl.ncpu) if g.waits_for >> i & 1) or "no CPU"
        title = (f"GP {n}: {c.ms(g.start)} .. " + (c.ms(g.end) if g.end is not None else "(running)")
                 + f", waits for {waits}")
        c.rect(x0, TOP + 4, x1 - x0, GP_ROW - 8, fill, title, f'stroke="{stroke}" rx="3"')
        c.rect(x0, TOP + GP_ROW, x1 - x0, bottom - TOP - GP_ROW, fill, None,
               f'fill-opacity="0.6" stroke="{stroke}" stroke-dasharray="3,3"')
        label = f"GP {n}: waits for {waits}"
        if x1 - x0 > 7 * len(label):
            c.text((x0 + x1) / 2, TOP + 19, label, 11, stroke, "middle", "bold")
        elif x1 - x0 > 7 * len(f"GP {n}") + 6:
            c.text((x0 + x1) / 2, TOP + 19, f"GP {n}", 11, stroke, "middle", "bold")
        if g.requested is not None and c.visible(g.requested, g.requested):
            xr = c.x(g.requested)
            c.add(f'<path d="M{xr:.1f},{TOP + 2} l-4,-7 h8 z" fill="#555"/>',
                  f"GP {n} requested at {c.ms(g.requested)}")


def draw_quiescent_states(c: Canvas):
    marks = sorted((ns, cpu, n, where) for n, g in c.tl.gps.items()
                   for cpu, (ns, where) in g.qs.items() if c.visible(ns, ns))
    label_end: dict[int, float] = {}      # per lane: where the last label ends
    for i, (ns, cpu, n, where) in enumerate(marks):
        xq, yq = c.x(ns), c.lane_y(cpu) + 25
        c.add(f'<path d="M{xq:.1f},{yq - 7} l6,7 l-6,7 l-6,-7 z" fill="{QS}" stroke="#fff" '
              f'stroke-width="1"/>', f"cpu{cpu}: quiescent state for GP {n} at {c.ms(ns)} "
              f"(from {where})")
        # A label where there is room: right of the mark, else left of it.
        lane = [c.x(m[0]) for m in marks if m[1] == cpu]
        right = min([x for x in lane if x > xq] + [WIDTH - 4]) - xq
        left = xq - max([x for x in lane if x < xq] + [label_end.get(cpu, LEFT - 40)])
        for label in (f"QS {n} ({where})", f"QS {n}"):
            width = 8 + 5.2 * len(label)
            if width + 6 < right and xq + 8 >= label_end.get(cpu, 0):
                c.text(xq + 8, yq + 4, label, 9, QS)
                label_end[cpu] = xq + width
                break
            if width + 6 < left:
                c.text(xq - 8, yq + 4, label, 9, QS, "end")
                break


def draw_reads_and_syncs(c: Canvas):
    for r in c.tl.reads:
        if not c.visible(r.start, r.end):
            continue
        x0, x1 = c.clip(r.start, r.end)
        y = c.lane_y(r.cpu) + 36
        what = "RCU read section" if r.inside else "read"
        c.rect(x0, y, x1 - x0, 12, READ if r.inside else READ_OTHER,
               f"cpu{r.cpu}: {what} '{r.label}' (pid {r.pid}) {c.ms(r.start)} .. {c.ms(r.end)}",
               'rx="2"')
        if x1 - x0 > 90:
            c.text(x0 + 5, y + 10, f"{what}: {r.label}", 9, "#fff", weight="bold")
    for s in c.tl.syncs:
        end = s.end if s.end is not None else c.tl.t1
        if not c.visible(s.start, end):
            continue
        x0, x1 = c.clip(s.start, end)
        y = c.lane_y(s.cpu) + 52
        what = "synchronize_rcu_expedited" if s.expedited else "synchronize_rcu"
        c.rect(x0, y, x1 - x0, 12, SYNC, f"pid {s.pid}: {what} waits for GP {s.gp}, "
               f"{c.ms(s.start)} .. " + (c.ms(s.end) if s.end is not None else "(still waiting)"),
               'rx="2"')
        if x1 - x0 > 150:
            c.text(x0 + 5, y + 10, f"{what} (needs GP {s.gp})", 9, "#fff", weight="bold")


def draw_callbacks(c: Canvas):
    for cb in c.tl.callbacks:
        has_call = cb.call_ns is not None and c.visible(cb.call_ns, cb.call_ns)
        has_run = cb.run_ns is not None and c.visible(cb.run_ns, cb.run_ns)
        if has_call and cb.run_ns is not None and (has_run or cb.run_ns > c.w1):
            xa, ya = c.x(cb.call_ns), c.lane_y(cb.call_cpu) + 71
            xb, yb = c.x(min(cb.run_ns, c.w1)), c.lane_y(cb.run_cpu) + 71
            lift = 8 if cb.call_cpu == cb.run_cpu else 0
            c.add(f'<path d="M{xa:.1f},{ya:.1f} C{xa + (xb - xa) * 0.3:.1f},{ya + lift:.1f} '
                  f'{xb - (xb - xa) * 0.3:.1f},{yb + lift:.1f} {xb:.1f},{yb:.1f}" fill="none" '
                  f'stroke="{CB}" stroke-width="1.3" stroke-dasharray="4,3" opacity="0.8"/>')
        if has_call:
            c.add(f'<circle cx="{c.x(cb.call_ns):.1f}" cy="{c.lane_y(cb.call_cpu) + 71:.1f}" r="4" '
                  f'fill="{CB}"/>', f"cpu{cb.call_cpu}: call_rcu({cb.cb:#x}) at "
                  f"{c.ms(cb.call_ns)}, needs GP {cb.gp}")
        if has_run:
            x, y = c.x(cb.run_ns), c.lane_y(cb.run_cpu)
            c.add(f'<line x1="{x:.1f}" y1="{y + 63:.1f}" x2="{x:.1f}" y2="{y + 78:.1f}" '
                  f'stroke="{CB}" stroke-width="3"/>', f"cpu{cb.run_cpu}: callback {cb.cb:#x} "
                  f"ran at {c.ms(cb.run_ns)} (needed GP {cb.gp})")


def draw_instants(c: Canvas):
    for e in c.tl.instants:
        if not c.visible(e.ns, e.ns) or e.kind not in ("exp_ipi", "stall", "mark"):
            continue
        x, y = c.x(e.ns), c.lane_y(e.cpu)
        if e.kind == "stall":
            c.add(f'<path d="M{x:.1f},{TOP + 4} v{c.lane_y(c.tl.ncpu) - TOP - 10}" '
                  f'stroke="{ALERT}" stroke-width="2"/>',
                  f"stall warning at {c.ms(e.ns)}: GP {e.args.get('gp')} waits for "
                  f"{e.args.get('wait', 0):#x}")
            c.rect(x + 2, TOP + GP_ROW + 17, 80, 14, "#ffffff", None, 'fill-opacity="0.85" rx="2"')
            c.text(x + 5, TOP + GP_ROW + 28, "stall warning", 10, ALERT, weight="bold")
        elif e.kind == "exp_ipi":
            c.add(f'<path d="M{x:.1f},{y + 14} l5,-9 h-10 z" fill="{ALERT}"/>',
                  f"cpu{e.cpu}: expedited IPIs to CPUs {e.args.get('cpus', 0):#x} at {c.ms(e.ns)}")
        else:
            c.add(f'<line x1="{x:.1f}" y1="{y + 2}" x2="{x:.1f}" y2="{y + LANE - 8}" stroke="#777" '
                  'stroke-dasharray="1,2"/>', f"cpu{e.cpu}: mark {e.args} at {c.ms(e.ns)}")


def draw_axis(c: Canvas) -> float:
    y = c.lane_y(c.tl.ncpu) + 2
    c.add(f'<line x1="{LEFT}" y1="{y}" x2="{LEFT + c.plot}" y2="{y}" stroke="#444"/>')
    lo, hi = (c.w0 - c.tl.t0) / 1e6, (c.w1 - c.tl.t0) / 1e6
    step = nice_step(hi - lo)
    tick = step * (int(lo / step) + (lo % step > 1e-9))
    digits = max(0, -int(math.floor(math.log10(step)))) if step < 1 else 0
    while tick <= hi + 1e-9:
        x = c.x(c.tl.t0 + tick * 1e6)
        c.add(f'<line x1="{x:.1f}" y1="{y}" x2="{x:.1f}" y2="{y + 5}" stroke="#444"/>')
        c.add(f'<line x1="{x:.1f}" y1="{TOP + GP_ROW}" x2="{x:.1f}" y2="{y}" stroke="#000" '
              'stroke-opacity="0.06"/>')
        c.text(x, y + 17, f"{tick:.{digits}f}", 10, "#333", "middle")
        tick += step
    c.text(LEFT + c.plot, y + 32, "ms since the first event", 10, "#555", "end")
    return y + AXIS


def draw_legend(c: Canvas, y: float):
    """What each mark means: the marks this picture has."""
    tl, x = c.tl, LEFT
    reads = [r.inside for r in tl.reads if c.visible(r.start, r.end)]
    kinds = {e.kind for e in tl.instants if c.visible(e.ns, e.ns)}
    entries = [
        ("band", GP_FILLS[1], GP_STROKES[1], "grace period (across all CPUs)", True),
        ("diamond", QS, None, "quiescent state for GP n (reported from)", True),
        ("bar", READ, None, "RCU read section", any(reads)),
        ("bar", READ_OTHER, None, "sys_lsread (any scheme)", not all(reads)),
        ("bar", SYNC, None, "synchronize_rcu waiting", bool(tl.syncs)),
        ("dot", CB, None, "call_rcu → callback ran", bool(tl.callbacks)),
        ("bar", "url(#idle)", "#bbb", "idle: extended quiescent state", bool(tl.idle)),
        ("strip", task_color(7), None, "running task (pid)", bool(tl.tasks)),
        ("bar", LOST, None, "events lost (buffer full)", any(t > c.w0 for t in tl.kept_from.values())),
        ("ipi", ALERT, None, "expedited IPIs sent", "exp_ipi" in kinds),
        ("line", ALERT, None, "stall warning", "stall" in kinds),
        ("mark", "#777", None, "self-test mark", "mark" in kinds),
    ]
    entries = [e[:4] for e in entries if e[4]]
    for kind, fill, stroke, label in entries:
        if x + 38 + 6.2 * len(label) > WIDTH - RIGHT:
            x, y = LEFT, y + 22
        sy = y + 10
        if kind == "diamond":
            c.add(f'<path d="M{x + 7},{sy - 6} l6,6 l-6,6 l-6,-6 z" fill="{fill}"/>')
        elif kind == "ipi":
            c.add(f'<path d="M{x + 13},{sy + 5} l5,-9 h-10 z" fill="{fill}"/>')
        elif kind in ("line", "mark"):
            dash = ' stroke-dasharray="1,2"' if kind == "mark" else ""
            c.add(f'<line x1="{x + 13}" y1="{sy - 7}" x2="{x + 13}" y2="{sy + 7}" stroke="{fill}" '
                  f'stroke-width="2"{dash}/>')
        elif kind == "dot":
            c.add(f'<circle cx="{x + 4}" cy="{sy}" r="4" fill="{fill}"/>')
            c.add(f'<path d="M{x + 8},{sy} q8,8 16,0" fill="none" stroke="{fill}" '
                  'stroke-dasharray="3,2"/>')
            c.add(f'<line x1="{x + 26}" y1="{sy - 7}" x2="{x + 26}" y2="{sy + 7}" stroke="{fill}" '
                  'stroke-width="3"/>')
        else:
            h = 6 if kind == "strip" else 12
            extra = f'stroke="{stroke}"' if stroke else ""
            c.rect(x, sy - h / 2, 26, h, fill, None, extra + ' rx="2"')
        c.text(x + 32, sy + 4, label, 11, "#333")
        x += 44 + 6.2 * len(label)
    return y + 22


def render(tl, window=(None, None), title: str = "") -> str:
    """The SVG document for Timeline `tl`; window = (from_ms, to_ms) after
    the first event, either None for the trace's own edge."""
    c = Canvas(tl, window)
    draw_lane_backgrounds(c)
    draw_grace_periods(c)
    draw_lanes(c)
    draw_reads_and_syncs(c)
    draw_callbacks(c)
    draw_quiescent_states(c)
    draw_instants(c)
    y = draw_axis(c)
    height = int(draw_legend(c, y) + 14)
    span = (c.w1 - c.w0) / 1e6
    heading = title or "Grace: grace periods on every CPU"
    sub = (f"{tl.ncpu} CPUs, {span:.2f} ms shown; hover over a mark for its details")
    head = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}">',
        '<defs><pattern id="idle" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#9a9a9a" '
        'fill-opacity="0.16"/><line x1="0" y1="0" x2="0" y2="6" stroke="#8a8a8a" '
        'stroke-opacity="0.3" stroke-width="2.5"/></pattern></defs>',
        f'<rect width="{WIDTH}" height="{height}" fill="#fafafa"/>',
        f'<text x="{LEFT}" y="24" font-size="17" font-weight="bold" fill="#222" '
        f'style="{FONT}">{escape(heading)}</text>',
        f'<text x="{LEFT}" y="42" font-size="11" fill="#555" style="{FONT}">{escape(sub)}</text>',
    ]
    return "\n".join(head + c.items + ["</svg>", ""])
