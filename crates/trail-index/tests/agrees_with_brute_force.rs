//! The index agrees with a brute-force scan: for random events and random filters, the
//! candidates it yields, checked against the filter, are exactly the matching events, in the
//! exact order pages show them, whatever the segments, merges, cursors and snapshots.

use std::time::Duration;

use rand::{Rng, SeedableRng, rngs::StdRng, seq::IndexedRandom};
use trail_core::{
    event::{EventBody, NewEvent},
    filter::{ActionPattern, Filter, TargetRef, parse_ip_filter},
    redaction::Redaction,
    search::SearchQuery,
    time::TimeBounds,
};
use trail_index::{Bounds, IndexConfig, Plan, TermIndex, doc, search::count_into};

fn random_event(rng: &mut StdRng, ordered_at: i64, backdate: f64) -> EventBody {
    let actions = [
        "document.signed",
        "document.rejected",
        "auth.login.failed",
        "auth.login.succeeded",
        "panel.request",
        "api.request",
        "doc.x",
        // Changed by a reader's redaction: phones masked, link detail withheld.
        "sms.sent",
        "link.viewed",
    ];
    let words =
        ["nda", "contract", "signed", "invoice", "report", "q3", "lease", "draft", "final", "ndas", "Ünïcödé", "ΔΟΚ"];
    let desc: Vec<&str> = (0..rng.random_range(0..6)).map(|_| *words.choose(rng).unwrap()).collect();
    // In time order, but for the share `backdate` of events sent late.
    let at = if !rng.random_bool(backdate) { ordered_at } else { ordered_at - rng.random_range(0..5_000_000_000) };
    let mut e = serde_json::json!({
        "action": actions.choose(rng).unwrap(),
        "occurred_at": jiff::Timestamp::from_microsecond(at).unwrap().to_string(),
        "outcome": if rng.random_bool(0.2) { "failure" } else { "success" },
        "description": desc.join(" "),
    });
    if rng.random_bool(0.5) {
        e["id"] = format!("id-{ordered_at}").into();
    }
    if rng.random_bool(0.2) {
        let phone = *["+447700900123", "+44 7700 900123", "447700900124"].choose(rng).unwrap();
        e["metadata"] = serde_json::json!({"phone": phone});
        let texts = ["SMS to +447700900123 failed", "to 447700900124 0123", "tel447700900123 sent", "nda"];
        e["description"] = texts.choose(rng).unwrap().to_string().into();
    }
    if rng.random_bool(0.8) {
        let n = rng.random_range(0..6);
        e["actor"] = serde_json::json!({"id": format!("u{n}"), "email": format!("user{n}@x.example"), "name": format!("User {}", words[n])});
    }
    if rng.random_bool(0.5) {
        let kind = *["document", "file"].choose(rng).unwrap();
        e["targets"] = serde_json::json!([{"type": kind, "id": format!("d{}", rng.random_range(0..5))}]);
    }
    if rng.random_bool(0.7) {
        let country = *["GB", "IN", "US"].choose(rng).unwrap();
        let ip = if rng.random_bool(0.8) {
            format!("10.{}.{}.{}", rng.random_range(0..3), rng.random_range(0..3), rng.random_range(0..4))
        } else {
            format!("2001:db8:{:x}::{:x}", rng.random_range(0..3), rng.random_range(0..4))
        };
        e["context"] = serde_json::json!({"ip": ip, "session_id": format!("s{}", rng.random_range(0..8)), "location": {"country": country}});
    }
    let now = jiff::Timestamp::from_microsecond(at).unwrap();
    NewEvent::from_json(&e.to_string(), now).unwrap().into_body(now)
}

