"""Road travel times from OpenStreetMap files, their cache, and the estimated fallback.

The road files are small real extracts in ``fixtures/osm`` (Lauf an der Pegnitz, a town of
26k people; © OpenStreetMap contributors, ODbL 1.0). Expected road times come from
networkx's Dijkstra on the same graph and a brute-force nearest node, so they share no
code with the scipy matrix under test. Nothing here may touch the network.
"""

from __future__ import annotations

import gzip
import itertools
import math
import shutil
import socket
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from pydantic import ValidationError

from carescheduler import Problem, TravelMatrix, solve, validate
from carescheduler.errors import InputError
from carescheduler.travel import estimated_modes, road_matrix, road_travel, travel_matrix
from carescheduler.travel import roads as roads_module
from carescheduler.travel.roads import UK_HIGHWAY_KMH, RoadNetwork, RoadSpeeds
from conftest import OSM

LAUF_DRIVE = OSM / "lauf-20200115.drive.osm.bz2"
LAUF_DRIVE_SERVICE = OSM / "lauf-20200115.drive_service.osm.bz2"
EARTH_KM = 6371.0088


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any attempt to open a connection fails the test: road files are read offline."""

    def refuse(self, address):
        raise AssertionError(f"network access attempted: {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


@pytest.fixture(scope="module")
def drive() -> RoadNetwork:
    return RoadNetwork.load(LAUF_DRIVE, "drive")


@pytest.fixture(scope="module")
def walk() -> RoadNetwork:
    return RoadNetwork.load(LAUF_DRIVE, "walk")


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_KM * math.asin(math.sqrt(a))


def points_near_nodes(network: RoadNetwork, count: int, seed: int, jitter_deg: float = 3e-4):
    """``count`` points scattered (about 30 m) around random nodes of ``network``."""
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(network.node_ids), count, replace=False)
    return (
        network.node_lat[pick] + rng.normal(0, jitter_deg, count),
        network.node_lon[pick] + rng.normal(0, jitter_deg, count),
    )


def nearest_by_brute_force(graph: nx.MultiDiGraph, lat: float, lon: float) -> tuple[int, float]:
    """The graph node closest to (lat, lon) and its distance in km, by trying every node."""
    return min(
        ((n, great_circle_km(lat, lon, d["y"], d["x"])) for n, d in graph.nodes(data=True)), key=lambda item: item[1]
    )


def one_way_edge(graph: nx.MultiDiGraph) -> tuple[int, int]:
    """A drivable one-way street: an edge u -> v with no edge back."""
    for u, v in graph.edges():
        if u != v and not graph.has_edge(v, u):
            return u, v
    raise AssertionError("the fixture has no one-way street")


def node_point(graph: nx.MultiDiGraph, node: int) -> tuple[float, float]:
    return graph.nodes[node]["y"], graph.nodes[node]["x"]


# --------------------------------------------------------------------------- the road matrix


def test_matrix_equals_networkx_dijkstra_plus_access_legs(drive: RoadNetwork) -> None:
    lat, lon = points_near_nodes(drive, 12, seed=1)
    minutes = drive.times(lat, lon).minutes()
    snapped = [nearest_by_brute_force(drive.graph, a, b) for a, b in zip(lat, lon, strict=False)]
    access_min = [km / drive.speeds.drive_access_kmh * 60 for _, km in snapped]
    checked = 0
    for i in range(12):
        lengths = nx.single_source_dijkstra_path_length(drive.graph, snapped[i][0], weight="travel_time")
        for j in range(12):
            if i != j and snapped[i][0] != snapped[j][0]:
                expected = lengths[snapped[j][0]] / 60 + access_min[i] + access_min[j]
                assert minutes[i, j] == pytest.approx(expected, rel=1e-9, abs=1e-6), (i, j)
                checked += 1
    assert checked >= 100


@pytest.fixture(scope="module")
def walk_one_ways(drive: RoadNetwork, tmp_path_factory) -> RoadNetwork:
    """Walking on a drive network saved one way: its one-way streets are walked back along
    edges added the other way round, with the way's shape the wrong way round."""
    import osmnx as ox

    graphml = tmp_path_factory.mktemp("roads") / "lauf-drive.graphml"
    ox.save_graphml(drive.graph, graphml)
    return RoadNetwork.load(graphml, "walk")


