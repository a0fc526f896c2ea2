"""The ``carescheduler`` command: the library from the terminal.

    solve       plan a day                     validate    check a plan against every rule
    report      a plan as an HTML page         generate    a realistic day on real roads
    replan      absorb the day's events        recommend   carers for a visit
    demo        solve the demo day and write its report
    generate-roster   a council's roster (care packages, contracts, availability) on real roads
    week        plan a week (any range of days) from a roster and print its figures

User errors (bad files, bad options) print one line naming the field and the reason and
exit with status 2; ``validate`` exits 1 for an invalid plan. With ``--json`` the last
line printed is one JSON object a script can parse.
"""

from __future__ import annotations

import json
import sys
import time
from enum import Enum
from pathlib import Path

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .errors import InputError, describe_validation_error
from .plan import Plan, format_minutes

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Schedule care-at-home workers: solve a day, validate a plan, write its report, generate a "
    "day, replan after the day's events, recommend carers for a visit, run the demo.",
)
err = Console(stderr=True)


class Format(str, Enum):
    auto = "auto"
    native = "native"
    mankowska = "mankowska"
    iolab = "iolab"
    extended = "extended"
    solomon = "solomon"


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def _params(path: Path | None):
    """The solver's parameters from a TOML file, or the defaults."""
    from .params import SolveParams

    return SolveParams() if path is None else SolveParams.load(path)


def _solve_with_progress(
    problem, time_limit: float, seed: int, workers: int, quiet: bool, iterations: int | None = None, params=None
) -> Plan:
    from .search.solver import solve

    if quiet:
        return solve(
            problem, time_limit=time_limit, seed=seed, workers=workers, max_iterations=iterations, params=params
        )
    columns = [
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
    ]
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("solving", total=max(time_limit, 1e-3), status="building first plan")

        def report(p):
            bar.update(
                task,
                completed=min(p.seconds, time_limit),
                status=f"cost {p.best_cost:,.2f}  unassigned {p.unassigned}  iterations {p.iterations}",
            )

        return solve(
            problem,
            time_limit=time_limit,
            seed=seed,
            workers=workers,
            progress=report,
            max_iterations=iterations,
            params=params,
        )


def _summary(problem, plan: Plan, report) -> None:
    console = Console()
    table = Table(title=f"{problem.name}: {len(problem.visits)} visits, {len(problem.carers)} carers")
    for column in ("carer", "visits", "first", "last", "travel min", "working min"):
        table.add_column(column, justify="right" if column != "carer" else "left")
    for route in plan.routes:
        if not route.visits:
            continue
        table.add_row(
            route.carer,
            str(len(route.visits)),
            format_minutes(route.visits[0].start),
            format_minutes(route.visits[-1].end),
            f"{route.travel_minutes:.1f}",
            f"{route.working_minutes:.1f}",
        )
    console.print(table)
    k = plan.kpis
    console.print(
        f"coverage {k.coverage:.1%}  travel {k.travel_minutes:.1f} min  lateness {k.total_lateness:.1f} "
        f"(max {k.max_lateness:.1f})  continuity {k.continuity:.0%}  cost {plan.cost.total:,.3f}"
        + ("  [yellow](travel estimated)[/]" if k.travel_estimated else "")
    )
    for item in plan.unassigned[:20]:
        console.print(f"[yellow]unassigned[/] {item.visit}: {item.reason}", highlight=False)
    if len(plan.unassigned) > 20:
        console.print(f"... and {len(plan.unassigned) - 20} more unassigned")
    if report.valid:
        console.print("[green]plan is valid[/] (independent validator)")
    else:
        console.print(f"[red]plan is INVALID[/]: {len(report.violations)} violations")


def _result_line(plan: Plan, report, seconds: float) -> str:
    return json.dumps(
        {
            "feasible": report.valid,
            "cost": round(report.cost.total, 6),
            "unassigned": len(plan.unassigned),
            "mandatory_unassigned": plan.kpis.mandatory_unassigned,
            "seconds": round(seconds, 3),
            "status": plan.solver.status,
            "iterations": plan.solver.iterations,
        }
    )


