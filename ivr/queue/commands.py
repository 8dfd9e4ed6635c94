"""`ivr queue ...`: validate the queue config, Erlang figures, batch staffing study."""
from __future__ import annotations

import argparse
import math
import re
from pathlib import Path

# menus/queues.yaml of the current folder if there is one, else the bundled one
_BUNDLED = Path(__file__).resolve().parents[2] / "menus" / "queues.yaml"
DEFAULT_CONFIG = "menus/queues.yaml" if Path("menus/queues.yaml").exists() else str(_BUNDLED)


def _console():
    """A rich console; wide when writing to a file or pipe so tables are not squeezed."""
    import sys

    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 200)


def register(sub: argparse._SubParsersAction) -> None:
    """Add `ivr queue` and its sub-commands."""
    p = sub.add_parser("queue", help="agent queue: Erlang figures, staffing simulation, config check",
                       description="Agent queue of the 165 line: Erlang B/C/A, batch simulation, config validation.")
    qs = p.add_subparsers(dest="queue_command", metavar="SUBCOMMAND")
    p.set_defaults(func=lambda a: (p.print_help(), 2)[1])

    e = qs.add_parser("erlang", help="Erlang B, C and A figures for one or more staffing levels",
                      description="Closed-form Erlang B and C (and Erlang A with --patience). "
                                  "Service level under abandonment = answered within target / all arrivals.")
    e.add_argument("--traffic", type=float, required=True, metavar="ERL", help="offered traffic in Erlangs")
    e.add_argument("--aht", type=float, required=True, metavar="S", help="mean handle time, seconds")
    e.add_argument("--agents", required=True, metavar="C", help="agents: 12, 10..16 or 10,12,14")
    e.add_argument("--patience", type=float, metavar="S", help="mean caller patience, seconds (adds Erlang A)")
    e.add_argument("--target", type=float, default=20.0, metavar="S", help="answer-time target (default 20)")
    e.set_defaults(func=cmd_erlang)

    s = qs.add_parser("simulate", help="batch staffing study with confidence intervals",
                      description="Run the queue model (the one live calls use) as a fast batch and print, per "
                                  "agent count, P(wait), mean wait, ASA, service level, abandonment and occupancy "
                                  "with 95%% confidence intervals (batch means).")
    s.add_argument("--config", default=DEFAULT_CONFIG, help=f"queue config (default {DEFAULT_CONFIG})")
    s.add_argument("--calls", type=_calls, default=100_000, metavar="N", help="calls per staffing level (default 1e5)")
    s.add_argument("--agents", metavar="C", help="agent counts: 12, 10..16 or 10,12,14 (config: total headcount "
                   "on duty all day, split over groups by their scheduled hours; default: the configured shifts)")
    s.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    s.add_argument("--hour", type=int, metavar="H", help="config mode: hold the arrival rate of hour H all day "
                   "(stationary study); default: the hourly profile")
    s.add_argument("--mm", metavar="TRAFFIC,AHT[,PATIENCE]", help="single M/M/c(+M) queue instead of the config, "
                   "e.g. 10,180,120")
    s.add_argument("--traffic", type=float, metavar="ERL", help="M/M/c mode: offered traffic (Erlangs)")
    s.add_argument("--aht", type=float, metavar="S", help="M/M/c mode: mean handle time (s)")
    s.add_argument("--patience", metavar="S", help="M/M/c mode: mean patience (s), or 'none'")
    s.add_argument("--target", type=float, default=20.0, metavar="S", help="service-level target (default 20 s)")
    s.add_argument("--batches", type=int, default=20, help="batches for the batch-means CI (default 20)")
    s.add_argument("--warmup", type=int, metavar="N", help="calls discarded at the start (default 2%% of --calls)")
    s.add_argument("--by-queue", action="store_true", help="also print figures per request type (queue)")
    s.add_argument("--plot", metavar="PNG", help="write wait-time distribution and SL vs agents to this PNG")
    s.set_defaults(func=cmd_simulate)

    v = qs.add_parser("validate", help="check a queue config and summarise it",
                      description="Check a queue config (like `ivr lint` for trees) and summarise it.",
                      epilog="Example: ivr queue validate menus/queues.yaml")
    v.add_argument("path", nargs="?", metavar="FILE", help=f"queue config (default {DEFAULT_CONFIG})")
    v.add_argument("--config", metavar="FILE", help="the same as FILE (kept for scripts)")
    v.set_defaults(func=cmd_validate)


