"""Road travel-matrix build time: cold (empty cache) and warm (from the cache).

    python -m benchmarks.matrix_build [--sizes 500 2000 5000] [--osm PATH] [--mode drive] [--seed 0]

Points are graph nodes of the road file picked at random (fixed seed) and moved about
100 m in a random direction, like homes along the streets. *Cold* is
``carescheduler.travel.road_matrix`` with an empty temporary cache folder: reading the
file, building the graph, snapping, Dijkstra, expanding the matrix and writing the cache.
*Warm* is the same call again, answered from the cache; it must give the identical
matrix. osmnx is imported before timing (once per process). Writes
``results/matrix-build.md`` and ``.csv``; the default road file is the Liechtenstein
drive network in ``fixtures/osm``.
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path

import numpy as np

from .runner import RESULTS, stamp

LIECHTENSTEIN = Path(__file__).resolve().parents[1] / "fixtures" / "osm" / "liechtenstein-20150727.drive.osm.bz2"
JITTER_M = 100.0


def jittered_points(osm: Path, mode: str, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``size`` points about ``JITTER_M`` metres from random nodes of the mode's network."""
    from carescheduler.travel.roads import RoadNetwork

    network = RoadNetwork.load(osm, mode)
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(network.node_ids), size)
    north, east = rng.normal(0.0, JITTER_M, (2, size))
    lat = network.node_lat[pick] + north / 111_195.0
    lon = network.node_lon[pick] + east / (111_195.0 * np.cos(np.radians(network.node_lat[pick])))
    return lat, lon


def measure(osm: Path, mode: str, size: int, seed: int) -> dict:
    from carescheduler.travel import road_matrix

    lat, lon = jittered_points(osm, mode, size, seed)
    with tempfile.TemporaryDirectory(prefix="matrix-build-") as folder:
        started = time.perf_counter()
        cold = road_matrix(osm, mode, lat, lon, cache_dir=folder)
        cold_s = time.perf_counter() - started
        started = time.perf_counter()
        warm = road_matrix(osm, mode, lat, lon, cache_dir=folder)
        warm_s = time.perf_counter() - started
        cache_bytes = sum(p.stat().st_size for p in Path(folder).glob("*.npz"))
    off_diagonal = cold[~np.eye(size, dtype=bool)]
    return {
        "locations": size,
        "cold_s": round(cold_s, 2),
        "warm_s": round(warm_s, 3),
        "identical": bool(np.array_equal(cold, warm)),
        "cache_mb": round(cache_bytes / 1e6, 1),
        "median_min": round(float(np.median(off_diagonal)), 2),
        "max_min": round(float(off_diagonal.max()), 2),
        "asymmetric_pct": round(100.0 * float(np.mean(cold != cold.T)), 1),
    }


def write(name: str, osm: Path, mode: str, rows: list[dict]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    info = stamp()
    with open(RESULTS / f"{name}.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        writer.writeheader()
        writer.writerows(rows)
    about = (
        f"Road file `{osm.name}`, mode {mode}; points within about {JITTER_M:g} m of random road nodes. "
        "Cold: empty cache (read file, graph, snap, Dijkstra, matrix, write cache). Warm: the same call again, "
        "from the cache. Map data © OpenStreetMap contributors, ODbL 1.0."
    )
    lines = [
        f"# {name}",
        "",
        f"{info['date']}, commit {info['commit']}, {info['cpu']}, {info['cores']} cores",
        "",
        about,
        "",
        ("| locations | cold s | warm s | warm identical | cache MB | median trip min | max trip min | asymmetric % |"),
        "|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['locations']} | {r['cold_s']} | {r['warm_s']} | {r['identical']} | {r['cache_mb']} | "
            f"{r['median_min']} | {r['max_min']} | {r['asymmetric_pct']} |"
        )
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 2000, 5000])
    parser.add_argument("--osm", type=Path, default=LIECHTENSTEIN, help="road file (.osm, .osm.bz2, .graphml)")
    parser.add_argument("--mode", choices=["drive", "walk"], default="drive")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--name", default="matrix-build")
    args = parser.parse_args()
    import osmnx  # noqa: F401  (imported once, outside the timings)

    rows = []
    for size in args.sizes:
        row = measure(args.osm, args.mode, size, args.seed)
        print(
            f"{size:>6} locations  cold {row['cold_s']:>6} s  warm {row['warm_s']:>6} s  "
            f"identical {row['identical']}  cache {row['cache_mb']} MB",
            flush=True,
        )
        rows.append(row)
    write(args.name, args.osm, args.mode, rows)


if __name__ == "__main__":
    main()
