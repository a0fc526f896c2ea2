"""Cutting a mode's network out of a raw OSM extract (``travel/extract.py``)."""

from __future__ import annotations

import bz2

import pytest

from carescheduler.travel.extract import extract_network, keeps_way

RAW = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="test">
  <node id="1" version="1" lat="49.50" lon="11.25"/>
  <node id="2" version="1" lat="49.51" lon="11.25"/>
  <node id="3" version="1" lat="49.51" lon="11.26"/>
  <node id="4" version="1" lat="49.50" lon="11.26"/>
  <node id="5" version="1" lat="49.505" lon="11.255"/>
  <way id="10" version="1"><nd ref="1"/><nd ref="2"/><tag k="highway" v="residential"/></way>
  <way id="11" version="1"><nd ref="2"/><nd ref="3"/><tag k="highway" v="footway"/></way>
  <way id="12" version="1"><nd ref="3"/><nd ref="4"/><tag k="highway" v="motorway"/></way>
  <way id="13" version="1"><nd ref="4"/><nd ref="5"/><tag k="building" v="yes"/></way>
  <way id="14" version="1"><nd ref="4"/><nd ref="1"/><nd ref="99"/><tag k="highway" v="tertiary"/></way>
</osm>
"""


@pytest.mark.parametrize(
    "tags, drive, walk",
    [
        ({"highway": "residential"}, True, True),
        ({"highway": "footway"}, False, True),
        ({"highway": "steps"}, False, True),
        ({"highway": "motorway"}, True, False),
        ({"highway": "service", "service": "driveway"}, False, True),
        ({"highway": "residential", "access": "private"}, False, False),
        ({"highway": "path", "foot": "no"}, False, False),
        ({"highway": "pedestrian", "area": "yes"}, False, False),
        ({"building": "yes"}, False, False),
    ],
)
def test_which_ways_each_mode_keeps(tags, drive, walk) -> None:
    assert keeps_way(tags, "drive") is drive
    assert keeps_way(tags, "walk") is walk


def test_extract_writes_the_mode_ways_and_trims_clipped_ones(tmp_path) -> None:
    pytest.importorskip("osmium")
    raw = tmp_path / "raw.osm"
    raw.write_text(RAW)
    walk = tmp_path / "walk.osm.bz2"
    nodes, ways = extract_network(raw, walk, "walk")
    text = bz2.decompress(walk.read_bytes()).decode()
    assert ways == 3 and 'id="11"' in text and 'id="12"' not in text and 'id="13"' not in text
    assert 'ref="99"' not in text  # way 14 runs off the extract: cut to the nodes present
    assert nodes == 4
    drive = tmp_path / "drive.osm"
    _, ways = extract_network(raw, drive, "drive")
    text = drive.read_text()
    assert ways == 3 and 'id="12"' in text and 'id="11"' not in text


def test_unknown_mode_is_refused(tmp_path) -> None:
    with pytest.raises(ValueError, match="mode"):
        extract_network(tmp_path / "x.osm", tmp_path / "y.osm", "cycle")
