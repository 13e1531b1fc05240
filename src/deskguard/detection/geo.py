"""IP address -> country and network, offline: the data geoip2fast ships, or MaxMind ``.mmdb`` files.

``BundledResolver`` reads ``geoip2fast-asn-ipv6.dat.gz``, which the geoip2fast package ships
(MaxMind GeoLite2 Country + ASN, IPv4 and IPv6, as of the package's release): country and AS
organisation name, no AS number, no city. It is loaded once per process, at the first lookup
(about 0.2 s), under a lock. ``MaxMindResolver`` reads GeoLite2/GeoIP2 Country or City and ASN
databases when their paths are configured; a City database adds the city and its coordinates.

Both classify the network with the hosting and anonymiser lists (``detection.networks``) and keep
their answers in an LRU cache: sign-ins repeat addresses. ``lookup`` never raises on its input:
what is not an IP address gives ``None``; a private, loopback, link-local, shared (CGNAT),
documentation or reserved address gives ``PRIVATE``, with no country.

``enrich`` is what the pipeline calls on each normalised event: it fills what the vendor left
empty and never overwrites the vendor's own geography.
"""

from __future__ import annotations

import functools
import ipaddress
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import maxminddb

from deskguard.detection.event import Event
from deskguard.detection.networks import NO_NETWORKS, IPAddress, Networks

CACHE_SIZE = 65_536  # distinct addresses remembered per resolver
MAX_RADIUS_KM = 200  # City coordinates vaguer than this (a country's centre) are not used for travel
BUNDLED_FILE = "geoip2fast-asn-ipv6.dat.gz"


class GeoError(RuntimeError):
    """A geo database cannot be opened or is not of the expected kind; the message names the file."""


@dataclass(frozen=True, slots=True)
class Network:
    """What is known of the network of one address. Strings are "" when unknown."""

    country: str = ""  # ISO 3166-1 alpha-2 of the address's location
    asn: int | None = None  # AS number (MaxMind ASN databases only)
    org: str = ""  # AS organisation name: "GOOGLE", "Scaleway S.a.s.", "Orange"
    cidr: str = ""  # the announced prefix the address belongs to, when known
    hosting: bool = False  # a hosting or cloud provider (networks.yml, or MaxMind's trait)
    anonymiser: bool = False  # a VPN, proxy or Tor exit operator (networks.yml, or MaxMind's traits)
    private: bool = False  # not routable on the Internet: no country, no network
    provider: str = ""  # the networks.yml provider that matched
    city: str = ""  # City databases only
    lat: float | None = None
    lon: float | None = None


PRIVATE = Network(private=True)
_ADDRESS_TYPES = (str, ipaddress.IPv4Address, ipaddress.IPv6Address)


class GeoResolver(Protocol):
    def lookup(self, ip: str | IPAddress) -> Network | None:
        """The network of ``ip``; ``None`` when it is not an IP address. Never raises on input."""
        ...