# ---------------------------------------------------------------------------- parsing helpers
def _calls(text: str) -> int:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of calls: {text!r}") from None
    if not x.is_integer() or x < 1 or x > 1e8:
        raise argparse.ArgumentTypeError(f"calls must be a whole number between 1 and 1e8, got {text}")
    return int(x)


#: Staffing levels one command compares: a table or a study a person reads.
MAX_LEVELS = 50


def parse_agents(text: str) -> list[int]:
    """'12' -> [12]; '10..16' -> [10..16]; '10,12,14' -> [10, 12, 14]."""
    from ivr.cli import CliError

    t = text.strip()
    m = re.fullmatch(r"(\d+)\s*(?:\.\.|-)\s*(\d+)", t)
    if m:
        a, b = int(m.group(1)), int(m.group(2))
        if a > b:
            raise CliError(f"--agents {text}: range start is above its end")
        if b - a >= MAX_LEVELS:   # before the list is built: 1..100000000 took 3.9 GB
            raise CliError(f"--agents {text}: {b - a + 1} staffing levels; at most {MAX_LEVELS} at once")
        out = list(range(a, b + 1))
    elif re.fullmatch(r"\d+(\s*,\s*\d+)*", t):
        out = sorted({int(x) for x in t.split(",")})
    else:
        raise CliError(f"--agents {text!r}: write a count (12), a range (10..16) or a list (10,12,14)")
    if not out or out[0] < 1:
        raise CliError("--agents: agent counts must be >= 1")
    if len(out) > MAX_LEVELS:
        raise CliError(f"--agents: {len(out)} staffing levels; at most {MAX_LEVELS} at once")
    return out


def _positive(name: str, x: float | None) -> float:
    from ivr.cli import CliError

    if x is None or not math.isfinite(x) or x <= 0:
        raise CliError(f"{name} must be a positive number")
    return float(x)


def _patience(text: str | None) -> float | None:
    from ivr.cli import CliError

    if text is None or text.strip().lower() in ("none", "inf", "never", ""):
        return None
    try:
        x = float(text)
    except ValueError:
        raise CliError(f"patience must be seconds or 'none', got {text!r}") from None
    return _positive("patience", x)


def _load(path: str):
    from ivr.cli import CliError
    from ivr.queue.config import QueueConfigError, load_config

    if not Path(path).exists():
        raise CliError(f"queue config not found: {path}")
    try:
        return load_config(path)
    except QueueConfigError as exc:
        n = len(exc.issues)
        raise CliError(f"{n} problem{'s' if n > 1 else ''} in the queue config:\n" + str(exc)) from None


# ---------------------------------------------------------------------------- erlang
def cmd_erlang(args: argparse.Namespace) -> int:
    from rich.table import Table

    from ivr.cli import CliError
    from ivr.queue.erlang import erlang_a, erlang_b, erlang_c_figures

    traffic = _positive("--traffic", args.traffic)
    aht = _positive("--aht", args.aht)
    target = args.target
    if not math.isfinite(target) or target < 0:
        raise CliError("--target must be >= 0 seconds")
    patience = _positive("--patience", args.patience) if args.patience is not None else None
    agents = parse_agents(args.agents)
    t = Table(title=f"Erlang figures: {traffic:g} Erl, AHT {aht:g} s, target {target:g} s"
                    + (f", mean patience {patience:g} s" if patience else ""))
    t.add_column("agents", justify="right")
    t.add_column("Erlang B", justify="right")
    t.add_column("C: P(wait)", justify="right")
    t.add_column("ASA s", justify="right")
    t.add_column(f"SL{target:g}", justify="right")
    t.add_column("occupancy", justify="right")
    if patience:
        for col in ("A: P(wait)", "P(abandon)", "E[Wq] s", f"SL{target:g} (all arrivals)", "occupancy A"):
            t.add_column(col, justify="right")
    for c in agents:
        try:
            if traffic < c:
                f = erlang_c_figures(traffic, aht, c, target)
                row = [str(c), f"{f.erlang_b:.5f}", f"{f.p_wait:.5f}", f"{f.asa:.2f}", f"{f.service_level:.4f}",
                       f"{f.occupancy:.4f}"]
            else:  # Erlang C undefined: the queue grows without bound
                row = [str(c), f"{erlang_b(traffic, c):.5f}", "unstable", "inf", "-", "1"]
            if patience:
                a = erlang_a(traffic, aht, c, patience, target)
                row += [f"{a.p_wait:.5f}", f"{a.p_abandon:.5f}", f"{a.mean_wait:.2f}", f"{a.service_level:.4f}",
                        f"{a.occupancy:.4f}"]
        except ValueError as exc:   # inputs beyond what the formulas can solve: say which
            raise CliError(f"{c} agents: {exc}") from None
        t.add_row(*row)
    _console().print(t)
    return 0


