"""Plain-text tables of the harness's figures and maps (the JSON holds the same numbers)."""

from __future__ import annotations

from typing import Any

from bench.harness.figures import Figure

__all__ = ["render_headline", "render_maps"]


def _value(f: Figure | dict | None) -> str:
    if f is None:
        return "-"
    value, n, unit, met = ((f.value, f.n, f.unit, f.met) if isinstance(f, Figure)
                           else (f.get("value"), f.get("n"), f.get("unit", ""), f.get("met")))
    if not n:
        return "-"
    if value is None:
        text = "never"
    elif unit == "/s":
        text = f"{value:,.0f}"
    elif unit in ("min", "count"):
        text = f"{value:.0f}"
    else:
        text = f"{value:.2f}"
    mark = {True: " ok", False: " X", None: ""}[met]
    return text + mark


def render_headline(figs: dict[str, list[Figure]], compare: dict[str, Any] | None) -> str:
    """One row per figure: target, each variant (with ok/X), the gap, an earlier run."""
    variants = list(figs)
    header = f"{'figure':58} {'target':>16}" + "".join(f" {v:>12}" for v in variants)
    if len(variants) == 2:
        header += f" {'gap':>8}"
    if compare:
        header += "".join(f" {'was ' + v:>13}" for v in variants)
    header += "   n"
    lines = [header, "-" * len(header)]
    for i, f in enumerate(figs[variants[0]]):
        row = f"{f.title:58} {f.target:>16}" + "".join(
            f" {_value(figs[v][i]):>12}" for v in variants)
        if len(variants) == 2:
            a, b = figs[variants[0]][i].value, figs[variants[1]][i].value
            whole = f.unit in ("/s", "min") or (a is not None and b is not None
                                                and abs(b - a) >= 10)
            gap = ("-" if a is None or b is None
                   else f"{b - a:+,.0f}" if whole else f"{b - a:+.2f}")
            row += f" {gap:>8}"
        if compare:
            for v in variants:
                old = compare.get("variants", {}).get(v, {}).get("figures", {}).get(f.key)
                row += f" {_value(old):>13}"
        row += "   " + "/".join(str(figs[v][i].n) for v in variants)
        lines.append(row)
    lines.append("ok/X: target met or not; 'never': the median storm was not warned at all;"
                 " gap: holdout - tuned; n: storms, episodes or entity-weeks behind it"
                 " (entity-days for the first day watched)")
    return "\n".join(lines)


def _cell(stats: dict[str, Any] | None, what: str) -> str:
    if not stats or not stats.get("n"):
        return "."
    if what == "recall":
        return f"{stats['found']}/{stats['n']}"
    value = stats.get(what)
    return "never" if value is None else f"{value:.0f}"


def render_maps(variant: str, m: dict[str, Any]) -> str:
    """The maps of one variant."""
    out = [f"=== {variant}: storm grid (rise time x peak volume multiplier) ==="]
    grid = m["rise_x_multiplier"]
    for what, title in (("recall", "found / storms (warning or critical before the end)"),
                        ("median_delay", "median delay after onset, minutes (misses = never)")):
        out.append(f"{title}")
        out.append(f"{'rise':>10}" + "".join(f" {c:>10}" for c in grid["cols"]))
        for r in grid["rows"]:
            out.append(f"{r:>10}" + "".join(
                f" {_cell(grid['cells'].get(f'{r}|{c}'), what):>10}" for c in grid["cols"]))
    out.append("by rise time (lead: minutes before the peak; before peak: share warned by it)")
    out.append(_rows(m["by_rise"]))
    base = m["baseline_x_kind"]
    out.append("found / storms by usual volume (mentions an hour) x kind of entity")
    out.append(f"{'baseline':>12}" + "".join(f" {c:>11}" for c in base["cols"]))
    for r in base["rows"]:
        out.append(f"{r:>12}" + "".join(
            f" {_cell(base['cells'].get(f'{r}|{c}'), 'recall'):>11}" for c in base["cols"]))
    out.append("by hostile-share shift")
    out.append(_rows(m["by_shift"]))
    out.append("by the storm's dominant hostile style (most are scored low by a sentiment model)")
    out.append(_rows(m["by_dominant_style"]))
    out.append("by family (storm: the grid; official: own post viral overnight; cold: first hour)")
    out.append(_rows(m["by_family"]))
    for key, title in (("background_by_kind", "background-only streams, by kind of entity"),
                       ("young_by_kind", "first day watched (storm-free), by kind of entity"),
                       ("drift_by_kind", "level changes (storm-free), by kind of entity")):
        if not m.get(key):
            continue  # a run without the family, or saved before it existed
        out.append(title)
        out.append(f"{'kind':>12} {'ent-weeks':>10} {'pages':>6} {'pages/ew':>9} {'incid.':>7}"
                   f" {'incid./ew':>10}")
        for kind, b in sorted(m[key].items()):
            out.append(f"{kind:>12} {b['entity_weeks']:>10.1f} {b['warning_pages']:>6}"
                       f" {_num(b['warning_pages_per_entity_week']):>9}"
                       f" {b['incidents']:>7} {_num(b['incidents_per_entity_week']):>10}")
    out.append("benign episodes by the highest severity they reached")
    for label, counts in sorted(m["benign_max_severity"].items()):
        out.append(f"{label:>12} " + "  ".join(
            f"{k}={counts.get(k, 0)}" for k in ("none", "watch", "warning", "critical")))
    return "\n".join(out)


def _rows(groups: dict[str, dict[str, Any]]) -> str:
    lines = [f"{'':>12} {'n':>4} {'found':>6} {'recall':>6} {'delay':>6} {'lead':>6}"
             f" {'bef.peak':>8}  delay of found p10/p50/p90"]
    for key, s in groups.items():
        d = s["delay_found"]
        lines.append(f"{key:>12} {s['n']:>4} {s['found']:>6} {_num(s['recall']):>6}"
                     f" {_cell(s, 'median_delay'):>6} {_cell(s, 'median_lead'):>6}"
                     f" {_num(s['before_peak']):>8}  "
                     + "/".join("-" if d[k] is None else f"{d[k]:.0f}"
                                for k in ("p10", "p50", "p90")))
    return "\n".join(lines)


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"
