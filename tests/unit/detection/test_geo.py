"""Offline geo-IP: geoip2fast's bundled data, MaxMind files, the networks list, and the enrichment."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deskguard.detection.content import load_content
from deskguard.detection.event import Event
from deskguard.detection.geo import (
    PRIVATE,
    BundledResolver,
    GeoError,
    MaxMindResolver,
    Network,
    bundled_database,
    enrich,
    resolver,
)
from deskguard.detection.networks import NetworksError, load_networks, parse_networks
from deskguard.detection.pipeline import Pipeline

ROOT = Path(__file__).resolve().parents[3]
NETWORKS = load_networks(ROOT / "content" / "networks" / "networks.yml")
GEO = BundledResolver(NETWORKS)
JEANNE = "jeanne.martin@acme.example"


# -- the bundled data ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ip", "country", "org", "hosting"),
    [
        ("8.8.8.8", "US", "GOOGLE", True),
        ("2001:4860:4860::8888", "US", "GOOGLE", True),
        ("::ffff:8.8.8.8", "US", "GOOGLE", True),  # IPv4-mapped IPv6 is the IPv4 address
        ("51.15.0.1", "FR", "Scaleway S.a.s.", True),
        (" 3.5.0.1 ", "US", "AMAZON-AES", True),
        ("90.0.0.1", "FR", "Orange", False),  # Orange France, residential
        ("2a01:cb00::1", "FR", "Orange", False),
    ],
)
def test_known_addresses(ip: str, country: str, org: str, hosting: bool) -> None:
    network = GEO.lookup(ip)
    assert network is not None
    assert (network.country, network.org, network.hosting, network.anonymiser) == (
        country,
        org,
        hosting,
        False,
    )
    assert not network.private and network.asn is None  # the bundled data has no AS numbers
    assert ipaddress.ip_address(ip.strip()) in ipaddress.ip_network(network.cidr) or ip.startswith("::ffff")


def test_a_tor_exit_operator_is_an_anonymiser() -> None:
    network = GEO.lookup("185.220.101.34")
    assert network is not None and network.anonymiser and not network.hosting
    assert network.provider == "Tor exits (Stiftung Erneuerbare Freiheit)"


@pytest.mark.parametrize(
    "ip",
    [
        "10.0.0.1",
        "192.168.1.1",
        "127.0.0.1",
        "100.64.0.1",
        "169.254.1.1",
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fe80::1%eth0",
        "fc00::1",
        "2001:db8::1",
        "0.0.0.0",
        "255.255.255.255",
    ],
)
def test_private_and_reserved_addresses_have_no_country(ip: str) -> None:
    assert GEO.lookup(ip) is PRIVATE


@pytest.mark.parametrize(
    "value",
    ["", " ", "garbage", "999.1.1.1", "1.2.3", "8.8.8.8/32", "8.8.8.8:443", "١.٢.٣.٤", None, 42, b"8.8.8.8"],
)
def test_what_is_not_an_address_gives_none(value: Any) -> None:
    assert GEO.lookup(value) is None


def test_an_as_name_is_kept_only_when_the_address_is_within_its_prefix() -> None:
    # geoip2fast 1.2.2 answers AMAZON-02 (16.26.0.0/16) for this address of another prefix
    raw = bundled_database().lookup("16.39.196.209")
    network = GEO.lookup("16.39.196.209")
    assert network is not None and network.country == "US"
    assert network.org != raw.asn_name or ipaddress.ip_address("16.39.196.209") in ipaddress.ip_network(
        raw.asn_cidr
    )


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_never_raises_and_is_cached(text: str) -> None:
    first = GEO.lookup(text)
    assert first is None or isinstance(first, Network)
    assert GEO.lookup(text) is first


@settings(max_examples=500, deadline=None)
@given(st.ip_addresses())
def test_any_address_resolves_consistently(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    network = GEO.lookup(address)
    assert isinstance(network, Network)
    assert GEO.lookup(address) is network
    assert GEO.lookup(str(address)) == network
    if network.org:  # the AS name belongs to a prefix that holds the address
        mapped = getattr(address, "ipv4_mapped", None) or address
        assert mapped in ipaddress.ip_network(network.cidr)
    if network.private:
        assert network == PRIVATE
    else:  # only addresses routable on the Internet are looked up
        assert (getattr(address, "ipv4_mapped", None) or address).is_global


def test_repeated_addresses_are_answered_from_the_cache() -> None:
    geo = BundledResolver(NETWORKS, cache_size=4)
    geo.lookup("8.8.8.8")
    before = geo.cache_info()
    for _ in range(10):
        geo.lookup("8.8.8.8")
    after = geo.cache_info()
    assert (after.hits - before.hits, after.misses - before.misses) == (10, 0)
    for ip in ("1.1.1.1", "9.9.9.9", "51.15.0.1", "90.0.0.1", "8.8.4.4"):
        geo.lookup(ip)
    assert geo.cache_info().currsize == 4


# -- the networks list ---------------------------------------------------------------------------


def test_the_shipped_list_names_only_organisations_the_data_knows() -> None:
    from geoip2fast import geoip2fast as internals

    bundled_database()
    names = [name.lower() for name in getattr(internals, "mainListNamesASN", [])]
    if not names:
        pytest.skip("geoip2fast no longer exposes its AS names")
    for provider in NETWORKS.providers:
        for part in provider.org:
            assert any(part in name for name in names), (provider.name, part)
        for whole in provider.org_exact:
            assert whole in names, (provider.name, whole)
    assert NETWORKS.names("hosting") and NETWORKS.names("anonymiser")


@pytest.mark.parametrize(
    "org",
    [
        "AMAZONIA TELECOMUNICACOES LTDA",
        "GOOGLE-FIBER",
        "GOOGLEWIFI",
        "Datacampus SAS",
        "ASN-ROVHIL",
        "Orange",
        "Deutsche Telekom AG",
        "Proton66 OOO",
        "M247AI-AS",
    ],
)
def test_look_alike_names_are_not_matched(org: str) -> None:
    verdict = NETWORKS.classify(org=org)
    assert not verdict.hosting and not verdict.anonymiser, verdict


def test_numbers_ranges_and_trusted_ranges() -> None:
    networks = parse_networks(
        {
            "hosting": [{"provider": "Example", "asn": [64500], "cidr": ["192.0.2.0/24", "2001:db8::/32"]}],
            "anonymiser": [{"provider": "VPN", "org": ["vpn co"]}],
            "trusted": ["192.0.2.128/25"],
        }
    )
    assert networks.classify(asn=64500).provider == "Example"
    assert networks.classify(address=ipaddress.ip_address("192.0.2.1")).hosting
    assert networks.classify(address=ipaddress.ip_address("2001:db8::1")).hosting
    assert not networks.classify(address=ipaddress.ip_address("192.0.2.200")).hosting  # trusted
    both = networks.classify(org="The VPN Co Ltd", asn=64500)
    assert both.hosting and both.anonymiser and both.provider == "VPN"  # anonymisers named first
    trusted = parse_networks(
        {"trusted": ["51.15.0.0/16"], "hosting": [{"provider": "S", "org": ["scaleway"]}]}
    )
    network = BundledResolver(trusted).lookup("51.15.0.1")
    assert network is not None and not network.hosting


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "expected a mapping"),
        ({"hosting": [], "clouds": []}, "unknown key(s) clouds"),
        ({"version": 2}, "version: expected 1, got 2"),
        ({"hosting": {"provider": "x"}}, "hosting: expected a list of providers"),
        ({"hosting": ["aws"]}, "hosting[0]: expected a mapping"),
        ({"hosting": [{"org": ["x"]}]}, "hosting[0].provider: expected the provider's name"),
        (
            {"anonymiser": [{"provider": "A", "org": ["a"]}, {"provider": "B"}]},
            "anonymiser[1] (B): matches nothing",
        ),
        ({"hosting": [{"provider": "A", "orgs": ["a"]}]}, "hosting[0] (A): unknown key(s) orgs"),
        ({"hosting": [{"provider": "A", "org": "amazon"}]}, "hosting[0] (A).org: expected a list, got str"),
        (
            {"hosting": [{"provider": "A", "org": ["a", ""]}]},
            "hosting[0] (A).org[1]: expected a non-empty string",
        ),
        (
            {"hosting": [{"provider": "A", "asn": ["AS16509"]}]},
            "hosting[0] (A).asn[0]: expected an AS number",
        ),
        ({"hosting": [{"provider": "A", "asn": [True]}]}, "hosting[0] (A).asn[0]: expected an AS number"),
        (
            {"hosting": [{"provider": "A", "cidr": ["10.0.0.1/8"]}]},
            "hosting[0] (A).cidr[0]: '10.0.0.1/8' is not",
        ),
        (
            {"hosting": [{"provider": "A", "cidr": [10]}]},
            "hosting[0] (A).cidr[0]: expected a CIDR range as a string",
        ),
        ({"trusted": "10.0.0.0/8"}, "trusted: expected a list of CIDR ranges"),
    ],
)
def test_networks_errors_name_the_field(document: Any, message: str) -> None:
    with pytest.raises(NetworksError) as caught:
        parse_networks(document, where="nets.yml")
    assert str(caught.value).startswith("nets.yml"), caught.value
    assert message in str(caught.value), caught.value


def test_networks_file_errors_name_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "networks.yml"
    broken.write_text("hosting:\n  - provider: A\n    org: [a\n")
    with pytest.raises(NetworksError, match=rf"^{broken}:\d+: not valid YAML"):
        load_networks(broken)
    with pytest.raises(NetworksError, match="cannot be read"):
        load_networks(tmp_path / "missing.yml")


# -- MaxMind files -------------------------------------------------------------------------------


def _mmdbs(tmp_path: Path) -> tuple[Path, Path]:
    writer = pytest.importorskip("mmdb_writer")
    from netaddr import IPSet

    city = writer.MMDBWriter(ip_version=6, database_type="GeoLite2-City", ipv4_compatible=True)
    tokyo = {"latitude": writer.MmdbF32(35.69), "longitude": writer.MmdbF32(139.69), "accuracy_radius": 20}
    city.insert_network(
        IPSet(["8.8.8.0/24"]),
        {"country": {"iso_code": "JP"}, "city": {"names": {"en": "Tokyo"}}, "location": tokyo},
    )
    paris = {"latitude": writer.MmdbF32(48.86), "longitude": writer.MmdbF32(2.35), "accuracy_radius": 10}
    city.insert_network(
        IPSet(["90.0.0.0/16"]),
        {"country": {"iso_code": "FR"}, "city": {"names": {"en": "Paris"}}, "location": paris},
    )
    centre = {"latitude": writer.MmdbF32(46.0), "longitude": writer.MmdbF32(2.0), "accuracy_radius": 1000}
    city.insert_network(
        IPSet(["90.1.0.0/16"]),
        {"country": {"iso_code": "FR"}, "city": {"names": {"en": "X"}}, "location": centre},
    )
    city.insert_network(IPSet(["2001:4860::/32"]), {"registered_country": {"iso_code": "US"}})
    asn = writer.MMDBWriter(ip_version=6, database_type="GeoLite2-ASN", ipv4_compatible=True)
    asn.insert_network(
        IPSet(["8.8.8.0/24"]),
        {
            "autonomous_system_number": writer.MmdbU32(64500),
            "autonomous_system_organization": "Example Hosting",
        },
    )
    paths = tmp_path / "city.mmdb", tmp_path / "asn.mmdb"
    city.to_db_file(str(paths[0]))
    asn.to_db_file(str(paths[1]))
    return paths


def test_maxmind_city_and_asn(tmp_path: Path) -> None:
    city, asn = _mmdbs(tmp_path)
    networks = parse_networks({"hosting": [{"provider": "Example", "asn": [64500]}]})
    geo = resolver(country_mmdb=city, asn_mmdb=asn, networks=networks)
    assert isinstance(geo, MaxMindResolver)
    assert geo.lookup("8.8.8.8") == Network(
        country="JP",
        asn=64500,
        org="Example Hosting",
        cidr="8.8.8.0/24",
        hosting=True,
        provider="Example",
        city="Tokyo",
        lat=pytest.approx(35.69, abs=1e-3),
        lon=pytest.approx(139.69, abs=1e-3),
    )
    vague = geo.lookup("90.1.2.3")
    assert vague is not None and vague.city == "X" and vague.lat is None  # a country's centre, not a place
    assert geo.lookup("2001:4860::1") == Network(country="US")
    assert geo.lookup("10.0.0.1") is PRIVATE and geo.lookup("nope") is None
    assert geo.lookup("1.2.3.4") == Network()  # in neither file
    only_asn = MaxMindResolver(asn=asn)
    assert only_asn.lookup("8.8.8.8") == Network(asn=64500, org="Example Hosting", cidr="8.8.8.0/24")


def test_maxmind_errors_name_the_file(tmp_path: Path) -> None:
    city, asn = _mmdbs(tmp_path)
    with pytest.raises(GeoError, match="give a Country or City database"):
        MaxMindResolver()
    with pytest.raises(GeoError, match=rf"{tmp_path}/missing.mmdb: no such MaxMind database"):
        MaxMindResolver(country=tmp_path / "missing.mmdb")
    junk = tmp_path / "junk.mmdb"
    junk.write_bytes(b"not a database" * 100)
    with pytest.raises(GeoError, match=rf"{junk}: not a readable MaxMind database"):
        MaxMindResolver(asn=junk)
    with pytest.raises(
        GeoError, match="a GeoLite2-ASN database where a Country or City database is expected"
    ):
        MaxMindResolver(country=asn)
    with pytest.raises(GeoError, match="a GeoLite2-City database where an ASN database is expected"):
        MaxMindResolver(asn=city)


# -- enrichment, in the pipeline and after a recovery --------------------------------------------


def okta(
    uuid: str, event_type: str, minute: int, ip: str = "", geo: dict | None = None, **extra: Any
) -> dict:
    client: dict[str, Any] = {"ipAddress": ip} if ip else {}
    if geo is not None:
        client["geographicalContext"] = geo
    return {
        "uuid": f"3f405162-0000-4000-8000-{uuid:0>12}",
        "published": f"2026-11-30T09:{minute:02d}:00.000Z",
        "eventType": event_type,
        "actor": {"id": "00u1jm", "type": "User", "alternateId": JEANNE},
        "client": client,
        "outcome": {"result": "SUCCESS"},
        "target": [],
        **extra,
    }


RECOVERY_RULE = ROOT / "content" / "rules" / "identity" / "recovery_new_country.yml"


def test_the_pipeline_fills_what_the_vendor_left_empty_and_keeps_its_own() -> None:
    pipeline = Pipeline(load_content([RECOVERY_RULE]), geo=GEO)
    (bare,) = pipeline.events(okta("1", "user.session.start", 1, ip="51.15.0.1"))
    assert (bare.country, bare.network, bare.is_hosting, bare.asn) == ("FR", "Scaleway S.a.s.", True, None)
    assert bare.get("src_endpoint.autonomous_system.name") == "Scaleway S.a.s."
    paris = {"city": "Paris", "country": "France", "geolocation": {"lat": 48.8566, "lon": 2.3522}}
    (own,) = pipeline.events(okta("2", "user.session.start", 2, ip="8.8.8.8", geo=paris))
    assert (own.country, own.city, own.lat) == ("France", "Paris", 48.8566)  # the vendor's geo, kept
    assert (own.network, own.is_hosting) == ("GOOGLE", True)
    (inside,) = pipeline.events(okta("3", "user.session.start", 3, ip="10.1.2.3"))
    assert (inside.country, inside.network, inside.is_hosting) == ("", "", None)
    (plain,) = Pipeline(load_content([RECOVERY_RULE])).events(
        okta("4", "user.session.start", 4, ip="51.15.0.1")
    )
    assert (plain.country, plain.is_hosting) == ("", None)  # no resolver, no lookup


def test_the_content_resolver_is_used_when_none_is_passed() -> None:
    content = load_content([RECOVERY_RULE])
    content.geo = GEO
    (event,) = Pipeline(content).events(okta("5", "user.session.start", 1, ip="90.0.0.1"))
    assert (event.country, event.network, event.is_hosting) == ("FR", "Orange", False)


def _after_reset(sign_in_ip: str) -> list[Any]:
    pipeline = Pipeline(load_content([RECOVERY_RULE]), geo=GEO)
    reset = okta(
        "12",
        "user.account.reset_password",
        6,
        ip="81.250.12.200",
        actor={"id": "00u1kd", "type": "User", "alternateId": "k.dupont.adm@acme.example"},
        target=[{"id": "00u1jm", "type": "User", "alternateId": JEANNE}],
    )
    alerts = []
    for record in (
        okta("11", "user.session.start", 1, ip="90.84.7.20"),  # Lyon, Orange: the usual place
        reset,
        okta("13", "user.session.start", 14, ip=sign_in_ip),
    ):
        alerts.extend(pipeline.feed(record, tenant="tnt_a"))
    return alerts


def test_a_sign_in_from_a_hosting_network_after_a_reset_raises_an_alert() -> None:
    (alert,) = _after_reset("51.15.0.1")  # Scaleway, in France: the usual country, a datacentre
    assert alert.rule_id == "Identity.Recovery.NewCountryOrProxy"
    assert "from a hosting network (Scaleway S.a.s.)" in alert.explanation
    assert "countries seen before: FR" in alert.explanation


def test_the_same_person_from_a_residential_isp_in_the_usual_country_raises_nothing() -> None:
    assert _after_reset("90.0.0.1") == []  # Orange France


def test_an_anonymiser_network_marks_the_event_a_proxy() -> None:
    (alert,) = _after_reset("185.220.101.34")
    assert "through an anonymising proxy (Stiftung Erneuerbare Freiheit)" in alert.explanation


def _event(**fields: Any) -> Event:
    base: dict[str, Any] = dict(
        id="e",
        time=0.0,
        source="okta",
        product="okta",
        service="okta",
        class_name="authentication",
        activity="sign_in",
        type="t",
        raw={},
    )
    return Event(**(base | fields))


class Fixed:
    def __init__(self, network: Network | None) -> None:
        self.network = network

    def lookup(self, ip: Any) -> Network | None:
        return self.network


def test_enrich_coordinates_proxy_flag_and_what_it_leaves_alone() -> None:
    tokyo = Network(country="JP", org="Example", anonymiser=True, city="Tokyo", lat=35.7, lon=139.7)
    bare, vendor, no_ip = (
        _event(src_ip="8.8.8.8"),
        _event(src_ip="8.8.8.8", lat=1.0, lon=2.0, is_proxy=False),
        _event(),
    )
    enrich([bare, vendor, no_ip], Fixed(tokyo))
    assert (bare.country, bare.city, bare.lat, bare.lon, bare.is_proxy) == ("JP", "Tokyo", 35.7, 139.7, True)
    assert (vendor.city, vendor.lat, vendor.lon, vendor.is_proxy) == ("", 1.0, 2.0, True)
    assert (no_ip.country, no_ip.network, no_ip.is_hosting) == ("", "", None)
    unknown = _event(src_ip="garbage")
    enrich([unknown], Fixed(None))
    assert unknown.is_hosting is None


def test_impossible_travel_uses_city_coordinates(tmp_path: Path) -> None:
    from deskguard.detection.alerts import RuleMeta
    from deskguard.detection.analytics import build

    city, asn = _mmdbs(tmp_path)
    geo = MaxMindResolver(country=city, asn=asn)
    paris, tokyo = (
        _event(id="a", src_ip="90.0.5.5", target_user=JEANNE),
        _event(id="b", time=1800.0, src_ip="8.8.8.8", target_user=JEANNE),
    )
    enrich([paris, tokyo], geo)
    travel = build("impossible_travel", RuleMeta(rule_id="Test.Travel.Rule", title="t"), {})
    assert travel.observe(paris) == []
    (finding,) = travel.observe(tokyo)
    assert "Paris" in finding.explanation and "Tokyo" in finding.explanation


def test_the_bundled_data_is_loaded_once_however_many_threads_ask(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading
    import time

    import geoip2fast

    from deskguard.detection import geo

    built: list[object] = []

    class Slow:
        def __init__(self, **kwargs: Any) -> None:
            time.sleep(0.05)
            built.append(self)

    monkeypatch.setattr(geo, "_bundled", None)
    monkeypatch.setattr(geoip2fast, "GeoIP2Fast", Slow)
    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(geo.bundled_database())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(built) == 1 and got == built * 8


def test_data_that_cannot_be_loaded_is_a_geo_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import geoip2fast

    from deskguard.detection import geo

    def broken(**kwargs: Any) -> None:
        raise OSError("gone")

    monkeypatch.setattr(geo, "_bundled", None)
    monkeypatch.setattr(geoip2fast, "GeoIP2Fast", broken)
    with pytest.raises(
        GeoError, match=r"geoip2fast-asn-ipv6\.dat\.gz: geoip2fast's data cannot be loaded: gone"
    ):
        BundledResolver().lookup("8.8.8.8")


def test_the_composition_root_builds_the_resolver_the_settings_ask_for(tmp_path: Path) -> None:
    from deskguard.bootstrap import _geo
    from deskguard.domain.errors import ConfigurationError
    from deskguard.settings import load_settings

    assert _geo(load_settings(demo=True, geo_enabled=False)) is None
    default = _geo(load_settings(demo=True))
    assert isinstance(default, BundledResolver) and default.networks.names("hosting")
    city, asn = _mmdbs(tmp_path)
    chosen = _geo(load_settings(demo=True, geoip_country_mmdb=city, geoip_asn_mmdb=asn))
    assert isinstance(chosen, MaxMindResolver)
    with pytest.raises(
        ConfigurationError, match="DESKGUARD_GEOIP_COUNTRY_MMDB / _ASN_MMDB: .*no such MaxMind"
    ):
        _geo(load_settings(demo=True, geoip_asn_mmdb=tmp_path / "none.mmdb"))
    bad = tmp_path / "networks.yml"
    bad.write_text("hosting: [{provider: A}]\n")
    with pytest.raises(
        ConfigurationError, match=r"DESKGUARD_NETWORKS_PATH: .*hosting\[0\] \(A\): matches nothing"
    ):
        _geo(load_settings(demo=True, networks_path=bad))