@app.command()
def solve(
    instance: Path = typer.Argument(..., help="problem file: native JSON, Mankowska .txt, iolab .json, Solomon .txt"),
    format: Format = typer.Option(Format.auto, "--format", help="input format (detected by default)"),
    time_limit: float = typer.Option(10.0, "--time-limit", min=0.0, help="seconds to search"),
    seed: int = typer.Option(0, "--seed", help="random seed"),
    workers: int = typer.Option(
        1, "--workers", min=1, help="cores to search on (parallel searches pooling their best plan)"
    ),
    iterations: int | None = typer.Option(
        None, "--iterations", min=0, help="stop after N search iterations: the same seed gives the same plan"
    ),
    params_file: Path | None = typer.Option(
        None, "--params", help="solver parameters (TOML: [construction], [search], [parallel], [replan])"
    ),
    ray: str | None = typer.Option(
        None,
        "--ray",
        help="run the other --workers searches as actors on this Ray cluster ('host:port', 'auto', or 'local'); needs"
        " the [ray] extra",
    ),
    out: Path | None = typer.Option(None, "--out", help="write the plan as native JSON"),
    iolab_out: Path | None = typer.Option(
        None,
        "--iolab-out",
        help="write the benchmark's solution JSON (iolab 2024, or the 2025 extended format for its instances)",
    ),
    roads: Path | None = typer.Option(None, "--roads", help="road file (.osm, .osm.bz2, .graphml) for travel times"),
    walk_roads: Path | None = typer.Option(None, "--walk-roads", help="road file for walkers (default: --roads)"),
    as_json: bool = typer.Option(False, "--json", help="end with one JSON line: feasible, cost, unassigned, seconds"),
) -> None:
    """Plan a day and print the plan's summary."""
    from .formats import detect_format, read_problem, write_extended_solution, write_iolab_solution, write_plan
    from .validator import validate

    started = time.monotonic()
    try:
        problem = read_problem(instance, format.value)
        extended = (format.value if format is not Format.auto else detect_format(instance)) == "extended"
        if roads is not None or walk_roads is not None:
            problem = _with_roads(problem, roads, walk_roads)
        params = _params(params_file)
        if ray is not None:
            params = params.on_ray(ray)
            if workers > 1:
                from .cluster import connect

                connect(ray)  # a wrong address is said now, not after the first plan
    except (InputError, OSError) as e:
        _fail(str(e))
    plan = _solve_with_progress(problem, time_limit, seed, workers, quiet=as_json, iterations=iterations, params=params)
    seconds = time.monotonic() - started
    report = validate(problem, plan)
    try:
        if out is not None:
            write_plan(plan, out)
        if iolab_out is not None:
            (write_extended_solution if extended else write_iolab_solution)(problem, plan, iolab_out)
    except (InputError, OSError) as e:
        _fail(str(e))
    if as_json:
        print(_result_line(plan, report, seconds))
    else:
        _summary(problem, plan, report)
    if not report.valid:
        for v in report.violations:
            err.print(f"violation [{v.code}] {v.message}", highlight=False)
        raise typer.Exit(1)


def _with_roads(problem, roads: Path | None, walk_roads: Path | None):
    """The problem with road travel times (cached on disk) for the modes given files."""
    from .travel import road_travel

    files: dict[str, Path] = {}
    walk = walk_roads or roads
    if walk is not None:  # always, as callers give one of the two
        files["walk"] = walk
    if roads is not None:
        files["drive"] = roads
    return road_travel(problem, files)


@app.command()
def generate(
    osm: Path = typer.Option(..., "--osm", help="road file (.osm, .osm.bz2, .graphml) the day is placed on"),
    visits: int = typer.Option(400, "--visits", min=1, help="calls in the day"),
    carers: int = typer.Option(32, "--carers", min=1, help="carers on shift (about one per 12 calls)"),
    seed: int = typer.Option(0, "--seed"),
    out: Path = typer.Option(..., "--out", help="where to write the problem (native JSON; .gz compresses)"),
    walk_osm: Path | None = typer.Option(None, "--walk-osm", help="road file for walkers (default: --osm)"),
    travel: bool = typer.Option(
        True,
        "--travel/--no-travel",
        help="store road travel matrices (--no-travel: add them at solve time with --roads)",
    ),
    name: str | None = typer.Option(None, "--name", help="problem name"),
) -> None:
    """Make a realistic council care day on real roads (assumptions: carescheduler.scenarios.generator)."""
    from .formats import write_problem
    from .scenarios.generator import generate_from_roads

    try:
        problem = generate_from_roads(osm, visits, carers, seed, walk_file=walk_osm, travel=travel, name=name)
        write_problem(problem, out)
    except (InputError, OSError, ValueError) as e:
        _fail(str(e))
    doubles = sum(v.carers_needed == 2 for v in problem.visits)
    walkers = sum(c.travel_mode.value == "walk" for c in problem.carers)
    print(
        f"{out}: {len(problem.visits)} visits ({doubles} double-handed) for {len(problem.clients)} "
        f"clients, {len(problem.carers)} carers ({walkers} walk), "
        f"{len(problem.locations)} locations; travel {'on roads' if travel else 'left out'}"
    )


