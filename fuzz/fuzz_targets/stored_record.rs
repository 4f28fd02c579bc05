//! The stored-record decoder: any bytes, as a record or as a record's canonical text, are
//! decoded or refused without a panic; and where both the fast reader and serde_json read the
//! text, they read the same event.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trail_core::{
    canonical::Personal,
    event::{Activity, EventBody, Fields},
};
use trail_store::record;

fuzz_target!(|data: &[u8]| {
    // As a whole record (header, layout, salts, canonical bytes).
    let _ = record::body(data);
    let _ = record::body_with(data, Fields::Activity);
    let _ = record::activity(data);
    let _ = record::leaf_hash(data, b"t", 1);
    let _ = record::leaf_data(data, "t", 1);
    let _ = record::erase(data, &Personal::ALL);
    let _ = record::scrubbed(data);
    // As canonical text.
    if let Ok(text) = std::str::from_utf8(data) {
        let fast = Fields::All.parse(text);
        let _ = Fields::Activity.parse(text);
        let _ = Activity::read(text);
        if let (Ok(fast), Ok(slow)) = (fast, serde_json::from_str::<EventBody>(text)) {
            assert_eq!(fast, slow, "{text}");
        }
    }
});
