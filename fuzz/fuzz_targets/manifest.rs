//! A membership manifest (`{"task", "split", "idx", "member"}` per line).
#![no_main]
use libfuzzer_sys::fuzz_target;
use tinyeval_core::contamination::MembershipManifest;

fuzz_target!(|data: &[u8]| {
    let _ = MembershipManifest::parse("membership.jsonl", data);
});
