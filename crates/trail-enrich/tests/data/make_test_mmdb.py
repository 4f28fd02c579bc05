"""Writes the small GeoIP test databases in tests/data/. See README.md here.

Run from this directory:
    python3 -m venv /tmp/mmdbenv && /tmp/mmdbenv/bin/pip install mmdb-writer==0.2.7
    /tmp/mmdbenv/bin/python make_test_mmdb.py

Every record is made up, in the documentation ranges (192.0.2.0/24, 198.51.100.0/24,
203.0.113.0/24, 2001:db8::/32) plus the private 10.0.0.0/8, so no real network is described.
"""

from mmdb_writer import MMDBWriter as _MMDBWriter, MmdbF32
from netaddr import IPSet

# A fixed build time (2025-12-01T00:00:00Z) so that running this again gives the same bytes.
BUILD_EPOCH = 1764547200


class MMDBWriter(_MMDBWriter):
    def _build_meta(self):
        return {**super()._build_meta(), "build_epoch": BUILD_EPOCH}


def dbip_city(country_code, state1="", city="", state2="", postcode="", timezone="", lat=None, lon=None, **extra):
    """A record as ip-location-db's `ip-location-to-mmdb -t city` writes it: every field a
    string, empty when unknown; latitude/longitude float32 and only when known."""
    record = {
        "city": city,
        "postcode": postcode,
        "timezone": timezone,
        "country_code": country_code,
        "state1": state1,
        "state2": state2,
    }
    if lat is not None and lon is not None:
        record["latitude"] = MmdbF32(lat)
        record["longitude"] = MmdbF32(lon)
    record.update(extra)
    return record


def write(path, writer, rows):
    for network, record in rows:
        writer.insert_network(IPSet([network]), record)
    writer.to_db_file(path)
    print("wrote", path)


# ip-location-db ships one file per IP version; its tool sets database_type "<kind> ipv<N>".
write(
    "dbip-city-ipv4.mmdb",
    MMDBWriter(ip_version=4, database_type="city ipv4", description={}),
    [
        # DB-IP lists reserved ranges with country ZZ and nothing else.
        ("10.0.0.0/8", dbip_city("ZZ")),
        ("192.0.2.0/25", dbip_city("ZZ")),
        # A record that knows only the country.
        ("192.0.2.128/25", dbip_city("FR", timezone="Europe/Paris")),
        (
            "198.51.100.0/25",
            dbip_city("DE", "Berlin", "Berlin", postcode="10117", timezone="Europe/Berlin", lat=52.52, lon=13.405),
        ),
        # Non-ASCII names, and a `country_name` as some flat files carry.
        (
            "198.51.100.128/25",
            dbip_city("BR", "São Paulo", "São Paulo", timezone="America/Sao_Paulo", country_name="Brazil"),
        ),
        (
            "203.0.113.0/24",
            dbip_city("IN", "Karnataka", "Bengaluru", "Bangalore Urban", "560001", "Asia/Kolkata", 12.9716, 77.5946),
        ),
    ],
)

write(
    "dbip-city-ipv6.mmdb",
    MMDBWriter(ip_version=6, database_type="city ipv6", description={}),
    [
        ("2001:db8:1::/48", dbip_city("JP", "Tokyo", "Tokyo", timezone="Asia/Tokyo", lat=35.6895, lon=139.6917)),
        ("2001:db8:2::/48", dbip_city("US", "California", "San Francisco", "San Francisco County", "94103")),
        ("2001:db8:3::/48", dbip_city("NZ")),
        ("2001:db8:ff::/48", dbip_city("ZZ")),
    ],
)

write(
    "dbip-country-ipv4.mmdb",
    MMDBWriter(ip_version=4, database_type="country ipv4", description={}),
    [
        ("198.51.100.0/24", {"country_code": "DE"}),
        ("203.0.113.0/24", {"country_code": "IN"}),
    ],
)

# MaxMind layout, for what the shared MaxMind test files lack: a record with only a
# `registered_country` (MaxMind's anonymous-proxy and satellite records look so).
write(
    "geoip2-registered-only.mmdb",
    MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoIP2-City", languages=["en", "de"],
               description={"en": "Trail test data", "de": "Trail-Testdaten"}),
    [
        (
            "203.0.113.0/24",
            {
                "continent": {"code": "AS", "names": {"en": "Asia", "de": "Asien"}},
                "registered_country": {"geoname_id": 1269750, "iso_code": "IN", "names": {"en": "India", "de": "Indien"}},
                "traits": {"is_anonymous_proxy": True},
            },
        ),
    ],
)