fn random_filter(rng: &mut StdRng, t0: i64, span: i64) -> Filter {
    let mut f = Filter::default();
    if rng.random_bool(0.3) {
        let a = t0 + rng.random_range(-span / 4..span);
        let b = a + rng.random_range(1..span);
        f.time = TimeBounds {
            from: Some(jiff::Timestamp::from_microsecond(a).unwrap()),
            to: Some(jiff::Timestamp::from_microsecond(b).unwrap()),
        };
    }
    if rng.random_bool(0.25) {
        f.actors = vec![format!("u{}", rng.random_range(0..6))];
        if rng.random_bool(0.3) {
            f.actors.push(format!("user{}@x.example", rng.random_range(0..6)));
        }
    }
    if rng.random_bool(0.25) {
        f.actions = vec![
            ActionPattern::parse(
                ["document.*", "auth.login.failed", "panel.request", "auth.*", "a*", "doc*"].choose(rng).unwrap(),
            )
            .unwrap(),
        ];
    }
    if rng.random_bool(0.15) {
        use trail_core::event::Outcome::{Failure, Success};
        // One outcome, repeated or not, or both.
        f.outcomes = [vec![Failure], vec![Failure, Failure], vec![Success, Success], vec![Success, Failure]]
            .choose(rng)
            .unwrap()
            .clone();
    }
    if rng.random_bool(0.2) {
        let net = [
            "10.1.0.0/16",
            "10.0.2.3",
            "10.2.1.0/24",
            "10.0.0.0/6",
            "10.1.0.0/20",
            "2001:db8:1::/48",
            "2001:db8::/30",
            "0.0.0.0/0",
        ];
        f.ips = vec![parse_ip_filter(net.choose(rng).unwrap()).unwrap()];
    }
    if rng.random_bool(0.15) {
        f.countries = vec![["GB", "IN", "US"].choose(rng).unwrap().to_string()];
    }
    if rng.random_bool(0.15) {
        f.sessions = vec![format!("s{}", rng.random_range(0..8))];
    }
    if rng.random_bool(0.15) {
        f.targets = vec![TargetRef::parse(["d1", "document:d2", "file:d0"].choose(rng).unwrap()).unwrap()];
    }
    if rng.random_bool(0.4) {
        let q = [
            "nda",
            "-draft",
            "\"nda contract\"",
            "signed -final",
            "user nda",
            "category:auth",
            "-country:gb",
            "report q3",
            "-action:panel.* lease",
            "ndas",
            "ünïcödé",
            "-\"nda contract\"",
            "ip:10.1.0.0/20",
            "-ip:10.1.0.0/16",
            "-ip:10.1.0.0/20",
            "outcome:failure",
            "-session:s1",
            "target:d2",
            "-actor:u1",
            "δοκ",
            "447700900123",
            "0123",
            "tel",
            "-447700900124",
            "withheld",
            "user2@x.example",
            "actor:user1@x.example",
            "-user",
        ];
        let text: Vec<&str> = (0..rng.random_range(1..=2)).map(|_| *q.choose(rng).unwrap()).collect();
        f.q = Some(SearchQuery::parse(&text.join(" ")).unwrap());
    }
    // The reader's redaction: the index's plan must still select every event whose redacted
    // copy matches.
    f.redaction = Redaction { mask_phones: rng.random_bool(0.3), hide_link_detail: rng.random_bool(0.3) };
    f
}

fn bounds_of(f: &Filter, before: Option<(i64, u64)>, snapshot: u64) -> Bounds {
    Bounds {
        from: f.time.from.map(|t| t.as_microsecond()),
        to: f.time.to.map(|t| t.as_microsecond()),
        before,
        snapshot,
    }
}

fn check(index: &TermIndex, events: &[EventBody], rng: &mut StdRng, t0: i64, span: i64, rounds: usize) {
    let n = events.len() as u64;
    for round in 0..rounds {
        let f = random_filter(rng, t0, span);
        let snapshot = if rng.random_bool(0.3) { rng.random_range(0..=n) } else { n };
        let mut expected: Vec<(i64, u64)> = events
            .iter()
            .enumerate()
            .map(|(i, e)| (e, i as u64 + 1))
            .filter(|(e, seq)| *seq <= snapshot && f.matches(e))
            .map(|(e, seq)| (e.occurred_at.as_microsecond(), seq))
            .collect();
        expected.sort_unstable_by(|a, b| b.cmp(a));
        let before = if rng.random_bool(0.3) && !expected.is_empty() {
            let k = rng.random_range(0..expected.len());
            let b = expected[k];
            expected.drain(..=k);
            Some(b)
        } else {
            None
        };
        let plan = Plan::of(&f);
        let candidates: Vec<(i64, u64)> = index.search(1, &plan, bounds_of(&f, before, snapshot)).collect();
        assert!(candidates.windows(2).all(|w| w[0] > w[1]), "round {round}: candidates must be strictly newest first");
        let got: Vec<(i64, u64)> =
            candidates.iter().copied().filter(|&(_, seq)| f.matches(&events[seq as usize - 1])).collect();
        assert_eq!(got, expected, "round {round}: {f:?} before {before:?} snapshot {snapshot}");
    }
}

/// Events arrive in time order; segments, merges and the buffer are all time-sorted.
#[test]
fn in_time_order() {
    scenario(IndexConfig { flush_docs: 37, merge_factor: 3, max_segment_docs: 2000 }, |_| 0.0, 7);
}

/// Some batches carry backdated events: some segments are sorted, others not; matches in
/// unsorted segments are both sorted directly and found by walking the segment's time order.
#[test]
fn with_bursts_of_backdated_events() {
    trail_index::search::set_sort_at_most(5);
    scenario(
        IndexConfig { flush_docs: 37, merge_factor: 3, max_segment_docs: 2000 },
        |r| if r.random_bool(0.1) { 0.4 } else { 0.0 },
        8,
    );
}

/// A large buffer: most answers come from memory.
#[test]
fn mostly_in_the_buffer() {
    scenario(
        IndexConfig { flush_docs: 1200, merge_factor: 2, max_segment_docs: 5000 },
        |r| if r.random_bool(0.5) { 0.2 } else { 0.0 },
        9,
    );
}

