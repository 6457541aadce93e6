//! Where the CPU scoring time goes: timings of the ops of a SmolLM2-135M-shaped
//! scoring batch (B=8 sequences of 255 input tokens, hidden 576, 9 query / 3
//! key-value heads of 64, FFN 1536, vocab 49152) on burn's flex backend, and,
//! given a model folder or .gguf, of `hidden_states`, the LM head and `score_batch`.
//!
//! ```sh
//! cargo run --release -p tinyeval-core --example bench_ops -- [MODEL]
//! # burn's ndarray backend instead of flex:
//! cargo run --release -p tinyeval-core --features ndarray --example bench_ops -- [MODEL] --ndarray
//! ```
//!
//! The `tinyeval` CLI keeps freed memory from going back to the system (glibc's
//! mallopt); this example does not, so run it with `MALLOC_MMAP_THRESHOLD_=33554432
//! MALLOC_TRIM_THRESHOLD_=1073741824` to time what the CLI sees.

use std::time::Instant;

use burn::tensor::module::attention;
use burn::tensor::ops::AttentionModuleOptions;
use burn::tensor::{Bool, Distribution, Int, Tensor, TensorData, activation};
use tinyeval_core::scoring::{ScoreRequest, score_batch};
use tinyeval_core::{Device, LanguageModel};

fn sync<const D: usize>(t: Tensor<D>) {
    let _ = t.into_data();
}