@pytest.mark.parametrize("mode", ["drive", "walk", "walk one-ways"])
def test_a_run_is_drawn_along_the_fastest_roads(
    drive: RoadNetwork, walk: RoadNetwork, walk_one_ways: RoadNetwork, mode: str
) -> None:
    """Each leg's polyline runs from its start through every node of the fastest way
    (networkx's, on travel time) to its end, each road in its own shape and direction: no
    step longer than the road it is on, and as long as the roads it follows."""
    network = {"drive": drive, "walk": walk, "walk one-ways": walk_one_ways}[mode]
    lat, lon = points_near_nodes(network, 30, seed=3)
    legs = [((lat[i], lon[i]), (lat[i + 1], lon[i + 1])) for i in range(29)]
    lines = network.paths(legs)
    assert len(lines) == 29
    longest_road_km = max(d["length"] for _, _, d in network.graph.edges(data=True)) / 1000
    for ((a_lat, a_lon), (b_lat, b_lon)), line in zip(legs, lines, strict=True):
        assert line[0] == (a_lon, a_lat) and line[-1] == (b_lon, b_lat)
        first = nearest_by_brute_force(network.graph, a_lat, a_lon)[0]
        last = nearest_by_brute_force(network.graph, b_lat, b_lon)[0]
        way = nx.shortest_path(network.graph, first, last, weight="travel_time")
        at = 0
        for node in way:  # in order along the polyline
            point = (network.graph.nodes[node]["x"], network.graph.nodes[node]["y"])
            at = line.index(point, at)
        steps = [great_circle_km(y0, x0, y1, x1) for (x0, y0), (x1, y1) in itertools.pairwise(line[1:-1])]
        assert max(steps, default=0.0) <= longest_road_km + 1e-6
        along = sum(steps)
        assert along >= great_circle_km(*node_point(network.graph, first), *node_point(network.graph, last)) - 1e-6
        roads_km = sum(
            min(network.graph[u][v].values(), key=lambda d: d["travel_time"])["length"] / 1000
            for u, v in itertools.pairwise(way)
        )
        assert along == pytest.approx(roads_km, rel=0.02, abs=1e-3)  # each road drawn once, the right way round


def test_no_legs_no_paths(drive: RoadNetwork) -> None:
    assert drive.paths([]) == []


def test_diagonal_is_zero_and_other_times_positive(drive: RoadNetwork) -> None:
    lat, lon = points_near_nodes(drive, 20, seed=2)
    minutes = drive.times(lat, lon).minutes()
    assert np.all(np.diag(minutes) == 0)
    assert np.all(minutes[~np.eye(20, dtype=bool)] > 0)


def test_drive_respects_one_way_streets(drive: RoadNetwork) -> None:
    u, v = one_way_edge(drive.graph)
    (lat_u, lon_u), (lat_v, lon_v) = node_point(drive.graph, u), node_point(drive.graph, v)
    minutes = drive.times([lat_u, lat_v], [lon_u, lon_v]).minutes()
    forward = nx.dijkstra_path_length(drive.graph, u, v, weight="travel_time") / 60
    back = nx.dijkstra_path_length(drive.graph, v, u, weight="travel_time") / 60
    assert forward != pytest.approx(back)
    assert (minutes[0, 1], minutes[1, 0]) == (pytest.approx(forward), pytest.approx(back))


