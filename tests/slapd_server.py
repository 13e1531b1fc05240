"""A real, private OpenLDAP for tests: slapd with the ppolicy overlay, on a free loopback port.

``running_slapd(folder)`` writes a slapd.conf in ``folder``, seeds it offline with slapadd (two
people, two groups, a lockout password policy), runs ``slapd -d 0`` in the foreground and stops it
on exit (``docs/connectors/ldap.md``; the recipe is ``../shared/reference/test-infra.md``). Without
slapd the caller is skipped, unless CI=true (``.ci/run`` installs slapd and ldap-utils): then it fails.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from ldap3 import BASE, Connection, Server

SUFFIX = "dc=example,dc=org"
ADMIN_DN, ADMIN_PW = f"cn=admin,{SUFFIX}", "adminpw"
PEOPLE, GROUPS = f"ou=people,{SUFFIX}", f"ou=groups,{SUFFIX}"
ALICE_DN, BOB_DN = f"uid=alice,{PEOPLE}", f"uid=bob,{PEOPLE}"
ALICE_PW, BOB_PW = "alice-initial-pw", "bob-initial-pw"
SCHEMAS = ("core", "cosine", "nis", "inetorgperson")

SEED = f"""\
dn: {SUFFIX}
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: {PEOPLE}
objectClass: organizationalUnit
ou: people

dn: {GROUPS}
objectClass: organizationalUnit
ou: groups

dn: ou=policies,{SUFFIX}
objectClass: organizationalUnit
ou: policies

dn: cn=default,ou=policies,{SUFFIX}
objectClass: pwdPolicy
objectClass: device
cn: default
pwdAttribute: userPassword
pwdLockout: TRUE
pwdMaxFailure: 3
pwdMustChange: TRUE

dn: {ALICE_DN}
objectClass: inetOrgPerson
uid: alice
cn: Alice Martin
sn: Martin
displayName: Alice Martin
mail: alice@example.org
telephoneNumber: +33140000001
mobile: +33612345678
manager: {BOB_DN}
userPassword: {ALICE_PW}

dn: {BOB_DN}
objectClass: inetOrgPerson
uid: bob
cn: Bob Durand
sn: Durand
mail: bob@example.org
telephoneNumber: +33140000002
userPassword: {BOB_PW}

dn: cn=admins,{GROUPS}
objectClass: groupOfNames
cn: admins
member: {BOB_DN}

dn: cn=dba,{GROUPS}
objectClass: groupOfNames
cn: dba
member: {BOB_DN}
"""


def _tool(name: str) -> str | None:
    return shutil.which(name) or next(
        (str(p) for p in (Path("/usr/sbin") / name, Path("/usr/bin") / name) if p.exists()), None
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Slapd:
    url: str
    folder: Path


@contextmanager
def running_slapd(folder: Path) -> Iterator[Slapd]:
    slapd_bin, slapadd_bin, slappasswd_bin = _tool("slapd"), _tool("slapadd"), _tool("slappasswd")
    if not (slapd_bin and slapadd_bin and slappasswd_bin):
        if os.environ.get("CI") == "true":
            pytest.fail("slapd is not installed, and CI must run the LDAP tests (.ci/run installs it)")
        pytest.skip("slapd not installed (apt-get install slapd ldap-utils)")
    (folder / "db").mkdir(parents=True)
    rootpw = subprocess.run(
        [slappasswd_bin, "-s", ADMIN_PW], check=True, capture_output=True, text=True
    ).stdout.strip()
    includes = "\n".join(f"include /etc/ldap/schema/{s}.schema" for s in SCHEMAS)
    (folder / "slapd.conf").write_text(
        f"""{includes}
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload ppolicy
pidfile {folder}/slapd.pid
database mdb
suffix "{SUFFIX}"
rootdn "{ADMIN_DN}"
rootpw {rootpw}
directory {folder}/db
maxsize 104857600
overlay ppolicy
ppolicy_default "cn=default,ou=policies,{SUFFIX}"
ppolicy_hash_cleartext
ppolicy_use_lockout
access to attrs=userPassword by self write by anonymous auth by * none
access to * by self write by users read by anonymous auth
"""
    )
    (folder / "seed.ldif").write_text(SEED)
    conf = str(folder / "slapd.conf")
    subprocess.run(
        [slapadd_bin, "-f", conf, "-l", str(folder / "seed.ldif")], check=True, capture_output=True
    )
    url = f"ldap://127.0.0.1:{free_port()}"
    process = subprocess.Popen(
        [slapd_bin, "-f", conf, "-h", url, "-d", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                conn = Connection(Server(url, connect_timeout=1), auto_bind=True)
                conn.search("", "(objectClass=*)", BASE, attributes=["supportedExtension"])
                conn.unbind()
                break
            except Exception:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    output = process.communicate(timeout=10)[0].decode()
                    pytest.fail(f"slapd did not start: {output[-2000:]}")
                time.sleep(0.1)
        yield Slapd(url=url, folder=folder)
    finally:
        process.kill()
        process.wait(timeout=10)