def parse_ip(value: str | IPAddress) -> IPAddress | None:
    """An address from text (surrounding spaces allowed) or as it is; IPv4-mapped IPv6 as IPv4."""
    if isinstance(value, str):
        try:
            address: IPAddress = ipaddress.ip_address(value.strip())
        except ValueError:
            return None
    elif isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address):
        address = value
    else:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_public(address: IPAddress) -> bool:
    """Routable on the Internet. A scoped IPv6 address (``fe80::1%eth0``) means something on one link only."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return False
        return address.is_global and not (address.is_multicast or address.is_reserved)
    value = int(address)  # IPv4: integer ranges, not ipaddress's walk over its network list per call
    return not any(first <= value <= last for first, last in _IPV4_NOT_PUBLIC)


# IPv4 blocks that are not routable on the Internet: what ``is_global`` excludes, with multicast
# and reserved (IANA special-purpose registry; 192.0.0.9 and .10 are global but too rare to matter).
_IPV4_NOT_PUBLIC = tuple(
    (int(net.network_address), int(net.broadcast_address))
    for net in map(
        ipaddress.IPv4Network,
        (
            "0.0.0.0/8",
            "10.0.0.0/8",
            "100.64.0.0/10",
            "127.0.0.0/8",
            "169.254.0.0/16",
            "172.16.0.0/12",
            "192.0.0.0/24",
            "192.0.2.0/24",
            "192.88.99.0/24",
            "192.168.0.0/16",
            "198.18.0.0/15",
            "198.51.100.0/24",
            "203.0.113.0/24",
            "224.0.0.0/4",
            "240.0.0.0/4",
        ),
    )
)


class CachedResolver:
    """The common part: input checks, private addresses, the cache. Subclasses ``_resolve``."""

    def __init__(self, networks: Networks = NO_NETWORKS, *, cache_size: int = CACHE_SIZE) -> None:
        self.networks = networks
        self._cached = functools.lru_cache(maxsize=cache_size)(self._uncached)

    def lookup(self, ip: str | IPAddress) -> Network | None:
        if type(ip) is str:  # the common case first: one lookup per event, most of them cached
            return self._cached(ip)
        if not isinstance(ip, _ADDRESS_TYPES):
            return None
        return self._cached(ip)

    def cache_info(self) -> Any:
        return self._cached.cache_info()

    def cache_clear(self) -> None:
        self._cached.cache_clear()

    def _uncached(self, ip: str | IPAddress) -> Network | None:
        address = parse_ip(ip)
        if address is None:
            return None
        if not is_public(address):
            return PRIVATE
        return self._resolve(address)

    def _resolve(self, address: IPAddress) -> Network | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _network(self, address: IPAddress, **known: Any) -> Network:
        verdict = self.networks.classify(org=known.get("org", ""), asn=known.get("asn"), address=address)
        known["hosting"] = verdict.hosting or known.get("hosting", False)
        known["anonymiser"] = verdict.anonymiser or known.get("anonymiser", False)
        return Network(provider=verdict.provider, **known)


# -- geoip2fast's bundled data -------------------------------------------------------------------

_bundled: Any = None  # the GeoIP2Fast instance: its data lives in module globals, so one per process
_bundled_lock = threading.Lock()


def bundled_database() -> Any:
    """geoip2fast's ASN + IPv6 data, loaded at the first call of the process (thread-safe)."""
    global _bundled
    if _bundled is not None:
        return _bundled
    with _bundled_lock:
        if _bundled is None:
            import geoip2fast  # about 30 ms; the data file itself takes about 0.2 s

            path = Path(geoip2fast.__file__).parent / BUNDLED_FILE
            try:
                _bundled = geoip2fast.GeoIP2Fast(verbose=False, geoip2fast_data_file=str(path))
            except Exception as exc:  # GeoIPError, OSError, pickle errors: an installation problem
                raise GeoError(f"{path}: geoip2fast's data cannot be loaded: {exc}") from None
    return _bundled


class BundledResolver(CachedResolver):
    """Country and AS organisation from the data geoip2fast ships (no AS number, no city)."""

    def load(self) -> None:
        """Load the data now rather than at the first lookup; ``GeoError`` if it cannot be."""
        bundled_database()

    def _resolve(self, address: IPAddress) -> Network | None:
        result = bundled_database().lookup(str(address))
        code = result.country_code
        country = code if len(code) == 2 and code.isalpha() else ""  # "--": not found, "": error
        org, cidr = result.asn_name, result.asn_cidr
        # geoip2fast 1.2 does not check that an IPv4 address lies within the AS prefix it found
        # (about one public address in six gets its neighbour's name): check it here.
        if not cidr or org == "<unknown>" or not _contains(cidr, address):
            org, cidr = "", ""
        return self._network(address, country=country, org=org, cidr=cidr)


def _contains(cidr: str, address: IPAddress) -> bool:
    network = _network_of(cidr)
    return network is not None and network.version == address.version and address in network


