//! Integration tests of trail-enrich against real data: the MaxMind test databases and the real
//! Apache access log in `shared/data/`, and the flat-layout databases in `tests/data/`.

mod geoip;
mod helpers;
mod useragent;
