"""Cut a road network for one travel mode out of a raw OpenStreetMap extract (``.pbf``).

osmnx reads OSM XML but cannot read ``.pbf``, and it turns every way in a file into an
edge, so a raw extract (buildings, rivers, footpaths and motorways alike) must be
filtered first. The rules follow osmnx's own ``drive`` and ``walk`` network types:

* **drive**: public roads a car may use (no footways, paths, tracks, cycleways, steps,
  service roads, private or no-car ways);
* **walk**: every way a pedestrian may use, footways, paths, steps and quiet service
  roads included, but no motorways, no ``foot=no`` and nothing private; walkers use it
  in both directions.

Ways cut at the edge of a clipped extract keep their longest run of nodes present in
the file (osmnx fails on a way with missing nodes). Needs ``osmium`` (pyosmium), an
optional dependency used only when preparing road files::

    python -m carescheduler.travel.extract area.osm.pbf area.walk.osm.bz2 --mode walk
"""

from __future__ import annotations

import argparse
import bz2
import re
import shutil
import tempfile
from pathlib import Path

__all__ = ["extract_network", "keeps_way"]

_NOT_HIGHWAY = {
    "drive": re.compile(
        r"abandoned|bridleway|bus_guideway|construction|corridor|cycleway|elevator|escalator|"
        r"footway|no|path|pedestrian|planned|platform|proposed|raceway|razed|rest_area|service|"
        r"services|steps|track"
    ),
    "walk": re.compile(
        r"abandoned|bus_guideway|construction|cycleway|motor|no|planned|platform|proposed|"
        r"raceway|razed"
    ),
}
_PRIVATE = re.compile(r"private")


def keeps_way(tags: dict[str, str], mode: str) -> bool:
    """Whether a way with these OSM tags belongs to the ``mode`` network."""
    highway = tags.get("highway")
    if highway is None or _NOT_HIGHWAY[mode].search(highway) or "yes" in tags.get("area", ""):
        return False
    if _PRIVATE.search(tags.get("access", "")) or _PRIVATE.search(tags.get("service", "")):
        return False
    if mode == "drive":
        if "no" in tags.get("motor_vehicle", "") or "no" in tags.get("motorcar", ""):
            return False
        return not re.search(r"alley|driveway|emergency_access|parking|parking_aisle", tags.get("service", ""))
    return "no" not in tags.get("foot", "")


def extract_network(source: str | Path, target: str | Path, mode: str = "walk") -> tuple[int, int]:
    """Write the ``mode`` ways of ``source`` (and their nodes) to ``target`` as OSM XML
    (bz2-compressed when it ends in ``.bz2``). Returns (nodes, ways) written."""
    import osmium

    if mode not in _NOT_HIGHWAY:
        raise ValueError(f"mode must be one of {sorted(_NOT_HIGHWAY)}, not {mode!r}")
    source, target = Path(source), Path(target)
    ways: set[int] = set()
    wanted: set[int] = set()
    for way in osmium.FileProcessor(str(source), osmium.osm.WAY):
        # only ways are read; the check narrows osmium's entity union for mypy
        if isinstance(way, osmium.osm.Way) and keeps_way({t.k: t.v for t in way.tags}, mode):
            ways.add(way.id)
            wanted.update(n.ref for n in way.nodes)
    present: set[int] = set()
    n_ways = 0
    with tempfile.TemporaryDirectory() as folder:
        plain = Path(folder) / "network.osm"
        with osmium.SimpleWriter(str(plain)) as writer:
            for obj in osmium.FileProcessor(str(source), osmium.osm.NODE | osmium.osm.WAY):
                if isinstance(obj, osmium.osm.Node):
                    if obj.id in wanted and obj.location.valid():
                        present.add(obj.id)
                        writer.add_node(obj)
                elif isinstance(obj, osmium.osm.Way) and obj.id in ways:
                    refs = [n.ref for n in obj.nodes]
                    run = _longest_present_run(refs, present)
                    if len(run) >= 2:
                        writer.add_way(obj if len(run) == len(refs) else obj.replace(nodes=run))
                        n_ways += 1
        if target.suffix == ".bz2":
            with open(plain, "rb") as raw, bz2.open(target, "wb") as packed:
                shutil.copyfileobj(raw, packed)
        else:
            shutil.copyfile(plain, target)
    return len(present), n_ways


def _longest_present_run(refs: list[int], present: set[int]) -> list[int]:
    best: list[int] = []
    current: list[int] = []
    for ref in refs:
        if ref in present:
            current.append(ref)
        else:
            best, current = (current if len(current) > len(best) else best), []
    return current if len(current) > len(best) else best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, help="raw OpenStreetMap extract (.osm.pbf or .osm)")
    parser.add_argument("target", type=Path, help="road file to write (.osm or .osm.bz2)")
    parser.add_argument("--mode", choices=sorted(_NOT_HIGHWAY), default="walk")
    args = parser.parse_args()
    nodes, ways = extract_network(args.source, args.target, args.mode)
    print(f"{args.target}: {ways} ways, {nodes} nodes ({args.mode})")


if __name__ == "__main__":
    main()