/// Prints the mean time of `reps` calls after one untimed call (and GFLOP/s if `flops` > 0).
fn time(name: &str, flops: f64, reps: usize, mut f: impl FnMut()) {
    f();
    let t = Instant::now();
    for _ in 0..reps {
        f();
    }
    let s = t.elapsed().as_secs_f64() / reps as f64;
    if flops > 0.0 {
        println!("{name:58} {:9.2} ms {:7.1} GFLOP/s", s * 1e3, flops / s / 1e9);
    } else {
        println!("{name:58} {:9.2} ms", s * 1e3);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let model_path = args.iter().find(|a| !a.starts_with("--"));
    let device = if args.iter().any(|a| a == "--ndarray") {
        #[cfg(feature = "ndarray")]
        #[allow(deprecated)]
        {
            Device::ndarray()
        }
        #[cfg(not(feature = "ndarray"))]
        panic!("--ndarray needs --features ndarray")
    } else {
        Device::flex()
    };
    let dev = &device;
    let rows = 8 * 255;

    println!("-- matmuls of one layer and of the LM head ([rows, in] x [in, out])");
    let shapes: [(usize, usize, usize, &str); 6] = [
        (rows, 576, 576, "q / o proj"),
        (rows, 576, 192, "k / v proj"),
        (rows, 576, 1536, "gate / up proj"),
        (rows, 1536, 576, "down proj"),
        (85, 576, 49152, "LM head, one chunk of 85 rows"),
        (rows, 576, 49152, "LM head, all rows"),
    ];
    for (m, k, n, label) in shapes {
        let a = Tensor::<2>::random([m, k], Distribution::Default, dev);
        let b = Tensor::<2>::random([k, n], Distribution::Default, dev);
        let bt = Tensor::<2>::random([n, k], Distribution::Default, dev);
        let flops = 2.0 * (m * k * n) as f64;
        let reps = if n > 10_000 { 2 } else { 5 };
        time(&format!("{label} [{m},{k}]x[{k},{n}]"), flops, reps, || sync(a.clone().matmul(b.clone())));
        time(&format!("{label}, weight [{n},{k}] transposed (a view)"), flops, reps, || {
            sync(a.clone().matmul(bt.clone().transpose()))
        });
    }

    println!("-- attention [8, 9 heads, 255, 64], 3 key/value heads, causal");
    let q = Tensor::<4>::random([8, 9, 255, 64], Distribution::Default, dev);
    let k = Tensor::<4>::random([8, 3, 255, 64], Distribution::Default, dev);
    let v = Tensor::<4>::random([8, 3, 255, 64], Distribution::Default, dev);
    let hidden: Vec<bool> = (0..255).flat_map(|i| (0..255).map(move |j| j > i)).collect();
    let additive: Vec<f32> = hidden.iter().map(|&h| if h { -1e30 } else { 0.0 }).collect();
    let additive = Tensor::<2>::from_data(TensorData::new(additive, [255, 255]), dev).unsqueeze::<4>();
    let bool_mask = Tensor::<2, Bool>::from_data(TensorData::new(hidden, [255, 255]), dev).unsqueeze::<4>();
    let repeat = |t: Tensor<4>| t.unsqueeze_dim::<5>(2).expand([8, 3, 3, 255, 64]).reshape([8, 9, 255, 64]);
    let separate = || {
        let scores = q.clone().matmul(repeat(k.clone()).swap_dims(2, 3)) * 0.125;
        activation::softmax(scores + additive.clone(), 3).matmul(repeat(v.clone()))
    };
    let options = AttentionModuleOptions {
        scale: Some(0.125),
        softcap: None,
        is_causal: false,
    };
    let fused = || attention(q.clone(), k.clone(), v.clone(), Some(bool_mask.clone()), None, options);
    let diff = (separate() - fused()).abs().max().into_scalar::<f32>();
    time("separate ops (repeat kv, matmul, mask, softmax, matmul)", 0.0, 5, || sync(separate()));
    time(&format!("burn's attention op (max |diff| {diff:.1e})"), 0.0, 5, || sync(fused()));

    println!("-- element-wise");
    let x = Tensor::<3>::random([8, 255, 1536], Distribution::Default, dev);
    time("silu [8,255,1536]", 0.0, 5, || sync(activation::silu(x.clone())));
    time("mul [8,255,1536]", 0.0, 5, || sync(x.clone() * x.clone()));
    let logits = Tensor::<2>::random([85, 49152], Distribution::Default, dev) * 10.0;
    time("exp [85,49152]", 0.0, 5, || sync(logits.clone().exp()));
    time("max_dim [85,49152]", 0.0, 5, || sync(logits.clone().max_dim(1)));
    time("argmax [85,49152]", 0.0, 5, || {
        let _ = logits.clone().argmax(1).into_data();
    });

    println!("-- token statistics of one LM-head chunk (as scoring.rs computes them)");
    let targets = Tensor::<2, Int>::from_data(TensorData::new((0..85i64).collect::<Vec<_>>(), [85, 1]), dev);
    time("log p(target), mean, variance, argmax [85,49152]", 0.0, 5, || {
        sync(tinyeval_core::scoring::token_statistics(logits.clone(), targets.clone()))
    });

    let Some(path) = model_path else { return };
    println!("-- {path}, B=8 x 255 input tokens");
    let model = LanguageModel::load_path(std::path::Path::new(path), dev).unwrap();
    let (vocab, h) = (model.config.vocab_size, model.config.hidden_size);
    let tokens: Vec<Vec<u32>> = (0..8)
        .map(|b| (0..256).map(|i| ((b * 7919 + i * 104_729) % vocab) as u32).collect())
        .collect();
    let inputs: Vec<Vec<u32>> = tokens.iter().map(|t| t[..255].to_vec()).collect();
    time("hidden_states", 0.0, 2, || sync(model.decoder.hidden_states(&inputs, None)));
    let states = model.decoder.hidden_states(&inputs, None).reshape([rows, h]);
    let chunk = ((1usize << 22) / vocab).max(1);
    time(&format!("LM head only, chunks of {chunk} rows"), 2.0 * (rows * h * vocab) as f64, 2, || {
        for s in (0..rows).step_by(chunk) {
            sync(model.decoder.logits(states.clone().slice([s..(s + chunk).min(rows)])));
        }
    });
    let requests: Vec<ScoreRequest> = tokens
        .iter()
        .map(|t| ScoreRequest {
            context: t[..1].to_vec(),
            continuation: t[1..].to_vec(),
        })
        .collect();
    time("score_batch (all of it)", 0.0, 2, || {
        pollster::block_on(score_batch(&model.decoder, &requests)).unwrap();
    });
}