@functools.lru_cache(maxsize=CACHE_SIZE)
def _network_of(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """A prefix parsed once: many addresses of one stream share their AS prefix."""
    try:
        return ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return None


# -- MaxMind databases ---------------------------------------------------------------------------


class MaxMindResolver(CachedResolver):
    """GeoLite2/GeoIP2 Country or City, and ASN (or ISP), from ``.mmdb`` files; either may be absent."""

    def __init__(
        self,
        *,
        country: Path | None = None,
        asn: Path | None = None,
        networks: Networks = NO_NETWORKS,
        cache_size: int = CACHE_SIZE,
    ) -> None:
        if country is None and asn is None:
            raise GeoError("MaxMind: give a Country or City database, an ASN database, or both")
        super().__init__(networks, cache_size=cache_size)
        self._country = open_mmdb(country, expect="country") if country is not None else None
        self._asn = open_mmdb(asn, expect="asn") if asn is not None else None

    def _resolve(self, address: IPAddress) -> Network | None:
        known: dict[str, Any] = {}
        try:
            if self._country is not None:
                record, _ = self._country.get_with_prefix_len(address)
                if isinstance(record, dict):
                    known.update(_place(record))
            if self._asn is not None:
                record, prefix = self._asn.get_with_prefix_len(address)
                if isinstance(record, dict):
                    known.update(_asn(record, address, prefix))
        except (maxminddb.InvalidDatabaseError, ValueError, TypeError):
            return None  # a damaged file: no answer rather than a broken stream
        return self._network(address, **known)


def open_mmdb(path: Path, *, expect: str) -> Any:
    """A MaxMind reader; ``GeoError`` naming the file when it is missing, damaged or of the wrong kind."""
    try:
        reader = maxminddb.open_database(str(path))
    except FileNotFoundError:
        raise GeoError(f"{path}: no such MaxMind database") from None
    except (OSError, ValueError, maxminddb.InvalidDatabaseError) as exc:
        raise GeoError(f"{path}: not a readable MaxMind database: {exc}") from None
    kind = str(reader.metadata().database_type)
    lowered = kind.lower()
    if expect == "country" and ("asn" in lowered or "isp" in lowered):
        reader.close()
        raise GeoError(f"{path}: a {kind} database where a Country or City database is expected")
    if expect == "asn" and ("country" in lowered or "city" in lowered):
        reader.close()
        raise GeoError(f"{path}: a {kind} database where an ASN database is expected")
    return reader


def _dig(record: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(record, dict):
            return None
        record = record.get(key)
    return record


def _place(record: dict[str, Any]) -> dict[str, Any]:
    code = _dig(record, "country", "iso_code") or _dig(record, "registered_country", "iso_code")
    out: dict[str, Any] = {"country": code if isinstance(code, str) else ""}
    traits = record.get("traits") if isinstance(record.get("traits"), dict) else {}
    out["hosting"] = bool(traits.get("is_hosting_provider"))
    out["anonymiser"] = any(
        traits.get(key)
        for key in ("is_anonymous_proxy", "is_anonymous", "is_anonymous_vpn", "is_tor_exit_node")
    )
    city = _dig(record, "city", "names", "en")
    if not isinstance(city, str) or not city:
        return out
    out["city"] = city
    lat, lon = _dig(record, "location", "latitude"), _dig(record, "location", "longitude")
    radius = _dig(record, "location", "accuracy_radius")
    vague = isinstance(radius, int | float) and radius > MAX_RADIUS_KM
    if isinstance(lat, int | float) and isinstance(lon, int | float) and not vague:
        out["lat"], out["lon"] = float(lat), float(lon)
    return out


def _asn(record: dict[str, Any], address: IPAddress, prefix: int) -> dict[str, Any]:
    number, org = record.get("autonomous_system_number"), record.get("autonomous_system_organization")
    out: dict[str, Any] = {}
    if isinstance(number, int) and not isinstance(number, bool) and number > 0:
        out["asn"] = number
    if isinstance(org, str):
        out["org"] = org
    if prefix:
        out["cidr"] = str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
    return out


def resolver(
    *, country_mmdb: Path | None = None, asn_mmdb: Path | None = None, networks: Networks = NO_NETWORKS
) -> CachedResolver:
    """MaxMind when a database path is given, else the data geoip2fast ships."""
    if country_mmdb is not None or asn_mmdb is not None:
        return MaxMindResolver(country=country_mmdb, asn=asn_mmdb, networks=networks)
    return BundledResolver(networks)


# -- enrichment ----------------------------------------------------------------------------------


def enrich(events: Iterable[Event], geo: GeoResolver) -> None:
    """Country, coordinates and network of each event's ``src_ip``, where the vendor gave none.

    The vendor's own ``country``, ``city`` and coordinates are kept as they are. The network fields
    (``network``, ``asn``, ``is_hosting``) are set from the lookup; an anonymiser network sets
    ``is_proxy``. Private addresses and text that is not an address change nothing.
    """
    for event in events:
        if not event.src_ip:
            continue
        network = geo.lookup(event.src_ip)
        if network is None or network.private:
            continue
        if not event.country and network.country:
            event.country = network.country
        if event.lat is None and event.lon is None and network.lat is not None:
            event.lat, event.lon = network.lat, network.lon
            if not event.city:
                event.city = network.city
        event.network = network.org
        event.asn = network.asn
        event.is_hosting = network.hosting
        if network.anonymiser:
            event.is_proxy = True