@app.command("generate-roster")
def generate_roster(
    osm: Path = typer.Option(..., "--osm", help="road file (.osm, .osm.bz2, .graphml) the roster is placed on"),
    clients: int | None = typer.Option(
        None, "--clients", min=1, help="clients (default: a council's, about 5,000 calls a weekday)"
    ),
    carers: int | None = typer.Option(
        None, "--carers", min=1, help="carers employed (default: a council's, about 440 working a weekday)"
    ),
    seed: int = typer.Option(0, "--seed"),
    start: str | None = typer.Option(
        None,
        "--start",
        help="the Monday the roster starts (YYYY-MM-DD; default 2027-01-04): leave and changes follow it",
    ),
    out: Path = typer.Option(..., "--out", help="where to write the roster (JSON; .gz compresses)"),
    walk_osm: Path | None = typer.Option(None, "--walk-osm", help="walk road file: walkers live where it is dense"),
    name: str | None = typer.Option(None, "--name", help="roster name"),
) -> None:
    """Make a realistic council roster on real roads (assumptions: carescheduler.scenarios.roster)."""
    import datetime as dt

    from .formats._io import write_text
    from .scenarios.roster import COUNCIL_CARERS, COUNCIL_CLIENTS, DEFAULT_START, week_counts
    from .scenarios.roster import generate_roster as make_roster

    try:
        first = DEFAULT_START if start is None else dt.date.fromisoformat(start)
    except ValueError:
        _fail(f"--start: {start!r} is not a date (YYYY-MM-DD)")
    try:
        roster = make_roster(
            osm,
            clients or COUNCIL_CLIENTS,
            carers or COUNCIL_CARERS,
            seed,
            walk_roads=walk_osm,
            start=first,
            name=name,
        )
        write_text(out, roster.model_dump_json(indent=1) + "\n")
    except (InputError, OSError, ValueError) as e:
        _fail(str(e))
    calls = sum(len(c.package) for c in roster.clients)
    walkers = sum(c.travel_mode.value == "walk" for c in roster.carers)
    print(
        f"{out}: {len(roster.clients)} clients ({calls} calls in their packages), "
        f"{len(roster.carers)} carers ({walkers} walk); the week from {first}:"
    )
    for day in week_counts(roster, first):
        print(
            f"  {day.weekday} {day.date}: {day.calls} calls ({day.carer_calls} carer-calls), {day.carers} carers "
            f"working, {day.calls / max(1, day.carers):.1f} calls ({day.per_carer:.1f} carer-calls) per carer"
        )


@app.command()
def validate(
    instance: Path = typer.Argument(..., help="the problem the plan is for"),
    plan_file: Path = typer.Argument(..., metavar="PLAN", help="a native plan JSON or an iolab solution JSON"),
    format: Format = typer.Option(Format.auto, "--format", help="problem format (detected by default)"),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
) -> None:
    """Check a plan against every hard rule and recompute its cost. Exit 0 valid, 1 invalid.
    For a 2025 unified-formulation instance, also the formulation's cost components."""
    from .formats import detect_format, extended_components, read_plan, read_problem
    from .validator import validate as run_validator

    try:
        problem = read_problem(instance, format.value)
        plan = read_plan(problem, plan_file)
        extended = (format.value if format is not Format.auto else detect_format(instance)) == "extended"
    except (InputError, OSError) as e:
        _fail(str(e))
    report = run_validator(problem, plan)
    components = extended_components(problem, plan).model_dump() if extended else None
    if as_json:
        print(
            json.dumps(
                {
                    "feasible": report.valid,
                    "cost": report.cost.total,
                    "unassigned": len(plan.unassigned),
                    "violations": [v.model_dump() for v in report.violations],
                    "breakdown": report.cost.model_dump(),
                    **({"components": components} if components is not None else {}),
                }
            )
        )
    else:
        for v in report.violations:
            print(f"violation [{v.code}] {v.message}")
        state = "valid" if report.valid else f"INVALID ({len(report.violations)} violations)"
        print(f"{state}; cost {report.cost.total:.3f}; unassigned {len(plan.unassigned)}")
        if components is not None:
            print("components: " + ", ".join(f"{name} {value:g}" for name, value in components.items()))
    raise typer.Exit(0 if report.valid else 1)


