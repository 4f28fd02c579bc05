//! The checkpoint parser: any note is verified or refused without a panic, and a checkpoint
//! signed with the server's key verifies as itself.
#![no_main]

use ed25519_dalek::SigningKey;
use libfuzzer_sys::fuzz_target;
use trail_core::checkpoint::Checkpoint;

fuzz_target!(|data: &[u8]| {
    let key = SigningKey::from_bytes(&[7; 32]);
    let public = key.verifying_key();
    if let Ok(note) = std::str::from_utf8(data) {
        let _ = Checkpoint::parse_body(note);
        // A note that verifies (a seed signed with the key) holds a checkpoint whose own body
        // reads back as it.
        if let Ok(cp) = Checkpoint::verify(note, "trail/fuzz", &public) {
            assert_eq!(Checkpoint::parse_body(&cp.body()).as_ref(), Ok(&cp), "{note:?}");
        }
    }
    // Sign-then-verify: size and root from the first 40 bytes, the origin (one line) after.
    if data.len() >= 40 {
        let size = u64::from_le_bytes(data[..8].try_into().unwrap());
        let root: [u8; 32] = data[8..40].try_into().unwrap();
        let Ok(origin) = std::str::from_utf8(&data[40..]) else { return };
        if origin.is_empty() || origin.contains('\n') {
            return;
        }
        let cp = Checkpoint { origin: origin.to_owned(), size, root };
        let note = cp.sign("trail/fuzz", &key);
        assert_eq!(Checkpoint::verify(&note, "trail/fuzz", &public).as_ref(), Ok(&cp), "{note:?}");
        assert_eq!(Checkpoint::parse_body(&cp.body()).as_ref(), Ok(&cp));
        let other = SigningKey::from_bytes(&[8; 32]).verifying_key();
        assert!(Checkpoint::verify(&note, "trail/fuzz", &other).is_err());
    }
});
