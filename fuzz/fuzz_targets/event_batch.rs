//! The event parser: any body (`parse_batch`, both formats) is answered without a panic, and
//! every event it accepts is readable back: its stored form (canonical JSON, and the record
//! around it) reads back by the fast reader, by serde_json and by the activity reader, as the
//! event that was stored.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trail_core::{
    canonical,
    event::{Activity, BodyFormat, EventBody, Fields, Limits, parse_batch},
};

fuzz_target!(|data: &[u8]| {
    let Some((&first, body)) = data.split_first() else { return };
    let format = if first & 1 == 1 { BodyFormat::Ndjson } else { BodyFormat::Json };
    let now: jiff::Timestamp = "2026-11-22T12:00:00Z".parse().unwrap();
    let Ok(events) = parse_batch(body, format, now, Limits::default()) else { return };
    for event in events {
        // Digests are computed at ingest for every event.
        event.request_digest();
        reads_back(&event.into_body(now));
    }
});

/// The event with its metadata left out (metadata's numbers take their JSON canonical form
/// when stored: `1.0` reads back as `1`, so they are compared through that form).
fn without_metadata(e: &EventBody) -> EventBody {
    EventBody { metadata: None, ..e.clone() }
}

fn reads_back(stored: &EventBody) {
    let (canon, layout) = canonical::write(stored);
    let text = std::str::from_utf8(&canon).expect("the canonical form is UTF-8");
    let back = Fields::All.parse(text).unwrap_or_else(|e| panic!("an accepted event does not read back: {e}\n{text}"));
    assert_eq!(without_metadata(&back), without_metadata(stored), "{text}");
    assert_eq!(canonical::write(&back).0, canon, "the event read back has another canonical form");
    let by_serde: EventBody = serde_json::from_str(text).unwrap_or_else(|e| panic!("serde_json declines: {e}\n{text}"));
    assert_eq!(by_serde, back, "{text}");
    let activity = Activity::read(text).unwrap_or_else(|| panic!("the activity reader declines\n{text}"));
    assert_eq!(activity, Activity::of(stored), "{text}");
    Fields::Activity.parse(text).expect("the activity fields read back");
    let record = trail_store::record::encode(&[7; 16], &layout, &canon);
    let from_record = trail_store::record::body(&record).expect("the record reads back");
    assert_eq!(from_record, back);
    assert_eq!(trail_store::record::activity(&record).expect("the record decodes"), Some(activity));
    trail_store::record::leaf_hash(&record, b"t", 1).expect("the leaf hashes");
}
