//! The engine against transformers: goldens written by `scripts/make_goldens.py`
//! (PyTorch + transformers) for every reference model, checked on the native CPU
//! backend, and on native wgpu when `TINYEVAL_TEST_WGPU=1` and an adapter exists.

mod common;

use common::{check_scores, read_goldens, repo_root};
use tinyeval_core::{Device, LanguageModel, ModelFiles};

fn check_all(device: &Device, label: &str) {
    let goldens = read_goldens(&repo_root().join("core/tests/fixtures/goldens"));
    assert!(goldens.len() >= 9, "expected the goldens of every reference model");
    for (name, golden) in goldens {
        let model = LanguageModel::load(ModelFiles::from_dir(&repo_root().join(&golden.model)).unwrap(), device)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let worst = check_scores(&name, &golden, &model);
        eprintln!("{name} ({label}): max abs difference {worst:.2e}");
    }
}

#[test]
fn every_reference_model_matches_transformers_on_cpu() {
    check_all(&Device::flex(), "cpu");
}

#[test]
fn every_reference_model_matches_transformers_on_wgpu() {
    if std::env::var("TINYEVAL_TEST_WGPU").as_deref() != Ok("1") {
        eprintln!("skipped: set TINYEVAL_TEST_WGPU=1 to run on native wgpu");
        return;
    }
    let device = Device::wgpu_options().init().expect("a wgpu adapter (apt-get install mesa-vulkan-drivers)");
    check_all(&device, "wgpu");
}
