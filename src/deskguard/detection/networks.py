"""Hosting and anonymiser networks: ``content/networks/networks.yml``, loaded and matched.

A provider is matched by the organisation name of its autonomous system (case-insensitive
substrings in ``org``, whole names in ``org_exact``), by AS number (``asn``, known only from a
MaxMind ASN database) or by explicit ``cidr`` ranges. ``trusted`` ranges are never marked, whatever
the lists say: a tenant's own egress in a cloud, its secure web gateway, its virtual desktops. The
format is documented at the top of the shipped file and in ``docs/formats/networks.md``.

The lists are a heuristic: they name who operates a network, not who uses an address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
CATEGORIES = ("hosting", "anonymiser")
_ENTRY_KEYS = frozenset({"provider", "org", "org_exact", "asn", "cidr", "note"})
_MAX_ASN = 2**32 - 1
_MAX_ORGS = 100_000  # organisation names whose matches are remembered


class NetworksError(ValueError):
    """The networks file is wrong; the message names the file and the field."""


@dataclass(frozen=True, slots=True)
class Provider:
    """One provider of a category: what its networks are recognised by."""

    name: str
    category: str  # hosting | anonymiser
    org: tuple[str, ...] = ()  # lower-cased substrings of the AS organisation name
    org_exact: frozenset[str] = frozenset()  # lower-cased whole names
    asn: frozenset[int] = frozenset()
    cidr: tuple[IPNetwork, ...] = ()


@dataclass(frozen=True, slots=True)
class Verdict:
    hosting: bool = False
    anonymiser: bool = False
    provider: str = ""  # the first provider that matched, anonymisers first


NOTHING = Verdict()


class Networks:
    """The providers of both categories, and the trusted ranges that no list can mark.

    Matching by AS number and by whole name is a dict lookup; the substrings are tried once per
    distinct organisation name (answers kept); ranges are tried only for providers that have some.
    """

    def __init__(self, providers: tuple[Provider, ...] = (), trusted: tuple[IPNetwork, ...] = ()) -> None:
        self.providers = providers
        self.trusted = trusted
        self._by_asn: dict[int, list[Provider]] = {}
        self._by_name: dict[str, list[Provider]] = {}
        for provider in providers:
            for number in provider.asn:
                self._by_asn.setdefault(number, []).append(provider)
            for name in provider.org_exact:
                self._by_name.setdefault(name, []).append(provider)
        self._by_part = [p for p in providers if p.org]
        self._by_range = [p for p in providers if p.cidr]
        self._orgs: dict[str, tuple[Provider, ...]] = {}

    def classify(self, *, org: str = "", asn: int | None = None, address: IPAddress | None = None) -> Verdict:
        if address is not None and self.trusted and _within(address, self.trusted):
            return NOTHING
        found: list[Provider] = []
        if asn is not None:
            found.extend(self._by_asn.get(asn, ()))
        if org:
            found.extend(self._by_org(org.lower()))
        if address is not None:
            found.extend(p for p in self._by_range if _within(address, p.cidr))
        if not found:
            return NOTHING
        anonymiser = [p for p in found if p.category == "anonymiser"]
        return Verdict(
            hosting=any(p.category == "hosting" for p in found),
            anonymiser=bool(anonymiser),
            provider=(anonymiser or found)[0].name,
        )

    def names(self, category: str) -> list[str]:
        return [p.name for p in self.providers if p.category == category]

    def _by_org(self, org: str) -> tuple[Provider, ...]:
        known = self._orgs.get(org)
        if known is None:
            exact = self._by_name.get(org, [])
            known = (*exact, *(p for p in self._by_part if p not in exact and any(s in org for s in p.org)))
            if len(self._orgs) >= _MAX_ORGS:
                self._orgs.clear()
            self._orgs[org] = known
        return known


NO_NETWORKS = Networks()


def _within(address: IPAddress, ranges: Iterable[IPNetwork]) -> bool:
    return any(address.version == net.version and address in net for net in ranges)


# -- loading -------------------------------------------------------------------------------------


def load_networks(path: Path) -> Networks:
    """The networks file at ``path``; ``NetworksError`` names the file and the field when it is wrong."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise NetworksError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise NetworksError(f"{path}{where}: not valid YAML: {exc}") from None
    return parse_networks(document, where=str(path))


