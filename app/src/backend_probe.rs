//! Which backend is faster for a model, measured: the same short scoring pass
//! on WebGPU and on the CPU. For models this small a CPU often beats a GPU
//! (each op is a dispatch), and a software WebGPU adapter (SwiftShader, what a
//! machine without a usable GPU gets) is 20 times slower than the CPU path, so
//! the page measures instead of assuming.

use tinyeval_core::scorer::score_in_length_order;
use tinyeval_core::{LanguageModel, benchmark};

use crate::job::now_seconds;

/// Sequences and tokens of the probe: enough to time, little enough to take
/// well under a second on the CPU for the bundled models.
const PROBE_BATCH: usize = 2;
const PROBE_TOKENS: usize = 33;

/// Scored tokens per second of one probe pass on the model's own device, after
/// a first pass that compiles the device's kernels.
/// The pass goes through the model's scorer, so a pool of workers is timed
/// with one batch for each worker at once.
pub async fn tokens_per_second(model: &LanguageModel) -> Result<f64, String> {
    let seq = PROBE_TOKENS.min(model.config.max_positions + 1).max(2);
    let copies = model.scorer().parallelism().max(1);
    let requests = benchmark::requests(0, PROBE_BATCH * copies, seq, model.config.vocab_size);
    let pass = async || score_in_length_order(model.scorer(), &requests, PROBE_BATCH, |_, _| async { Ok(()) }).await.map_err(|e| e.to_string());
    pass().await?;
    let started = now_seconds();
    pass().await?;
    let elapsed = (now_seconds() - started).max(1e-6);
    Ok((PROBE_BATCH * copies * (seq - 1)) as f64 / elapsed)
}

/// `12,345`: a rate as the page shows it.
pub fn rate(tokens_per_s: f64) -> String {
    let digits = format!("{:.0}", tokens_per_s.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What the page says about the measurement, e.g.
/// "CPU: 9,800 tokens/s; WebGPU (SwiftShader): 110 tokens/s: using CPU".
pub fn verdict(cpu: f64, workers: usize, gpu: f64, adapter: &str) -> String {
    let using = if cpu >= gpu { "CPU" } else { "WebGPU" };
    let cpu_name = match workers {
        1 => "CPU, 1 worker".to_string(),
        n => format!("CPU, {n} workers"),
    };
    format!("measured on this model: {cpu_name}: {} tokens/s; WebGPU ({adapter}): {} tokens/s: using {using}", rate(cpu), rate(gpu))
}