def test_walking_ignores_one_way_streets(drive: RoadNetwork, walk: RoadNetwork) -> None:
    u, v = one_way_edge(drive.graph)
    (lat_u, lon_u), (lat_v, lon_v) = node_point(drive.graph, u), node_point(drive.graph, v)
    minutes = walk.times([lat_u, lat_v], [lon_u, lon_v]).minutes()
    assert minutes[0, 1] == pytest.approx(minutes[1, 0])
    lat, lon = points_near_nodes(walk, 25, seed=3)
    everywhere = walk.times(lat, lon).minutes()
    np.testing.assert_allclose(everywhere, everywhere.T, rtol=1e-12)


def test_walking_is_at_walking_pace_and_slower_than_driving(drive: RoadNetwork, walk: RoadNetwork) -> None:
    u, v = int(walk.node_ids[0]), int(walk.node_ids[len(walk.node_ids) // 2])
    metres = nx.dijkstra_path_length(walk.graph, u, v, weight="length")
    (lat_u, lon_u), (lat_v, lon_v) = node_point(walk.graph, u), node_point(walk.graph, v)
    minutes = walk.times([lat_u, lat_v], [lon_u, lon_v]).minutes()
    assert minutes[0, 1] == pytest.approx(metres / 1000 / walk.speeds.walk_kmh * 60)
    lat, lon = points_near_nodes(drive, 25, seed=4)
    by_car, on_foot = drive.times(lat, lon).minutes(), walk.times(lat, lon).minutes()
    off_diagonal = ~np.eye(25, dtype=bool)
    assert np.all(on_foot[off_diagonal] > by_car[off_diagonal])


def test_points_on_one_node_are_apart_by_the_straight_line(drive: RoadNetwork) -> None:
    lat0, lon0 = node_point(drive.graph, int(drive.node_ids[0]))
    lat = [lat0 + 1e-4, lat0 - 1e-4, lat0 + 1e-4]  # 11 m north, 11 m south, and the first again
    lon = [lon0, lon0, lon0]
    minutes = drive.times(lat, lon).minutes()
    apart_km = great_circle_km(lat[0], lon0, lat[1], lon0)
    assert minutes[0, 1] == pytest.approx(apart_km / drive.speeds.drive_access_kmh * 60)
    assert minutes[0, 1] > 0
    assert minutes[0, 2] == 0  # the same spot twice


SHORTCUTS_OSM = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6">
  <node id="1" lat="49.5000" lon="11.2800"/>
  <node id="2" lat="49.5000" lon="11.2900"/>
  <node id="3" lat="49.5090" lon="11.2800"/>
  <node id="4" lat="49.5090" lon="11.2900"/>
  <node id="5" lat="49.5003" lon="11.2850"/>
  <way id="10"><nd ref="1"/><nd ref="3"/><nd ref="4"/><nd ref="2"/><tag k="highway" v="residential"/></way>
  <way id="11"><nd ref="1"/><nd ref="2"/><tag k="highway" v="footway"/></way>
  <way id="12"><nd ref="1"/><nd ref="5"/><nd ref="2"/><tag k="building" v="yes"/></way>
  <way id="13"><nd ref="2"/><nd ref="5"/><nd ref="1"/><tag k="highway" v="service"/><tag k="access" v="private"/></way>
</osm>
"""


def test_each_mode_uses_only_the_ways_it_may(tmp_path: Path) -> None:
    """Around the block by car; the footpath straight across on foot; never through a building
    or down a private drive (an unfiltered file holds all of them)."""
    path = tmp_path / "shortcuts.osm"
    path.write_text(SHORTCUTS_OSM)
    corners = [(49.5000, 11.2800), (49.5090, 11.2800), (49.5090, 11.2900), (49.5000, 11.2900)]
    around_km = sum(great_circle_km(*a, *b) for a, b in itertools.pairwise(corners))
    across_km = great_circle_km(*corners[0], *corners[-1])
    lat, lon = [49.5000, 49.5000], [11.2800, 11.2900]
    by_car = RoadNetwork.load(path, "drive").times(lat, lon).minutes()
    on_foot = RoadNetwork.load(path, "walk").times(lat, lon).minutes()
    assert by_car[0, 1] == pytest.approx(around_km / UK_HIGHWAY_KMH["residential"] * 60, rel=1e-3)
    assert on_foot[0, 1] == pytest.approx(across_km / RoadSpeeds().walk_kmh * 60, rel=1e-3)
    assert on_foot[1, 0] == pytest.approx(on_foot[0, 1])


def test_untagged_roads_get_the_speed_of_their_type_and_tagged_roads_their_limit() -> None:
    network = RoadNetwork.load(LAUF_DRIVE, "drive", RoadSpeeds(highway_kmh={"residential": 10.0}))
    edges = [d for _, _, d in network.graph.edges(data=True)]
    untagged = [d for d in edges if "maxspeed" not in d and d["highway"] == "residential"]
    tagged = [d for d in edges if d.get("maxspeed") == "50"]
    assert untagged and tagged
    for d in untagged:
        assert d["travel_time"] == pytest.approx(d["length"] / 1000 / 10.0 * 3600)
    for d in tagged:
        assert d["travel_time"] == pytest.approx(d["length"] / 1000 / 50.0 * 3600)


# --------------------------------------------------------------------------- the cache


def test_cache_hit_returns_the_same_matrix_without_recomputing(tmp_path: Path, drive: RoadNetwork, monkeypatch) -> None:
    lat, lon = points_near_nodes(drive, 30, seed=5)
    first = road_matrix(LAUF_DRIVE, "drive", lat, lon, cache_dir=tmp_path)

    def must_not_run(*args, **kwargs):
        raise AssertionError("recomputed although the cache holds the matrix")

    monkeypatch.setattr(roads_module, "dijkstra", must_not_run)
    monkeypatch.setattr(RoadNetwork, "load", must_not_run)
    again = road_matrix(LAUF_DRIVE, "drive", lat, lon, cache_dir=tmp_path)
    assert np.array_equal(first, again)
    renamed = tmp_path / "renamed.osm.bz2"
    shutil.copy(LAUF_DRIVE, renamed)  # keyed by contents, not by name
    assert np.array_equal(first, road_matrix(renamed, "drive", lat, lon, cache_dir=tmp_path))


def test_cache_misses_when_anything_that_shapes_the_times_changes(
    tmp_path: Path, drive: RoadNetwork, monkeypatch
) -> None:
    lat, lon = points_near_nodes(drive, 10, seed=6)
    road_matrix(LAUF_DRIVE, "drive", lat, lon, cache_dir=tmp_path)
    loads = []
    real_load = RoadNetwork.load.__func__
    counted = classmethod(lambda cls, *a, **k: loads.append(a) or real_load(cls, *a, **k))
    monkeypatch.setattr(RoadNetwork, "load", counted)
    road_matrix(LAUF_DRIVE, "walk", lat, lon, cache_dir=tmp_path)
    road_matrix(LAUF_DRIVE, "drive", lat, lon, cache_dir=tmp_path, speeds=RoadSpeeds(drive_access_kmh=10))
    moved = lat.copy()
    moved[3] += 1e-4
    road_matrix(LAUF_DRIVE, "drive", moved, lon, cache_dir=tmp_path)
    road_matrix(LAUF_DRIVE_SERVICE, "drive", lat, lon, cache_dir=tmp_path)
    assert len(loads) == 4
    assert len(list(tmp_path.glob("*.npz"))) == 5


@pytest.mark.parametrize("damage", ["garbage", "truncated", "wrong arrays"])
def test_damaged_cache_entry_is_recomputed(tmp_path: Path, drive: RoadNetwork, damage: str) -> None:
    lat, lon = points_near_nodes(drive, 15, seed=7)
    first = road_matrix(LAUF_DRIVE, "drive", lat, lon, cache_dir=tmp_path)
    (entry,) = tmp_path.glob("*.npz")
    if damage == "garbage":
        entry.write_bytes(b"not a numpy file")
    elif damage == "truncated":
        entry.write_bytes(entry.read_bytes()[:500])
    else:
        np.savez(entry, node=np.arange(3))
    again = road_matrix(LAUF_DRIVE, "drive", lat, lon, cache_dir=tmp_path)
    assert np.array_equal(first, again)
    with np.load(entry) as rewritten:
        assert "between_nodes" in rewritten.files


def test_cache_folder_from_the_environment(tmp_path: Path, drive: RoadNetwork, monkeypatch) -> None:
    monkeypatch.setenv("CARESCHEDULER_CACHE", str(tmp_path / "from-env"))
    lat, lon = points_near_nodes(drive, 5, seed=8)
    road_matrix(LAUF_DRIVE, "drive", lat, lon)
    assert len(list((tmp_path / "from-env").glob("*.npz"))) == 1


# --------------------------------------------------------------------------- road files


def test_graphml_round_trip(tmp_path: Path, drive: RoadNetwork) -> None:
    import osmnx as ox

    graphml = tmp_path / "lauf.graphml"
    ox.save_graphml(drive.graph, graphml)
    zipped = tmp_path / "lauf.graphml.gz"
    with open(graphml, "rb") as source, gzip.open(zipped, "wb") as target:
        shutil.copyfileobj(source, target)
    lat, lon = points_near_nodes(drive, 20, seed=9)
    from_xml = road_matrix(LAUF_DRIVE, "drive", lat, lon, cache_dir=tmp_path / "cache")
    np.testing.assert_allclose(road_matrix(graphml, "drive", lat, lon, cache_dir=tmp_path / "cache"), from_xml)
    np.testing.assert_allclose(road_matrix(zipped, "drive", lat, lon, cache_dir=tmp_path / "cache"), from_xml)


def test_walking_on_a_graphml_drive_network_ignores_its_one_way_streets(tmp_path: Path, drive: RoadNetwork) -> None:
    import osmnx as ox

    graphml = tmp_path / "lauf-drive.graphml"
    ox.save_graphml(drive.graph, graphml)  # one-way streets are stored one way here
    u, v = one_way_edge(drive.graph)
    (lat_u, lon_u), (lat_v, lon_v) = node_point(drive.graph, u), node_point(drive.graph, v)
    minutes = RoadNetwork.load(graphml, "walk").times([lat_u, lat_v], [lon_u, lon_v]).minutes()
    assert minutes[0, 1] == pytest.approx(minutes[1, 0])


def test_reading_a_road_file_opens_no_connection_and_leaves_no_cache_folder(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    network = RoadNetwork.load(LAUF_DRIVE_SERVICE, "walk")  # the autouse fixture fails any connect()
    assert len(network.node_ids) > 100
    assert not (tmp_path / "cache").exists()


def test_missing_road_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError) as error:
        road_matrix(tmp_path / "nowhere.osm.bz2", "drive", [49.51], [11.28], cache_dir=tmp_path)
    assert error.value.field == "roads"
    assert "nowhere.osm.bz2" in str(error.value) and "does not exist" in str(error.value)


@pytest.mark.parametrize("name, says", [("area.osm.pbf", "convert"), ("area.shp", "unsupported")])
def test_unreadable_road_file_types_are_refused(tmp_path: Path, name: str, says: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"\x00")
    with pytest.raises(InputError) as error:
        road_matrix(path, "drive", [49.51], [11.28], cache_dir=tmp_path)
    assert name in str(error.value) and says in str(error.value)


def test_broken_road_file_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.osm"
    path.write_text("<osm><node id='1'")
    with pytest.raises(InputError) as error:
        RoadNetwork.load(path, "drive")
    assert "broken.osm" in str(error.value)


def test_road_file_without_usable_roads_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "footpaths.osm"
    path.write_text(SHORTCUTS_OSM.replace('v="residential"', 'v="footway"'))
    with pytest.raises(InputError) as error:
        RoadNetwork.load(path, "drive", field="roads['drive']")
    assert error.value.field == "roads['drive']" and "no roads usable for mode 'drive'" in str(error.value)
    assert len(RoadNetwork.load(path, "walk").node_ids) == 2


def test_point_far_outside_the_roads_is_named_with_its_distance(drive: RoadNetwork, tmp_path: Path) -> None:
    lat, lon = points_near_nodes(drive, 4, seed=10)
    lat[2], lon[2] = 52.52, 13.40  # Berlin, about 380 km away
    with pytest.raises(InputError) as error:
        road_matrix(LAUF_DRIVE, "drive", lat, lon, ids=["a", "b", "berlin", "d"], cache_dir=tmp_path)
    assert error.value.field == "locations[2]"
    message = str(error.value)
    assert "'berlin'" in message
    distance = float(message.split(" km from")[0].rsplit(" ", 1)[1])
    assert distance == pytest.approx(nearest_by_brute_force(drive.graph, 52.52, 13.40)[1], abs=0.1)


# --------------------------------------------------------------------------- problems


def road_problem(network: RoadNetwork, seed: int = 11, **extra) -> dict:
    """A small day in Lauf: an office, four clients, a driving and a walking carer."""
    lat, lon = points_near_nodes(network, 5, seed)
    locations = [
        {"id": f"L{i}", "lat": float(a), "lon": float(b)} for i, (a, b) in enumerate(zip(lat, lon, strict=False))
    ]
    return {
        "locations": locations,
        "carers": [
            {"id": "driver", "start_location": "L0", "shifts": [{"start": "08:00", "end": "16:00"}]},
            {
                "id": "walker",
                "start_location": "L0",
                "travel_mode": "walk",
                "shifts": [{"start": "08:00", "end": "16:00"}],
            },
        ],
        "clients": [{"id": f"c{i}", "location": f"L{i}"} for i in range(1, 5)],
        "visits": [
            {"id": f"v{i}", "client": f"c{i}", "duration": 30, "window": {"start": "08:30", "end": "14:00"}}
            for i in range(1, 5)
        ],
        **extra,
    }


def test_road_travel_fills_a_matrix_per_mode_and_plans_validate(drive: RoadNetwork, tmp_path: Path) -> None:
    problem = Problem.model_validate(road_problem(drive))
    assert estimated_modes(problem) == {"drive", "walk"}
    routed = road_travel(problem, {"drive": LAUF_DRIVE, "walk": LAUF_DRIVE_SERVICE}, cache_dir=tmp_path)
    assert problem.travel == [] and estimated_modes(routed) == set()
    assert [(m.mode.value, m.estimated, m.minutes.shape) for m in routed.travel] == [
        ("drive", False, (5, 5)),
        ("walk", False, (5, 5)),
    ]
    lat = [x.lat for x in problem.locations]
    lon = [x.lon for x in problem.locations]
    expected_walk = road_matrix(
        LAUF_DRIVE_SERVICE,
        "walk",
        lat,
        lon,
        cache_dir=tmp_path,
        speeds=RoadSpeeds(walk_kmh=problem.travel_estimate.walk_kmh),
    )
    assert np.array_equal(travel_matrix(routed, "walk"), expected_walk)
    plan = solve(routed, time_limit=2, seed=0, max_iterations=20)
    assert not plan.unassigned
    assert plan.kpis.travel_estimated is False
    report = validate(routed, plan)
    assert report.valid, report.violations
    assert report.cost.travel == pytest.approx(plan.cost.travel)
    assert Problem.model_validate_json(routed.model_dump_json()) == routed


def test_road_travel_with_one_file_for_all_modes_and_a_problem_walking_pace(drive: RoadNetwork, tmp_path: Path) -> None:
    brisk = Problem.model_validate(road_problem(drive, travel_estimate={"walk_kmh": 6.0}))
    slow = Problem.model_validate(road_problem(drive, travel_estimate={"walk_kmh": 3.0}))
    fast_walk = travel_matrix(road_travel(brisk, LAUF_DRIVE, cache_dir=tmp_path), "walk")
    slow_walk = travel_matrix(road_travel(slow, LAUF_DRIVE, cache_dir=tmp_path), "walk")
    np.testing.assert_allclose(slow_walk, 2 * fast_walk)


def test_road_travel_leaves_modes_without_a_file_estimated(drive: RoadNetwork, tmp_path: Path) -> None:
    problem = Problem.model_validate(road_problem(drive))
    routed = road_travel(problem, {"drive": LAUF_DRIVE}, cache_dir=tmp_path)
    assert [m.mode.value for m in routed.travel] == ["drive"]
    assert estimated_modes(routed) == {"walk"}


def test_road_travel_needs_lat_lon_for_every_location(drive: RoadNetwork, tmp_path: Path) -> None:
    data = road_problem(drive)
    data["locations"][3] = {"id": "L3", "x": 1.0, "y": 2.0}
    with pytest.raises(InputError) as error:
        road_travel(Problem.model_validate(data), LAUF_DRIVE, cache_dir=tmp_path)
    assert error.value.field == "locations[3]" and "'L3'" in str(error.value) and "lat/lon" in str(error.value)


def test_road_travel_rejects_an_unknown_mode(drive: RoadNetwork, tmp_path: Path) -> None:
    with pytest.raises(InputError) as error:
        road_travel(Problem.model_validate(road_problem(drive)), {"bicycle": LAUF_DRIVE}, cache_dir=tmp_path)
    assert error.value.field == "roads['bicycle']"


def test_road_travel_names_the_file_of_the_mode(drive: RoadNetwork, tmp_path: Path) -> None:
    with pytest.raises(InputError) as error:
        road_travel(
            Problem.model_validate(road_problem(drive)),
            {"drive": LAUF_DRIVE, "walk": tmp_path / "walk.osm"},
            cache_dir=tmp_path,
        )
    assert error.value.field == "roads['walk']"


# --------------------------------------------------------------------------- the estimated fallback


def test_estimate_uses_the_configured_speed_and_detour(drive: RoadNetwork) -> None:
    settings = {"detour_factor": 1.5, "drive_kmh": 40.0, "walk_kmh": 4.0}
    problem = Problem.model_validate(road_problem(drive, travel_estimate=settings))
    a, b = problem.locations[1], problem.locations[2]
    km = great_circle_km(a.lat, a.lon, b.lat, b.lon)
    assert travel_matrix(problem, "drive")[1, 2] == pytest.approx(km * 1.5 / 40.0 * 60)
    assert travel_matrix(problem, "walk")[1, 2] == pytest.approx(km * 1.5 / 4.0 * 60)
    plan = solve(problem, time_limit=2, seed=0, max_iterations=20)
    assert plan.kpis.travel_estimated is True
    assert validate(problem, plan).valid


def test_estimate_defaults_and_limits() -> None:
    from carescheduler.domain import TravelEstimate
    from carescheduler.travel import DETOUR_FACTOR, SPEED_KMH

    defaults = TravelEstimate()
    assert (defaults.detour_factor, defaults.drive_kmh, defaults.walk_kmh) == (
        DETOUR_FACTOR,
        SPEED_KMH["drive"],
        SPEED_KMH["walk"],
    )
    for bad in ({"drive_kmh": 0}, {"walk_kmh": -1}, {"detour_factor": 0.5}):
        with pytest.raises(ValidationError) as error:
            TravelEstimate(**bad)
        assert next(iter(bad)) in str(error.value)


def test_new_places_are_estimated_alike_with_coordinates_kept_and_read_afresh(drive: RoadNetwork) -> None:
    """A recommendation keeps the day's coordinates and adds a new client's place; that
    must estimate exactly what reading every location afresh does, the same way there
    and back, on the scale of the given road times."""
    from carescheduler.domain import Location
    from carescheduler.travel.estimate import PlaceCoordinates, estimate_new_places, estimate_times

    problem = Problem.model_validate(road_problem(drive))
    given = 1.7 * travel_matrix(problem, "drive")  # roads 1.7 times the straight-line guess
    near = problem.locations[2]
    new = Location(id="new", lat=near.lat + 0.001, lon=near.lon - 0.001)
    grown = problem.model_copy(update={"locations": [*problem.locations, new]})
    kept = PlaceCoordinates.of(problem.locations).plus([new])
    afresh = PlaceCoordinates.of(grown.locations)
    assert afresh.geographic is kept.geographic is True
    assert np.array_equal(kept.a, afresh.a) and np.array_equal(kept.b, afresh.b)
    rows, columns = estimate_new_places(grown, "drive", given, kept)
    rows_afresh, columns_afresh = estimate_new_places(grown, "drive", given)
    assert np.array_equal(rows, rows_afresh) and np.array_equal(columns, columns_afresh)
    n = len(grown.locations)
    assert rows.shape == (1, n) and columns.shape == (n, 1)
    raw_out = estimate_times(grown, "drive", [n - 1], range(n))
    raw_back = estimate_times(grown, "drive", range(n), [n - 1])
    assert np.allclose(rows, raw_out * 1.7) and np.allclose(columns, raw_back * 1.7)
    # a place with planar coordinates cannot join a day on lat/lon
    assert PlaceCoordinates.of(problem.locations).plus([Location(id="xy", x=1, y=2)]).geographic is None


# --------------------------------------------------------------------------- matrices as arrays


def tiny_problem(minutes) -> dict:
    return {
        "locations": [{"id": "A", "x": 0, "y": 0}, {"id": "B", "x": 1, "y": 0}],
        "carers": [{"id": "k", "start_location": "A", "shifts": [{"start": 0, "end": 600}]}],
        "clients": [{"id": "c", "location": "B"}],
        "visits": [{"id": "v", "client": "c", "duration": 10}],
        "travel": [{"mode": "drive", "minutes": minutes}],
    }


def test_array_matrix_is_used_without_copying_and_written_as_lists() -> None:
    minutes = np.array([[0.0, 7.5], [8.25, 0.0]])
    problem = Problem.model_validate(tiny_problem(minutes))
    used = travel_matrix(problem, "drive")
    assert np.shares_memory(used, minutes) and not used.flags.writeable
    minutes[0, 1] = 9.0  # the caller's array stays theirs to change
    assert used[0, 1] == 9.0
    text = problem.model_dump_json()
    assert '"minutes":[[0.0,9.0],[8.25,0.0]]' in text
    again = Problem.model_validate_json(text)
    assert isinstance(again.travel[0].minutes, list) and again == problem
    assert again.travel[0] != TravelMatrix(mode="drive", minutes=[[0.0, 9.0], [8.0, 0.0]])


@pytest.mark.parametrize(
    "minutes, field, says",
    [
        (np.zeros((2, 3)), "travel[0].minutes", "must be 2 x 2"),
        (np.zeros((3, 3)), "travel[0].minutes", "got 3 x 3"),
        (np.zeros(4), "travel.0.minutes", "2 dimensions"),
        (np.array([[0.0, -1.0], [1.0, 0.0]]), "travel[0].minutes[0][1]", "-1.0 must be >= 0"),
        (np.array([[0.0, 1.0], [np.nan, 0.0]]), "travel[0].minutes[1][0]", "nan must be >= 0"),
        ([[0.0, 1.0], [1.0]], "travel[0].minutes", "must be 2 x 2"),
        ([[0.0, 1.0], [float("nan"), 0.0]], "travel[0].minutes[1][0]", "nan must be >= 0"),
    ],
)
def test_bad_matrices_are_rejected_naming_the_entry(minutes, field: str, says: str) -> None:
    with pytest.raises(ValidationError) as error:
        Problem.model_validate(tiny_problem(minutes))
    assert field in str(error.value) and says in str(error.value)
