//! A membership manifest (`{"task", "split", "idx", "member", "count"?}` per
//! line) and a WikiMIA-style labelled set (`{"input", "label"}`) from the same bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tinyeval_core::membership::{MembershipManifest, parse_labelled_set};

fuzz_target!(|data: &[u8]| {
    let _ = MembershipManifest::parse("membership.jsonl", data);
    let _ = parse_labelled_set("set.jsonl", data);
});