# ---------------------------------------------------------------------------- validate
def cmd_validate(args: argparse.Namespace) -> int:
    from rich.table import Table

    from ivr.cli import CliError

    if args.path and args.config and args.path != args.config:
        raise CliError(f"two queue configs given ({args.path} and --config {args.config}): pass one")
    path = args.path or args.config or DEFAULT_CONFIG
    cfg = _load(path)
    con = _console()
    t = Table(title=f"{path}: {len(cfg.queues)} queues, {len(cfg.groups)} agent groups")
    for col in ("queue", "priority", "max length", "service", "share", "agent groups"):
        t.add_column(col)
    share = dict(cfg.traffic.mix)
    for name, q in cfg.queues.items():
        s = q.service
        t.add_row(name, str(q.priority), str(q.max_length or "-"),
                  f"{s.kind} mean {s.mean:g}s" + (f" cv {s.cv:g}" if s.kind in ("lognormal", "gamma") else ""),
                  f"{share.get(name, 0):.0%}", ", ".join(g.name for g in cfg.groups.values() if name in g.skills))
    con.print(t)
    peak_h = max(range(24), key=lambda h: cfg.traffic.rate_per_hour(h))
    on_duty = sum(g.agents_by_hour[peak_h] for g in cfg.groups.values())
    con.print(f"OK. Mean handle time {cfg.mean_handle_time():.0f} s; offered load {cfg.offered_load():.1f} Erl "
              f"on average, {cfg.offered_load(peak_h):.1f} Erl at the peak hour {peak_h:02d}:00 "
              f"with {on_duty} agents on duty.")
    return 0