@app.command()
def report(
    instance: Path = typer.Argument(..., help="the problem the plan is for"),
    plan_file: Path = typer.Argument(..., metavar="PLAN", help="a native plan JSON or an iolab solution JSON"),
    out: Path = typer.Option(Path("report.html"), "--out", help="the HTML file to write"),
    format: Format = typer.Option(Format.auto, "--format", help="problem format (detected by default)"),
    title: str | None = typer.Option(None, "--title", help="the page's heading (default: the problem's name)"),
) -> None:
    """Write the coordinator's report of a plan: one HTML page with a map, timelines, KPIs and unassigned visits."""
    from .formats import read_plan, read_problem
    from .report.render import write_report
    from .validator import validate as run_validator

    try:
        problem = read_problem(instance, format.value)
        plan = read_plan(problem, plan_file)
        if plan.kpis.visits_total == 0 and problem.visits:  # imported plans carry no figures: recompute them
            check = run_validator(problem, plan)
            plan = plan.model_copy(update={"kpis": check.kpis, "cost": check.cost})
        write_report(problem, plan, out, title=title)
    except (InputError, OSError) as e:
        _fail(str(e))
    print(f"wrote {out}")


@app.command()
def replan(
    instance: Path = typer.Argument(..., metavar="PROBLEM", help="the day's problem"),
    plan_file: Path = typer.Argument(..., metavar="PLAN", help="the published plan (native JSON)"),
    events_file: Path = typer.Argument(
        ..., metavar="EVENTS", help='events JSON: {"now": "HH:MM", "events": [...]} or a list of events'
    ),
    now: str | None = typer.Option(
        None, "--now", help="time of day the events are applied at, HH:MM (default: the file's now)"
    ),
    time_limit: float = typer.Option(1.0, "--time-limit", min=0.0, help="seconds for the whole replan"),
    seed: int = typer.Option(0, "--seed"),
    freeze: float | None = typer.Option(
        None, "--freeze", min=0.0, help="minutes ahead in which visits keep their carer (default 30)"
    ),
    tolerance: float | None = typer.Option(
        None, "--tolerance", min=0.0, help="minutes a start may move without counting as moved (default 15)"
    ),
    params_file: Path | None = typer.Option(
        None, "--params", help="solver parameters (TOML); --freeze and --tolerance override its [replan] section"
    ),
    out: Path | None = typer.Option(None, "--out", help="write the new plan (native JSON)"),
    out_problem: Path | None = typer.Option(
        None, "--out-problem", help="write the day as it now stands (the new plan is for it)"
    ),
    as_json: bool = typer.Option(
        False, "--json", help="end with one JSON line: feasible, seconds, moved_visits, changed_carers, unassigned"
    ),
) -> None:
    """Absorb events (absences, delays, new clients, cancellations, check-ins) into a published plan."""
    from .day.replan import replan as run_replan
    from .formats import read_events, read_plan, read_problem, write_plan, write_problem
    from .validator import validate as run_validator

    try:
        problem = read_problem(instance)
        plan = read_plan(problem, plan_file)
        batch = read_events(events_file)
        params = _params(params_file)
        given = {"freeze_minutes": freeze, "tolerance_minutes": tolerance}
        settings = params.replan.model_copy(update={k: v for k, v in given.items() if v is not None})
        result = run_replan(
            problem,
            plan,
            batch,
            now,
            time_limit=time_limit,
            seed=seed,
            params=params.model_copy(update={"replan": settings}),
        )
        report = run_validator(result.problem, result.plan)
        if out is not None:
            write_plan(result.plan, out)
        if out_problem is not None:
            write_problem(result.problem, out_problem)
    except (InputError, OSError) as e:
        _fail(str(e))
    changes = result.changes
    if as_json:
        print(
            json.dumps(
                {
                    "feasible": report.valid,
                    "seconds": round(result.seconds, 3),
                    "moved_visits": changes.moved_visits,
                    "changed_carers": changes.changed_carers,
                    "unassigned": len(result.plan.unassigned),
                    "unassigned_visits": [u.model_dump() for u in result.plan.unassigned],
                    "cost": round(report.cost.total, 6),
                    "warnings": changes.warnings,
                }
            )
        )
    else:
        _changes_summary(result, report)
    if not report.valid:
        for v in report.violations:
            err.print(f"violation [{v.code}] {v.message}", highlight=False)
        raise typer.Exit(1)