def parse_networks(document: Any, *, where: str = "networks") -> Networks:
    if not isinstance(document, dict):
        raise NetworksError(f"{where}: expected a mapping with hosting:, anonymiser: and trusted:")
    unknown = sorted(set(map(str, document)) - {"version", *CATEGORIES, "trusted"})
    if unknown:
        raise NetworksError(
            f"{where}: unknown key(s) {', '.join(unknown)} (expected version, hosting, anonymiser, trusted)"
        )
    version = document.get("version", 1)
    if version != 1:
        raise NetworksError(f"{where}: version: expected 1, got {version!r}")
    providers: list[Provider] = []
    for category in CATEGORIES:
        entries = document.get(category) or []
        if not isinstance(entries, list):
            raise NetworksError(f"{where}: {category}: expected a list of providers")
        for index, entry in enumerate(entries):
            providers.append(_provider(entry, category, f"{where}: {category}[{index}]"))
    trusted = document.get("trusted") or []
    if not isinstance(trusted, list):
        raise NetworksError(f"{where}: trusted: expected a list of CIDR ranges")
    return Networks(tuple(providers), _cidrs(trusted, f"{where}: trusted"))


def _provider(entry: Any, category: str, where: str) -> Provider:
    if not isinstance(entry, dict):
        raise NetworksError(f"{where}: expected a mapping with provider: and org:, org_exact:, asn: or cidr:")
    name = entry.get("provider")
    if not isinstance(name, str) or not name.strip():
        raise NetworksError(f"{where}.provider: expected the provider's name (a non-empty string)")
    where = f"{where} ({name})"
    unknown = sorted(set(map(str, entry)) - _ENTRY_KEYS)
    if unknown:
        raise NetworksError(
            f"{where}: unknown key(s) {', '.join(unknown)} (expected {', '.join(sorted(_ENTRY_KEYS))})"
        )
    org = _strings(entry.get("org"), f"{where}.org")
    exact = _strings(entry.get("org_exact"), f"{where}.org_exact")
    asn = _asns(entry.get("asn"), f"{where}.asn")
    cidr = _cidrs(entry.get("cidr") or [], f"{where}.cidr")
    if not (org or exact or asn or cidr):
        raise NetworksError(f"{where}: matches nothing: give org, org_exact, asn or cidr")
    return Provider(name.strip(), category, tuple(org), frozenset(exact), frozenset(asn), cidr)


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise NetworksError(f"{where}: expected a list, got {type(value).__name__}")
    return value


def _strings(value: Any, where: str) -> list[str]:
    out = []
    for index, item in enumerate(_list(value, where)):
        if not isinstance(item, str) or not item.strip():
            raise NetworksError(f"{where}[{index}]: expected a non-empty string, got {item!r}")
        out.append(item.strip().lower())
    return out


def _asns(value: Any, where: str) -> list[int]:
    out = []
    for index, item in enumerate(_list(value, where)):
        if isinstance(item, bool) or not isinstance(item, int) or not 0 < item <= _MAX_ASN:
            raise NetworksError(f"{where}[{index}]: expected an AS number (1 to {_MAX_ASN}), got {item!r}")
        out.append(item)
    return out


def _cidrs(value: Any, where: str) -> tuple[IPNetwork, ...]:
    out = []
    for index, item in enumerate(_list(value, where)):
        if not isinstance(item, str):
            raise NetworksError(f"{where}[{index}]: expected a CIDR range as a string, got {item!r}")
        try:
            out.append(ipaddress.ip_network(item.strip(), strict=True))
        except ValueError as exc:
            raise NetworksError(f"{where}[{index}]: {item!r} is not a CIDR range: {exc}") from None
    return tuple(out)
