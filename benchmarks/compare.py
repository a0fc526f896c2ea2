"""VRPTW side by side: carescheduler, PyVRP and VROOM on exactly the same input.

    python -m benchmarks.vrptw --set solomon --time-limit 10 --compare [--instances C101 ...] [--jobs 1]

Each Solomon/Homberger file is read once with ``read_problem(path, integer_travel=True)``
and that one :class:`~carescheduler.Problem` is what all three solvers get:

* the same integer travel matrix (rounded Euclidean distance, used as distance and as
  travel time; our solver plans on it too);
* the same fleet: the file's K vehicles, all starting and ending at the depot, available
  during the depot's [ready, due] (back at the depot by ``due``);
* hard time windows on the service start, the files' service durations, no capacity (no
  load dimension is given to PyVRP or VROOM; our solver ignores capacity);
* the objective is total travel; a solver may use any number of the K vehicles.

Per instance the solvers run one after another in the same process, so each gets the
same wall time on an otherwise equal core: ours with ``time_limit`` on ``--workers`` cores (1 unless asked),
PyVRP with ``MaxRuntime(time_limit)`` (PyVRP is single-threaded) and VROOM at exploration
level 5 with ``--vroom-threads`` threads (1 unless asked) and a timeout of ``time_limit``
(VROOM stops by itself when its exploration is done, usually well before that).

Every plan, also PyVRP's and VROOM's, is converted into our :class:`~carescheduler.plan.Plan`
(each route started as early as possible) and checked by our independent validator, whose
recomputed travel is the cost reported for all three. The solvers' own objective values are
kept in the CSV as a cross-check of the conversion.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib.metadata
import time
import traceback
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from .runner import RESULTS, stamp_with_changes

__all__ = ["Vrptw", "available", "compare_one", "plan_from_sequences", "run_compare", "solve_pyvrp", "solve_vroom"]

SOLVERS = ("ours", "pyvrp", "vroom")
VROOM_EXPLORATION = 5


def available() -> bool:
    """Whether PyVRP and pyvroom are installed (``pip install -e ".[bench]"``)."""
    try:
        import pyvrp  # noqa: F401
        import vroom  # noqa: F401
    except ImportError:
        return False
    return True


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


# ----------------------------------------------------------------------------------------
# The common input, taken from our Problem


@dataclass
class Vrptw:
    """The VRPTW read off a Solomon-type :class:`Problem`: integer data, location 0..n-1."""

    matrix: np.ndarray  # int64, n_locations x n_locations
    xy: list[tuple[float, float]]
    depot: int  # location index of the depot
    vehicles: int  # K
    ready: int  # depot window (the carers' one shift)
    due: int
    visit_loc: list[int]  # per visit, its location index
    visit_ready: list[int]
    visit_due: list[int]
    service: list[int]

    @classmethod
    def from_problem(cls, problem) -> Vrptw:
        index = problem.location_index()
        (matrix,) = [m.minutes for m in problem.travel if m.mode == problem.carers[0].travel_mode]
        homes = {(c.start_location, c.home_end) for c in problem.carers}
        shifts = {(s.start, s.end) for c in problem.carers for s in c.shifts}
        if len(homes) != 1 or len(shifts) != 1 or len({c.travel_mode for c in problem.carers}) != 1:
            raise ValueError("not a VRPTW: carers differ in home, shift or travel mode")
        ((start, end),) = homes
        if start != end:
            raise ValueError("not a VRPTW: carers do not return to where they start")
        ((ready, due),) = shifts
        for v in problem.visits:
            if v.carers_needed != 1 or v.window.end is None:
                raise ValueError(f"not a VRPTW: visit {v.id} needs {v.carers_needed} carers or has no latest start")
        data = cls(
            matrix=_integers(np.asarray(matrix, dtype=float), "travel"),
            xy=[(loc.x, loc.y) for loc in problem.locations],
            depot=index[start],
            vehicles=len(problem.carers),
            ready=_integer(ready, "shift start"),
            due=_integer(due, "shift end"),
            visit_loc=[index[problem.client(v.client).location] for v in problem.visits],
            visit_ready=[_integer(v.window.start, f"{v.id} ready") for v in problem.visits],
            visit_due=[_integer(v.window.end, f"{v.id} due") for v in problem.visits],
            service=[_integer(v.duration, f"{v.id} service") for v in problem.visits],
        )
        return data


def _integers(values: np.ndarray, what: str) -> np.ndarray:
    rounded = np.rint(values)
    if not np.array_equal(rounded, values):
        raise ValueError(f"{what}: PyVRP and VROOM need integer data (read the file with integer_travel=True)")
    return rounded.astype(np.int64)


def _integer(value: float, what: str) -> int:
    if value != int(value):
        raise ValueError(f"{what}: {value} is not an integer")
    return int(value)


# ----------------------------------------------------------------------------------------
# From visit sequences to our Plan


def plan_from_sequences(problem, sequences: list[list[int]]):
    """Our :class:`Plan` for routes given as visit indices, route r on carer r.

    Every visit starts as early as possible (leaving the depot at the shift start, waiting
    where a window has not opened); visits on no route are listed as unassigned. The times
    are not checked here: that is the validator's job.
    """
    from carescheduler.plan import Plan, PlannedVisit, Route, UnassignedVisit
    from carescheduler.travel import travel_matrix

    if len(sequences) > len(problem.carers):
        raise ValueError(f"{len(sequences)} routes but only {len(problem.carers)} carers")
    index = problem.location_index()
    routes, routed = [], set()
    for k, carer in enumerate(problem.carers):
        seq = sequences[k] if k < len(sequences) else []
        route = Route(carer=carer.id)
        tr = travel_matrix(problem, carer.travel_mode)
        home, home_end = index[carer.start_location], index[carer.home_end]
        prev, clock = home, carer.shifts[0].start
        for v in seq:
            visit = problem.visits[v]
            loc = index[problem.client(visit.client).location]
            travel = float(tr[prev, loc])
            start = max(clock + travel, visit.window.start)
            route.visits.append(
                PlannedVisit(
                    visit=visit.id, client=visit.client, start=start, end=start + visit.duration, travel_before=travel
                )
            )
            route.travel_minutes += travel
            prev, clock = loc, start + visit.duration
            routed.add(v)
        if seq:
            back = float(tr[prev, home_end])
            route.travel_minutes += back
            route.leave_home = route.visits[0].start - route.visits[0].travel_before
            route.return_home = clock + back
            route.working_minutes = route.travel_minutes + sum(problem.visits[v].duration for v in seq)
        routes.append(route)
    unassigned = [
        UnassignedVisit(visit=v.id, reason="not planned by the solver")
        for i, v in enumerate(problem.visits)
        if i not in routed
    ]
    return Plan(problem=problem.name, routes=routes, unassigned=unassigned)


# ----------------------------------------------------------------------------------------
# The two reference solvers


def solve_pyvrp(data: Vrptw, time_limit: float, seed: int = 0) -> tuple[list[list[int]], dict]:
    """PyVRP (single-threaded) with ``MaxRuntime(time_limit)``; routes as visit indices."""
    from pyvrp import Model
    from pyvrp.stop import MaxRuntime

    model = Model()
    locations = [model.add_location(x=float(x), y=float(y)) for x, y in data.xy]
    depot = model.add_depot(locations[data.depot], tw_early=data.ready, tw_late=data.due)
    for v, loc in enumerate(data.visit_loc):  # no delivery: no load dimension at all
        model.add_client(
            locations[loc],
            service_duration=data.service[v],
            tw_early=data.visit_ready[v],
            tw_late=data.visit_due[v],
            name=str(v),
        )
    model.add_vehicle_type(
        num_available=data.vehicles, start_depot=depot, end_depot=depot, tw_early=data.ready, tw_late=data.due
    )
    used = sorted({data.depot, *data.visit_loc})
    for i in used:
        for j in used:
            d = int(data.matrix[i, j])
            model.add_edge(locations[i], locations[j], distance=d, duration=d)
    started = time.monotonic()
    result = model.solve(stop=MaxRuntime(time_limit), seed=seed, display=False)
    seconds = time.monotonic() - started
    best = result.best
    sequences = []
    for route in best.routes():
        # Activities in order: depot, clients..., depot; a client's idx is its index among
        # the clients, i.e. our visit index (they were added in visit order).
        sequences.append([int(a.idx) for a in route.schedule() if a.is_client()])
    info = {
        "seconds": seconds,
        "own_cost": float(best.distance()),
        "feasible": bool(best.is_feasible()),
        "iterations": int(result.num_iterations),
    }
    return sequences, info


def solve_vroom(
    data: Vrptw, time_limit: float, threads: int = 1, exploration: int = VROOM_EXPLORATION
) -> tuple[list[list[int]], dict]:
    """VROOM (pyvroom) at ``exploration`` level with ``threads`` threads and a timeout."""
    import vroom

    problem = vroom.Input()
    problem.set_durations_matrix("car", data.matrix.astype(np.uint32))
    for k in range(data.vehicles):
        problem.add_vehicle(
            vroom.Vehicle(k + 1, start=data.depot, end=data.depot, time_window=vroom.TimeWindow(data.ready, data.due))
        )
    for v, loc in enumerate(data.visit_loc):
        problem.add_job(
            vroom.Job(
                v + 1,
                location=loc,
                default_service=data.service[v],
                time_windows=[vroom.TimeWindow(data.visit_ready[v], data.visit_due[v])],
            )
        )
    started = time.monotonic()
    solution = problem.solve(
        exploration_level=exploration, nb_threads=threads, timeout=dt.timedelta(seconds=time_limit)
    )
    seconds = time.monotonic() - started
    answer = solution.to_dict()
    sequences = [
        [int(step["id"]) - 1 for step in route["steps"] if step["type"] == "job"]
        for route in sorted(answer["routes"], key=lambda r: r["vehicle"])
    ]
    info = {
        "seconds": seconds,
        "own_cost": float(answer["summary"]["cost"]),
        "feasible": not answer["summary"]["unassigned"] and not answer["summary"].get("violations"),
    }
    return sequences, info


# ----------------------------------------------------------------------------------------
# One instance, three solvers


def _check(problem, plan) -> dict:
    from carescheduler.validator import validate

    report = validate(problem, plan)
    return {
        "cost": round(report.kpis.travel_minutes, 3),
        "valid": report.valid,
        "violations": len(report.violations),
        "unassigned": len(plan.unassigned),
        "vehicles": sum(1 for r in plan.routes if r.visits),
    }


def _warm_up() -> None:
    """Per worker process: load the compiled kernels before any timed solve."""
    from carescheduler.search.solver import warm_up

    warm_up()


def compare_one(job: dict) -> dict:
    """Read one instance and solve it with the three solvers in turn; validate each plan."""
    from carescheduler.formats import read_problem
    from carescheduler.search.solver import solve

    problem = read_problem(job["path"], integer_travel=True)
    data = Vrptw.from_problem(problem)
    limit, seed = job["time_limit"], job.get("seed", 0)
    row: dict = {
        "instance": job["instance"],
        "seed": seed,
        "customers": len(problem.visits),
        "vehicles_available": data.vehicles,
    }
    results: dict[str, dict] = {}

    def ours() -> tuple[object, dict]:
        started = time.monotonic()
        plan = solve(problem, time_limit=limit, seed=seed, workers=job.get("workers", 1))
        return plan, {
            "seconds": time.monotonic() - started,
            "own_cost": plan.cost.total,
            "iterations": plan.solver.iterations,
        }

    def reference(solver) -> tuple[object, dict]:
        sequences, info = solver()
        return plan_from_sequences(problem, sequences), info

    runs = {
        "ours": ours,
        "pyvrp": lambda: reference(lambda: solve_pyvrp(data, limit, seed)),
        "vroom": lambda: reference(lambda: solve_vroom(data, limit, job.get("vroom_threads", 1))),
    }
    for name in SOLVERS:  # one after another: each has the machine to itself (but for other jobs)
        try:
            plan, info = runs[name]()
            results[name] = {**_check(problem, plan), **info}
        except Exception as error:
            traceback.print_exc()
            results[name] = {"error": f"{type(error).__name__}: {error}"}

    for name in SOLVERS:
        r = results[name]
        for field in ("cost", "vehicles", "valid", "unassigned", "violations", "seconds", "own_cost"):
            value = r.get(field)
            row[f"{name}_{field}"] = round(value, 3) if isinstance(value, float) else value
        row[f"{name}_ok"] = _ok(r)
        if "error" in r:
            row[f"{name}_error"] = r["error"]
    row["ours_iterations"] = results["ours"].get("iterations")
    row["pyvrp_iterations"] = results["pyvrp"].get("iterations")
    for name in ("pyvrp", "vroom"):
        both = row["ours_ok"] and row[f"{name}_ok"] and row[f"{name}_cost"]
        row[f"ours_vs_{name}"] = round(row["ours_cost"] / row[f"{name}_cost"], 4) if both else None
    return row


def _ok(result: dict) -> bool:
    """Valid by our validator and every visit planned."""
    return bool(result.get("valid")) and result.get("unassigned") == 0


# ----------------------------------------------------------------------------------------
# Many instances, and the report


FIELDS = (
    ["instance", "seed", "customers", "vehicles_available"]
    + [f"{s}_{f}" for f in ("cost",) for s in SOLVERS]
    + ["ours_vs_pyvrp", "ours_vs_vroom"]
    + [
        f"{s}_{f}"
        for f in ("vehicles", "ok", "valid", "unassigned", "violations", "seconds", "own_cost")
        for s in SOLVERS
    ]
    + ["ours_iterations", "pyvrp_iterations", "ours_error", "pyvrp_error", "vroom_error"]
)


def run_compare(name: str, jobs: list[dict], parallel: int, command: str | None = None) -> list[dict]:
    """Compare on every job (``parallel`` instances at a time); write CSV and markdown."""
    info = stamp_with_changes()  # before solving: the lead may commit while this runs
    rows = []
    with ProcessPoolExecutor(max_workers=parallel, initializer=_warm_up) as pool:
        for row in pool.map(compare_one, jobs):
            print(
                f"{row['instance']:>12}  seed {row['seed']}  ours {row['ours_cost']}  pyvrp {row['pyvrp_cost']}  "
                f"vroom {row['vroom_cost']}  ours/pyvrp {row['ours_vs_pyvrp']}  ours/vroom {row['ours_vs_vroom']}  "
                f"ok {row['ours_ok']}/{row['pyvrp_ok']}/{row['vroom_ok']}",
                flush=True,
            )
            rows.append(row)
    seeds = sorted({job.get("seed", 0) for job in jobs})
    write_compare(name, rows, {**(jobs[0] if jobs else {}), "seeds": seeds}, parallel, info, command)
    return rows


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def summarise(rows: list[dict]) -> dict:
    out: dict = {"instances": len(rows)}
    out["own_costs_agree"] = all(
        abs(r[f"{s}_own_cost"] - r[f"{s}_cost"]) < 1e-6
        for r in rows
        for s in ("pyvrp", "vroom")
        if r.get(f"{s}_own_cost") is not None
    )
    for s in SOLVERS:
        out[f"{s}_ok"] = sum(bool(r[f"{s}_ok"]) for r in rows)
        seconds = [r[f"{s}_seconds"] for r in rows if r.get(f"{s}_seconds") is not None]
        out[f"{s}_mean_seconds"] = _mean(seconds)
    for ref in ("pyvrp", "vroom"):
        ratios = [r[f"ours_vs_{ref}"] for r in rows if r[f"ours_vs_{ref}"] is not None]
        out[f"mean_ours_vs_{ref}"] = _mean(ratios)
        out[f"geomean_ours_vs_{ref}"] = float(np.exp(np.mean(np.log(ratios)))) if ratios else None
        out[f"max_ours_vs_{ref}"] = max(ratios) if ratios else None
        out[f"compared_{ref}"] = len(ratios)
        out[f"ours_better_{ref}"] = sum(x < 1 - 1e-9 for x in ratios)
        out[f"ours_equal_{ref}"] = sum(abs(x - 1) <= 1e-9 for x in ratios)
    return out


def _fmt(value, digits: int = 4) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _validity(row: dict, s: str) -> str:
    if row.get(f"{s}_error"):
        return "error"
    if row[f"{s}_ok"]:
        return "yes"
    if row[f"{s}_valid"]:
        return f"{row[f'{s}_unassigned']} unplanned"
    return f"NO ({row[f'{s}_violations']})"


def summary_lines(summary: dict) -> list[str]:
    lines = []
    for ref, label in (("pyvrp", "PyVRP"), ("vroom", "VROOM")):
        if summary[f"compared_{ref}"]:
            lines.append(
                f"* ours / {label}: mean ratio **{summary[f'mean_ours_vs_{ref}']:.4f}** (geometric mean "
                f"{summary[f'geomean_ours_vs_{ref}']:.4f}, worst {summary[f'max_ours_vs_{ref}']:.4f}) over "
                f"{summary[f'compared_{ref}']} instances; ours better on {summary[f'ours_better_{ref}']}, "
                f"equal on {summary[f'ours_equal_{ref}']}"
            )
        else:
            lines.append(f"* ours / {label}: no instance where both plans are valid and complete")
    lines.append(
        "* valid and complete (our validator): "
        + ", ".join(
            f"{label} {summary[f'{s}_ok']}/{summary['instances']}"
            for s, label in (("ours", "ours"), ("pyvrp", "PyVRP"), ("vroom", "VROOM"))
        )
    )
    lines.append(
        "* each reference solver's own objective equals the validator's travel on every instance: "
        + ("yes" if summary["own_costs_agree"] else "**NO** (see the CSV's *_own_cost columns)")
    )
    lines.append(
        "* mean seconds per solve: "
        + ", ".join(
            f"{label} {_fmt(summary[f'{s}_mean_seconds'], 2)}"
            for s, label in (("ours", "ours"), ("pyvrp", "PyVRP"), ("vroom", "VROOM"))
        )
    )
    return lines


def table_lines(rows: list[dict]) -> list[str]:
    lines = [
        "| instance | ours | PyVRP | VROOM | ours/PyVRP | ours/VROOM | vehicles (ours/PyVRP/VROOM) "
        "| valid (ours/PyVRP/VROOM) | VROOM s |",
        "|---|---:|---:|---:|---:|---:|---|---|---:|",
    ]
    seeded = len({r.get("seed", 0) for r in rows}) > 1
    for r in rows:
        instance = f"{r['instance']} (seed {r.get('seed', 0)})" if seeded else r["instance"]
        lines.append(
            f"| {instance} | {_fmt(r['ours_cost'], 0)} | {_fmt(r['pyvrp_cost'], 0)} | {_fmt(r['vroom_cost'], 0)} "
            f"| {_fmt(r['ours_vs_pyvrp'])} | {_fmt(r['ours_vs_vroom'])} "
            f"| {r['ours_vehicles']}/{r['pyvrp_vehicles']}/{r['vroom_vehicles']} "
            f"| {_validity(r, 'ours')}/{_validity(r, 'pyvrp')}/{_validity(r, 'vroom')} "
            f"| {_fmt(r['vroom_seconds'], 2)} |"
        )
    return lines


def setup_line(job: dict, parallel: int) -> str:
    threads = job.get("vroom_threads", 1)
    return (
        f"Time limit {job.get('time_limit', '?'):g} s each. ours: carescheduler, {job.get('workers', 1)} core(s) "
        f"(parallel searches), seed {' '.join(map(str, job.get('seeds', [job.get('seed', 0)])))}; "
        f"PyVRP {_version('pyvrp')} (single-threaded), MaxRuntime, same seed; "
        f"VROOM (pyvroom {_version('pyvroom')}) exploration level {VROOM_EXPLORATION}, {threads} thread"
        f"{'s' if threads != 1 else ''}, timeout = time limit. The three solvers of an instance run one after "
        f"another; {parallel} instance{'s' if parallel != 1 else ''} at a time."
    )


def write_compare(
    name: str, rows: list[dict], job: dict, parallel: int, info: dict | None = None, command: str | None = None
) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    info = info or stamp_with_changes()
    summary = summarise(rows)
    with open(RESULTS / f"{name}.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    lines = [
        f"# {name}",
        "",
        f"{info['date']}, commit {info['commit']}, {info['cpu']}, {info['cores']} cores",
        "",
        setup_line(job, parallel),
        "",
        *([f"`{command}`", ""] if command else []),
        "Costs are total integer travel recomputed by our validator from each solver's routes "
        '(`read_problem(..., integer_travel=True)`, capacity dropped). "valid": our validator '
        "finds no violation and every customer is planned.",
        "",
        *summary_lines(summary),
        "",
        *table_lines(rows),
    ]
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(summary_lines(summary)))