def _changes_summary(result, report) -> None:
    console = Console()
    changes = result.changes
    table = Table(
        title=f"replan at {format_minutes(result.plan.solver.now or 0)}: "
        f"{len(changes.carers)} carer{'' if len(changes.carers) == 1 else 's'} to tell"
    )
    for column in ("carer", "added", "removed", "retimed"):
        table.add_column(column)
    for c in changes.carers:
        retimed = ", ".join(f"{r.visit} {format_minutes(r.before)}->{format_minutes(r.after)}" for r in c.retimed)
        table.add_row(c.carer, ", ".join(c.added), ", ".join(c.removed), retimed)
    console.print(table)
    console.print(
        f"moved (carers not named in the events): {len(changes.moved_visits)}  "
        f"unassigned: {len(result.plan.unassigned)}  cost {report.cost.total:,.2f}  "
        f"{result.seconds:.2f} s",
        highlight=False,
    )
    for item in result.plan.unassigned[:20]:
        console.print(f"[yellow]unassigned[/] {item.visit}: {item.reason}", highlight=False)
    for warning in changes.warnings:
        console.print(f"[yellow]note[/] {warning}", highlight=False)
    if report.valid:
        console.print("[green]plan is valid[/] (independent validator)")
    else:
        console.print(f"[red]plan is INVALID[/]: {len(report.violations)} violations")


@app.command()
def recommend(
    instance: Path = typer.Argument(..., metavar="PROBLEM", help="the day's problem"),
    plan_file: Path = typer.Argument(..., metavar="PLAN", help="the published plan (native JSON)"),
    visit: str = typer.Argument(
        ...,
        metavar="VISIT",
        help='a visit id of the day, or a JSON file: a visit, or {"visit": ..., "client": '
        '..., "location": ...} for a new client',
    ),
    top: int = typer.Option(5, "--top", min=1, help="how many carers to offer"),
    now: str | None = typer.Option(None, "--now", help="time of day (HH:MM): nothing is offered before it"),
    as_json: bool = typer.Option(False, "--json", help="print the recommendation as one JSON line"),
) -> None:
    """Offer the best carers for a new or unassigned visit, and say why the others cannot take it."""
    from .day.recommend import Recommender, VisitRequest
    from .formats import read_plan, read_problem
    from .formats._io import parse_json, read_text

    try:
        problem = read_problem(instance)
        plan = read_plan(problem, plan_file)
        if Path(visit).is_file():
            try:
                request = VisitRequest.from_data(parse_json(read_text(visit), visit))
            except ValidationError as error:
                raise describe_validation_error(error, visit) from None
        elif any(v.id == visit for v in problem.visits):
            request = VisitRequest(visit=visit)
        else:
            raise InputError("VISIT", f"{visit!r} is neither a file nor a visit of the day")
        answer = Recommender(problem, plan, now).recommend(request, top)
    except (InputError, OSError) as e:
        _fail(str(e))
    if as_json:
        print(answer.model_dump_json())
        return
    console = Console()
    table = Table(title=f"carers for {answer.visit}")
    for column in ("carer", "partner", "start", "after", "cost +", "travel +"):
        table.add_column(column)
    for o in answer.options:
        table.add_row(
            o.carer,
            o.partner or "",
            format_minutes(o.start),
            o.after or "(first)",
            f"{o.cost_delta:.1f}",
            f"{o.travel_delta:.1f}",
        )
    console.print(table)
    if not answer.options:
        console.print("[yellow]no carer can take it[/]")
    for item in answer.unavailable:
        console.print(f"[dim]{item.code:9}[/] {item.reason}", highlight=False)


FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
MEDIUM_SCENARIO = FIXTURES / "scenarios" / "medium.json.gz"
"""The demo's day when run from a checkout: ~400 calls on the Liechtenstein roads."""
MEDIUM_ROADS = FIXTURES / "osm" / "liechtenstein-20150727.drive.osm.bz2"
MEDIUM_PATHS = FIXTURES / "osm" / "liechtenstein-20150727.walk.osm.bz2"


