//! Where the tests find the repository and the TinyHelen data, and what a
//! test does when its data is missing. Shared by both test crates: core's
//! tests/common/mod.rs and cli's (which includes this file by path), so the
//! rules live in one place.

use std::path::{Path, PathBuf};

/// The repository root (both crates sit one folder below it).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The TinyHelen folder: `$TINYHELEN_DIR`, else `../shared/data/tinyhelen`
/// beside the repository (as `tinyeval` resolves it).
pub fn tinyhelen_dir() -> PathBuf {
    std::env::var_os("TINYHELEN_DIR").map(PathBuf::from).unwrap_or_else(|| repo_root().join("../shared/data/tinyhelen"))
}

/// Whether this run is CI's (`$CI` set, as `.ci/run` is run, other than
/// empty, `0` or `false`): there every test's data must be present.
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim().to_ascii_lowercase().as_str(), "" | "0" | "false"))
}

/// Whether `path`, which `what` names, is present. When it is absent the test
/// fails under CI (a missing-data test must not pass there silently);
/// elsewhere it prints why it is skipped and the caller returns.
#[track_caller] // a CI failure points at the test, not here
pub fn require(path: &Path, what: &str) -> bool {
    if path.exists() {
        return true;
    }
    let why = format!(
        "needs {what}, absent at {} (the TinyHelen folder is $TINYHELEN_DIR, else ../shared/data/tinyhelen beside the repository)",
        path.display()
    );
    if under_ci() {
        panic!("{why}; CI (CI is set) runs every test, so the data must be there");
    }
    eprintln!("skipped: {why}");
    false
}