# ---------------------------------------------------------------------------- simulate
def cmd_simulate(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
    from rich.table import Table

    from ivr.cli import CliError
    from ivr.queue.config import single_queue_config
    from ivr.queue.erlang import erlang_a, erlang_c_figures
    from ivr.queue.simulate import plot_results, run_batch

    con = _console()
    target = args.target
    if not math.isfinite(target) or target < 0:
        raise CliError("--target must be >= 0 seconds")
    if args.batches < 2 or args.batches > 1000:
        raise CliError("--batches must be between 2 and 1000")
    if args.plot and not args.plot.lower().endswith((".png", ".svg", ".pdf")):
        raise CliError(f"--plot {args.plot}: the file name must end in .png, .svg or .pdf")
    mm = None
    if args.mm:
        parts = [p.strip() for p in args.mm.split(",")]
        if len(parts) not in (2, 3):
            raise CliError("--mm needs TRAFFIC,AHT or TRAFFIC,AHT,PATIENCE (e.g. 10,180,120)")
        try:
            traffic, aht = float(parts[0]), float(parts[1])
        except ValueError:
            raise CliError(f"--mm {args.mm!r}: TRAFFIC and AHT must be numbers") from None
        mm = (_positive("traffic", traffic), _positive("AHT", aht), _patience(parts[2] if len(parts) == 3 else None))
    elif args.traffic is not None or args.aht is not None or args.patience is not None:
        if args.traffic is None or args.aht is None:
            raise CliError("M/M/c mode needs both --traffic and --aht (and optionally --patience)")
        mm = (_positive("--traffic", args.traffic), _positive("--aht", args.aht), _patience(args.patience))
    warmup = args.warmup
    if warmup is not None and (warmup < 0 or warmup >= args.calls):
        raise CliError("--warmup must be between 0 and --calls - 1")
    if args.calls - (warmup if warmup is not None else args.calls // 50) < args.batches * 10:
        raise CliError(f"--calls {args.calls} is too few for {args.batches} batches; use at least {args.batches * 12}")

    runs = []  # (label, agents, config)
    theory: dict[int, object] = {}
    if mm:
        traffic, aht, patience = mm
        agents = parse_agents(args.agents) if args.agents else list(range(math.floor(traffic) + 1, math.floor(traffic) + 6))
        for c in agents:
            try:
                runs.append((f"{c} agents", c, single_queue_config(traffic, aht, c, patience)))
                if patience:
                    theory[c] = erlang_a(traffic, aht, c, patience, target)
                elif traffic < c:
                    theory[c] = erlang_c_figures(traffic, aht, c, target)
            except ValueError as exc:
                raise CliError(f"--agents {c}: {exc}") from None
        what = f"M/M/c{'+M' if patience else ''}: {traffic:g} Erl, AHT {aht:g} s" + (f", patience {patience:g} s" if patience else "")
    else:
        cfg = _load(args.config)
        if args.hour is not None:
            if not 0 <= args.hour <= 23:
                raise CliError("--hour must be 0..23")
            cfg = cfg.with_flat_traffic(args.hour)
        if args.agents:
            agents = parse_agents(args.agents)
            if agents[0] < len(cfg.groups):
                raise CliError(f"--agents: the config has {len(cfg.groups)} agent groups; use at least that many agents")
            for c in agents:
                try:
                    runs.append((f"{c} agents", c, cfg.with_flat_staff(c)))
                except ValueError as exc:
                    raise CliError(f"--agents {c}: {exc}") from None
        else:
            runs.append(("configured shifts", None, cfg))
        when = f"arrival rate of {args.hour:02d}:00 all day" if args.hour is not None else f"hourly profile from {cfg.start_hour:g}:00"
        what = f"{args.config}: {cfg.offered_load(args.hour):.1f} Erl offered ({when})"

    con.print(f"[bold]Simulating[/bold] {what}; {args.calls:,} calls per staffing level, seed {args.seed}.")
    results = []
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TimeRemainingColumn(), console=con, transient=True) as prog:
        for label, c, cfg_c in runs:
            task = prog.add_task(label, total=args.calls)
            try:
                r = run_batch(cfg_c, args.calls, args.seed, target=target, warmup=warmup, batches=args.batches,
                              label=label, agents=c, progress=lambda n, task=task: prog.update(task, completed=n))
            except ValueError as exc:
                raise CliError(str(exc)) from None
            results.append(r)
            prog.remove_task(task)

    t = Table(title=f"Staffing study ({results[0].calls:,} measured calls per row after {results[0].warmup:,} warm-up; "
                    f"95% CI by {args.batches} batch means)")
    for col in ("staffing", "P(wait)", "mean wait s", "ASA s", f"SL{target:g}", "abandoned", "blocked", "occupancy", "run s"):
        t.add_column(col, justify="right")
    for r in results:
        t.add_row(r.label, r.p_wait.fmt(), r.mean_wait.fmt(2), r.asa.fmt(2), r.service_level.fmt(), r.p_abandon.fmt(),
                  r.p_blocked.fmt(), r.occupancy.fmt(), f"{r.wall_s:.1f}")
        th = theory.get(r.agents) if r.agents is not None else None
        if th is not None:
            is_a = hasattr(th, "p_abandon")
            mw = th.mean_wait if is_a else th.asa
            checks = [(r.p_wait, th.p_wait), (r.mean_wait, mw), (r.service_level, th.service_level)]
            if is_a:
                checks.append((r.p_abandon, th.p_abandon))
            inside = all(e.contains(x) for e, x in checks)
            t.add_row(f"[dim]Erlang {'A' if is_a else 'C'}[/dim]", f"[dim]{th.p_wait:.4f}[/dim]", f"[dim]{mw:.2f}[/dim]",
                      "", f"[dim]{th.service_level:.4f}[/dim]", f"[dim]{th.p_abandon:.4f}[/dim]" if is_a else "[dim]0[/dim]",
                      "", f"[dim]{th.occupancy:.4f}[/dim]", "[green]in CI[/green]" if inside else "[red]outside CI[/red]")
    con.print(t)
    if args.by_queue:
        for r in results:
            bq = Table(title=f"Per request type: {r.label}")
            for col in ("queue", "calls", "mean wait s", f"SL{target:g}", "abandoned", "blocked"):
                bq.add_column(col, justify="right")
            for name, f in r.by_queue().items():
                bq.add_row(name, f"{f['calls']:.0f}", f"{f['mean_wait']:.2f}", f"{f['service_level']:.4f}",
                           f"{f['p_abandon']:.4f}", f"{f['p_blocked']:.4f}")
            con.print(bq)
    if not mm and args.hour is None:
        con.print("[yellow]Note: arrivals follow the hourly profile, so the process is not stationary and the batch-means "
                  "intervals are indicative only; use --hour H for a stationary study of one hour's load.[/yellow]")
    con.print(f"[dim]P(wait): found no free agent. Mean wait: time in queue over all arrivals (abandoners included). "
              f"ASA: mean wait of answered calls. SL{target:g}: answered within {target:g} s / all arrivals "
              f"(abandoned and refused calls count as not answered). Occupancy: busy / on-duty agent time.[/dim]")
    if args.plot:
        try:
            plot_results(results, args.plot, title=what,
                         theory={c: th.service_level for c, th in theory.items()} if theory else None)
        except OSError as exc:
            raise CliError(f"cannot write plot {args.plot}: {exc.strerror}") from None
        con.print(f"Plot written to {args.plot}")
    return 0