def _road_map(problem, plan) -> dict:
    """The demo report's map on the roads: the streets, and each run along them (drivers
    on the roads, walkers on the footpaths)."""
    from .report import road_runs
    from .travel.roads import RoadNetwork

    drive = RoadNetwork.load(MEDIUM_ROADS, "drive")
    networks = {"drive": drive}
    if MEDIUM_PATHS.exists() and any(c.travel_mode == "walk" for c in problem.carers):
        networks["walk"] = RoadNetwork.load(MEDIUM_PATHS, "walk")
    return {
        "roads": drive.polylines(),
        "runs": road_runs(problem, plan, networks),
        "attribution": "Map data © OpenStreetMap contributors (ODbL)",
    }


@app.command()
def demo(
    time_limit: float = typer.Option(10.0, "--time-limit", min=0.0, help="seconds to search"),
    seed: int = typer.Option(0, "--seed"),
    workers: int = typer.Option(1, "--workers", min=1, help="cores to search on"),
    scenario: Path | None = typer.Option(
        None, "--scenario", help="problem to solve (default: the medium fixture, else the built-in town)"
    ),
    out: Path | None = typer.Option(None, "--out", help="also write the problem, plan and report.html here (a folder)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Solve the demo day (the medium fixture: a council area on real roads) and show the plan."""
    from .formats import read_problem, write_plan, write_problem
    from .report.render import write_report
    from .scenarios.demo import demo_problem
    from .validator import validate as run_validator

    started = time.monotonic()
    source = scenario or (MEDIUM_SCENARIO if MEDIUM_SCENARIO.exists() else None)
    try:
        problem = read_problem(source) if source is not None else demo_problem()
    except (InputError, OSError) as e:
        _fail(str(e))
    plan = _solve_with_progress(problem, time_limit, seed, workers, quiet=as_json)
    report = run_validator(problem, plan)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        write_problem(problem, out / "demo-problem.json.gz")
        write_plan(plan, out / "demo-plan.json")
        on_roads = source == MEDIUM_SCENARIO and MEDIUM_ROADS.exists()
        write_report(problem, plan, out / "report.html", **(_road_map(problem, plan) if on_roads else {}))
    if as_json:
        print(_result_line(plan, report, time.monotonic() - started))
    else:
        _summary(problem, plan, report)
        if out is not None:
            print(f"report: {out / 'report.html'}")
    raise typer.Exit(0 if report.valid else 1)


@app.command()
def week(
    roster_path: Path = typer.Argument(
        ..., metavar="ROSTER", help="the roster: JSON (.gz too) or a folder of CSV files (docs/roster-template)"
    ),
    start: str = typer.Option(..., "--from", help="the first date to plan (YYYY-MM-DD)"),
    days: int = typer.Option(7, "--days", min=1, max=31, help="how many days from --from"),
    time_limit: float = typer.Option(10.0, "--time-limit", min=0.0, help="seconds of search per day"),
    roads: Path | None = typer.Option(None, "--roads", help="road file: drivers' travel times on real roads"),
    walk_roads: Path | None = typer.Option(None, "--walk-roads", help="footpath file for walkers (default: --roads)"),
    one_by_one: bool = typer.Option(
        False, "--one-by-one", help="plan each day alone, without the weekly terms (the baseline)"
    ),
    ray_address: str | None = typer.Option(
        None,
        "--ray",
        metavar="ADDRESS",
        help=(
            "with --one-by-one, plan the days at once as tasks on this Ray cluster ('host:port', 'auto', or"
            " 'local' for a Ray started here; needs the [ray] extra). Refused without --one-by-one: weekly"
            " planning is sequential, each day bounded by the days before it"
        ),
    ),
    seed: int = typer.Option(0, "--seed"),
    out: Path | None = typer.Option(None, "--out", help="also write each day's problem and plan here (a folder)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Plan a week from a roster: days from the care packages, solved in order with the
    48-hour week, the rest between days, fair hours and continuity; prints the figures."""
    import datetime as dt

    from .formats import write_plan, write_problem
    from .params import ParallelParams, SolveParams
    from .roster import days_from_roster, plan_week
    from .roster.figures import plan_figures, summarise, week_summary_text

    if ray_address is not None and not one_by_one:
        _fail(
            "--ray: weekly planning is sequential (each day is bounded by the days before it), so a cluster"
            " cannot speed it up; add --one-by-one to plan the days alone, at once on the cluster"
        )
    params = None if ray_address is None else SolveParams(parallel=ParallelParams(ray_address=ray_address))
    try:
        first = dt.date.fromisoformat(start)
    except ValueError:
        _fail(f"--from: {start!r} is not a date (YYYY-MM-DD)")
    try:
        roster = _read_roster(roster_path)
        problems = days_from_roster(roster, first, first + dt.timedelta(days=days - 1))
        if roads is not None or walk_roads is not None:
            problems = {d: _with_roads(p, roads, walk_roads) for d, p in problems.items()}
        planned = plan_week(
            roster, problems, time_limit_per_day=time_limit, weekly=not one_by_one, params=params, seed=seed
        )
    except InputError as e:
        _fail(f"--ray: {e.reason}" if e.field == "ray_address" else str(e))
    except OSError as e:
        _fail(str(e))
    except RuntimeError as e:  # a day the cluster lost more often than it may retry, or a plan found invalid
        if ray_address is None:
            raise
        _fail(f"--ray: {e}", 1)
    found = [plan_figures(planned.days[d], planned.plans[d], date=d) for d in sorted(planned.plans)]
    summary = summarise(
        [f.day for f in found],
        [c for f in found for c in f.carers],
        [c for f in found for c in f.clients],
        start=first,
        end=max(planned.plans),
    )
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for date, plan in planned.plans.items():
            write_problem(planned.problems[date], out / f"{date}-problem.json.gz")
            write_plan(plan, out / f"{date}-plan.json")
    report, figures = planned.report, planned.figures
    if as_json:
        print(
            json.dumps(
                {
                    "valid": report.valid,
                    "days_valid": {str(d): r.valid for d, r in report.days.items()},
                    "week_violations": [v.message for v in report.violations if v.code in ("rest", "weekly_hours")],
                    "notes": planned.notes,
                    "clients_over_cap": len(figures.clients_over_cap),
                    "spread_std_minutes": figures.spread_std_minutes,
                    "spread_range_minutes": figures.spread_range_minutes,
                    "seconds": figures.seconds,
                    "summary": summary.model_dump(mode="json"),
                }
            )
        )
    else:
        print(week_summary_text(summary, plans="a plan"), end="")
        print(_week_lines(planned))
    raise typer.Exit(0 if report.valid else 1)


def _read_roster(path: Path):
    """A roster from its JSON (or .json.gz) file, or from a folder of the CSV template's files."""
    from .formats._io import read_text
    from .roster import Roster
    from .roster.csv_import import read_roster_csv

    if path.is_dir():
        files = {f.name: f.read_text(encoding="utf-8") for f in sorted(path.iterdir()) if f.suffix in (".csv", ".json")}
        return read_roster_csv(files)
    try:
        return Roster.model_validate_json(read_text(path))
    except ValidationError as e:
        raise describe_validation_error(e, str(path)) from None


def _week_lines(planned) -> str:
    """The week's own verdict: validity, the weekly rules, continuity, fairness, notes."""
    from .roster.week_rules import hours_text

    report, figures = planned.report, planned.figures
    weekly = [v for v in report.violations if v.code in ("rest", "weekly_hours")]
    invalid = [str(d) for d, r in report.days.items() if not r.valid]
    counts = list(figures.carers_per_client.values())
    lines = [
        "",
        f"Week          {'valid' if report.valid else 'NOT valid'}: "
        f"{len(report.days) - len(invalid)} of {len(report.days)} days valid"
        + (f" (not: {', '.join(invalid)})" if invalid else "")
        + f"; 48 h and 11 h rest {'kept' if not weekly else f'broken {len(weekly)} times'}",
        f"Continuity    {sum(counts) / max(1, len(counts)):.2f} distinct carers per client on average, "
        f"{len(figures.clients_over_cap)} clients above the cap",
        f"Fair hours    worked less contracted: std {hours_text(figures.spread_std_minutes)}, "
        f"range {hours_text(figures.spread_range_minutes)} over {len(figures.hours)} carers",
        f"Planned in    {figures.seconds:.1f} s" + ("" if planned.weekly else " (days one by one)"),
    ]
    lines += [f"  {v.message}" for v in weekly[:10]]
    if planned.notes:
        lines.append(f"Notes         {len(planned.notes)}" + (", the first 10:" if len(planned.notes) > 10 else ":"))
        lines += [f"  {note}" for note in planned.notes[:10]]
    return "\n".join(lines)


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
