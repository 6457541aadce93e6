//! Where the CLI finds things when no option says: the repository (for the
//! bundled demo tasks) and the TinyHelen folder.

use std::path::{Path, PathBuf};

pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// `$var` if set, else `default`.
pub(crate) fn env_or(var: &str, default: PathBuf) -> PathBuf {
    std::env::var_os(var).map(PathBuf::from).unwrap_or(default)
}

/// The TinyHelen folder when no option names one: $TINYHELEN_DIR, else
/// ../shared/data/tinyhelen beside the repository. Shared by `run`'s
/// `{tinyhelen}` root, `leaner-eval`, `probe` and the membership checks.
pub(crate) fn default_tinyhelen_dir() -> PathBuf {
    env_or("TINYHELEN_DIR", repo_root().join("../shared/data/tinyhelen"))
}

/// The TinyHelen folder: the option, else [`default_tinyhelen_dir`].
pub(crate) fn tinyhelen_dir(option: Option<&Path>) -> PathBuf {
    option.map(Path::to_path_buf).unwrap_or_else(default_tinyhelen_dir)
}