fn scenario(config: IndexConfig, backdate: impl Fn(&mut StdRng) -> f64, seed: u64) {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = StdRng::seed_from_u64(seed);
    let t0 = 1_700_000_000_000_000i64;
    let step = 1_000_000;
    let mut events = Vec::new();
    let index = TermIndex::open(dir.path(), config).unwrap();
    let total = 3000;
    let mut seq = 1;
    while events.len() < total {
        let rate = backdate(&mut rng);
        let batch: Vec<EventBody> = (0..rng.random_range(1..120))
            .map(|i| random_event(&mut rng, t0 + (events.len() + i) as i64 * step, rate))
            .collect();
        let docs: Vec<(i64, trail_index::Doc)> =
            batch.iter().map(|e| (e.occurred_at.as_microsecond(), doc(e))).collect();
        index.add(1, seq, &docs).unwrap();
        seq += batch.len() as u64;
        events.extend(batch);
        if rng.random_bool(0.1) {
            check(&index, &events, &mut rng, t0, total as i64 * step, 20);
        }
    }
    check(&index, &events, &mut rng, t0, total as i64 * step, 400);
    // Re-adding what is indexed is a no-op; a gap is refused.
    assert!(index.add(1, 5, &[(0, doc(&events[4]))]).is_ok());
    assert!(index.add(1, seq + 1, &[(0, doc(&events[0]))]).is_err());

    // Counting per interval: never fewer than the matches, and exact for exact plans.
    for _ in 0..100 {
        let f = random_filter(&mut rng, t0, total as i64 * step);
        let plan = Plan::of(&f);
        let edges: Vec<i64> =
            (0..=10).map(|i| t0 - 5_000_000_000 + i * (total as i64 * step + 5_000_000_000) / 10).collect();
        let mut counts = vec![0u64; 10];
        index.count(1, &plan, &edges, &mut counts);
        let mut f_all = f.clone();
        f_all.time = TimeBounds::default();
        let mut brute = vec![0u64; 10];
        let mut superset = vec![0u64; 10];
        for e in &events {
            let t = e.occurred_at.as_microsecond();
            let i = edges.partition_point(|&b| b <= t);
            if (1..edges.len()).contains(&i) {
                if f_all.matches(e) {
                    brute[i - 1] += 1;
                }
                superset[i - 1] += 1;
            }
        }
        assert!(counts.iter().zip(&brute).all(|(c, b)| c >= b), "{counts:?} < {brute:?} for {f:?}");
        assert!(counts.iter().zip(&superset).all(|(c, s)| c <= s));
        if plan.exact {
            assert_eq!(counts, brute, "{f:?}");
        }
    }

    // Segments reach the disk and a reopened index carries on from what they cover.
    std::thread::sleep(Duration::from_millis(300));
    let (segments, buffered) = index.shape(1);
    assert!((1..40).contains(&segments), "{segments} segments");
    assert!(buffered < config.flush_docs);
    drop(index);
    let reopened = TermIndex::open(dir.path(), config).unwrap();
    let covered = reopened.covered(1);
    assert!(covered >= 2000 && covered <= events.len() as u64, "covered {covered}");
    let rest: Vec<(i64, trail_index::Doc)> =
        events[covered as usize..].iter().map(|e| (e.occurred_at.as_microsecond(), doc(e))).collect();
    reopened.add(1, covered + 1, &rest).unwrap();
    check(&reopened, &events, &mut rng, t0, total as i64 * step, 200);
    check_keys(&reopened, &events);
}

/// Every client id is found under its key, with its seq, and absent ids find nothing.
fn check_keys(index: &TermIndex, events: &[EventBody]) {
    for (i, e) in events.iter().enumerate() {
        if let Some(id) = &e.id {
            assert_eq!(index.seqs_with_key(1, trail_index::terms::id_key(id)), [i as u64 + 1], "{id}");
        }
    }
    for n in 0..500 {
        assert!(index.seqs_with_key(1, trail_index::terms::id_key(&format!("never-sent-{n}"))).is_empty());
    }
    let _ = count_into;
}

#[test]
fn a_damaged_segment_is_dropped_and_its_seqs_are_indexed_again() {
    let dir = tempfile::tempdir().unwrap();
    let config = IndexConfig { flush_docs: 10, merge_factor: 100, max_segment_docs: 1000 };
    let mut rng = StdRng::seed_from_u64(9);
    let events: Vec<EventBody> =
        (0..55).map(|i| random_event(&mut rng, 1_700_000_000_000_000 + i * 1000, 0.0)).collect();
    let docs: Vec<(i64, trail_index::Doc)> = events.iter().map(|e| (e.occurred_at.as_microsecond(), doc(e))).collect();
    {
        let index = TermIndex::open(dir.path(), config).unwrap();
        index.add(1, 1, &docs).unwrap();
        std::thread::sleep(Duration::from_millis(200));
    }
    let mut files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "seg"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 5);
    // Truncate the third segment: seqs 21.. must be indexed again.
    let f = std::fs::OpenOptions::new().write(true).open(&files[2]).unwrap();
    f.set_len(100).unwrap();
    let index = TermIndex::open(dir.path(), config).unwrap();
    assert_eq!(index.covered(1), 20);
    index.add(1, 21, &docs[20..]).unwrap();
    let all: Vec<u64> = index
        .search(1, &Plan::default(), Bounds { from: None, to: None, before: None, snapshot: 55 })
        .map(|(_, s)| s)
        .collect();
    assert_eq!(all.len(), 55);
}
