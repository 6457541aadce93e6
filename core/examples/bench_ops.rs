// TEMPORARY (bench investigation; not to be committed).
use std::time::Instant;
use burn::tensor::{Distribution, Tensor};
use tinyeval_core::{Device, LanguageModel};

fn sync<const D: usize>(t: Tensor<D>) { let _ = t.into_data(); }

fn time<F: FnMut()>(name: &str, flops: f64, reps: usize, mut f: F) {
    f();
    let t = Instant::now();
    for _ in 0..reps { f(); }
    let s = t.elapsed().as_secs_f64() / reps as f64;
    println!("{name:50} {:8.2} ms  {:7.1} GFLOP/s", s * 1e3, flops / s / 1e9);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    #[allow(deprecated)]
    let dev = if args.get(2).map(|s| s.as_str()) == Some("ndarray") {
        #[cfg(feature = "ndarray")] { Device::ndarray() }
        #[cfg(not(feature = "ndarray"))] { panic!() }
    } else { Device::flex() };
    let n = 2040;
    for (m, k, nn, label) in [(n, 576, 576, "q/o proj"), (n, 576, 192, "k/v proj"), (n, 576, 1536, "gate/up"), (n, 1536, 576, "down"), (85, 576, 49152, "lm head chunk (85 rows)"), (2040, 576, 49152, "lm head (all rows)")] {
        let a = Tensor::<2>::random([m, k], Distribution::Default, &dev);
        let b = Tensor::<2>::random([k, nn], Distribution::Default, &dev);
        let bt = Tensor::<2>::random([nn, k], Distribution::Default, &dev);
        let fl = 2.0 * (m * k * nn) as f64;
        let reps = if nn > 10000 { 2 } else { 5 };
        time(&format!("{label} [{m},{k}]x[{k},{nn}]"), fl, reps, || sync(a.clone().matmul(b.clone())));
        time(&format!("{label} [{m},{k}]x[{nn},{k}]^T view"), fl, reps, || sync(a.clone().matmul(bt.clone().transpose())));
    }
    // attention-like batched matmul: [8,9,255,64] x [8,9,64,255]
    let q = Tensor::<4>::random([8, 9, 255, 64], Distribution::Default, &dev);
    let kk = Tensor::<4>::random([8, 9, 255, 64], Distribution::Default, &dev);
    time("scores [8,9,255,64]x[..,64,255] (swap view)", 2.0 * 72.0 * 255.0 * 255.0 * 64.0, 5, || sync(q.clone().matmul(kk.clone().swap_dims(2, 3))));
    let x = Tensor::<3>::random([8, 255, 1536], Distribution::Default, &dev);
    time("silu [8,255,1536]", 0.0, 5, || sync(burn::tensor::activation::silu(x.clone())));
    time("mul [8,255,1536]", 0.0, 5, || sync(x.clone() * x.clone()));
    let s = Tensor::<4>::random([8, 9, 255, 255], Distribution::Default, &dev);
    time("softmax [8,9,255,255]", 0.0, 5, || sync(burn::tensor::activation::softmax(s.clone(), 3)));
    let lg = Tensor::<2>::random([85, 49152], Distribution::Default, &dev);
    time("exp [85,49152]", 0.0, 5, || sync(lg.clone().exp()));
    time("max_dim [85,49152]", 0.0, 5, || sync(lg.clone().max_dim(1)));
    time("argmax [85,49152]", 0.0, 5, || { let _ = lg.clone().argmax(1).into_data(); });
    time("sum_dim [85,49152]", 0.0, 5, || sync(lg.clone().sum_dim(1)));

    {
        use burn::tensor::{Int, TensorData};
        let lg = Tensor::<2>::random([85, 49152], Distribution::Default, &dev);
        let tg = Tensor::<2, Int>::from_data(TensorData::new((0..85i64).collect::<Vec<_>>(), [85, 1]), &dev);
        let sum = |x: Tensor<2>| x.reshape([85, 192, 256]).sum_dim(2).sum_dim(1).reshape([85, 1]);
        time("argmax", 0.0, 5, || { let _ = lg.clone().argmax(1).into_data(); });
        time("max_dim", 0.0, 5, || sync(lg.clone().max_dim(1)));
        let max = lg.clone().max_dim(1);
        time("logits - max [85,1]", 0.0, 5, || sync(lg.clone() - max.clone()));
        let sh = lg.clone() - max.clone();
        time("exp", 0.0, 5, || sync(sh.clone().exp()));
        let e = sh.clone().exp();
        time("sum 2-level", 0.0, 5, || sync(sum(e.clone())));
        time("sum_dim flat", 0.0, 5, || sync(e.clone().sum_dim(1)));
        let ls = sum(e.clone()).log();
        time("sh - logsum", 0.0, 5, || sync(sh.clone() - ls.clone()));
        let logp = sh.clone() - ls.clone();
        time("gather", 0.0, 5, || sync(logp.clone().gather(1, tg.clone())));
        time("p*logp", 0.0, 5, || sync(e.clone() * logp.clone()));
        time("square", 0.0, 5, || sync(logp.clone().square()));
        time("equal+float", 0.0, 5, || sync(lg.clone().argmax(1).equal(tg.clone()).float()));
        time("full token_statistics", 0.0, 5, || {
            let logits = lg.clone(); let targets = tg.clone();
            let argmax = logits.clone().argmax(1);
            let max = logits.clone().max_dim(1);
            let shifted = logits - max;
            let logp = shifted.clone() - sum(shifted.exp()).log();
            let target_logp = logp.clone().gather(1, targets.clone());
            let p = logp.clone().exp();
            let mean = sum(p.clone() * logp.clone());
            let variance = sum(p * (logp - mean.clone()).square());
            let greedy = argmax.equal(targets).float();
            sync(Tensor::cat(vec![target_logp, mean, variance, greedy], 1))
        });
        let h = Tensor::<2>::random([2040, 576], Distribution::Default, &dev);
        let idx = Tensor::<1, Int>::from_data(TensorData::new((0..85i64).collect::<Vec<_>>(), [85]), &dev);
        time("select 85 rows of [2040,576]", 0.0, 5, || sync(h.clone().select(0, idx.clone())));
    }
    {
        use burn::tensor::{Bool, TensorData, module::attention, ops::AttentionModuleOptions};
        let q = Tensor::<4>::random([8, 9, 255, 64], Distribution::Default, &dev);
        let k = Tensor::<4>::random([8, 3, 255, 64], Distribution::Default, &dev);
        let v = Tensor::<4>::random([8, 3, 255, 64], Distribution::Default, &dev);
        let mut mdata = Vec::new();
        let mut bdata = Vec::new();
        for i in 0..255 { for j in 0..255 { mdata.push(if j <= i { 0.0f32 } else { -1e30 }); bdata.push(j > i); } }
        let addmask = Tensor::<2>::from_data(TensorData::new(mdata, [255, 255]), &dev).unsqueeze::<4>();
        let boolmask = Tensor::<2, Bool>::from_data(TensorData::new(bdata, [255, 255]), &dev).unsqueeze::<4>();
        let rep = |t: Tensor<4>| t.unsqueeze_dim::<5>(2).expand([8, 3, 3, 255, 64]).reshape([8, 9, 255, 64]);
        let manual = || {
            let (k, v) = (rep(k.clone()), rep(v.clone()));
            let scores = q.clone().matmul(k.swap_dims(2, 3)) * 0.125;
            let w = burn::tensor::activation::softmax(scores + addmask.clone(), 3);
            w.matmul(v)
        };
        let fused = || attention(q.clone(), k.clone(), v.clone(), Some(boolmask.clone()), None,
            AttentionModuleOptions { scale: Some(0.125), softcap: None, is_causal: false });
        let diff = (manual() - fused()).abs().max().into_scalar::<f32>();
        println!("attention manual vs fused max |diff| = {diff:e}");
        time("attention manual (repeat_kv, matmul, mask, softmax, matmul)", 0.0, 5, || sync(manual()));
        time("attention fused (module::attention, GQA, bool mask)", 0.0, 5, || sync(fused()));
        let causal = || attention(q.clone(), k.clone(), v.clone(), None, None,
            AttentionModuleOptions { scale: Some(0.125), softcap: None, is_causal: true });
        time("attention fused (is_causal)", 0.0, 5, || sync(causal()));
        let x = Tensor::<3>::random([8, 255, 576], Distribution::Default, &dev);
        let w = Tensor::<1>::random([576], Distribution::Default, &dev);
        time("rmsnorm [8,255,576]", 0.0, 5, || {
            let variance = x.clone().square().mean_dim(2);
            sync(x.clone() * (variance + 1e-5).sqrt().recip() * w.clone().unsqueeze::<3>())
        });
        let qs = Tensor::<3>::random([8, 255, 576], Distribution::Default, &dev);
        time("split heads + swap + contiguous-ish [8,255,9,64]", 0.0, 5, || sync(qs.clone().reshape([8, 255, 9, 64]).swap_dims(1, 2) * 1.0));
    }
    if let Some(path) = args.get(1) {
        let model = LanguageModel::load_path(std::path::Path::new(path), &dev).unwrap();
        let vocab = model.config.vocab_size;
        let tokens: Vec<Vec<u32>> = (0..8).map(|b| (0..255).map(|i| ((b * 7919 + i * 104729) % vocab) as u32).collect()).collect();
        time("hidden_states [8,255]", 0.0, 2, || sync(model.decoder.hidden_states(&tokens, None)));
        let h = model.decoder.hidden_states(&tokens, None).reshape([2040, model.config.hidden_size]);
        let chunk = (1usize << 22) / vocab;
        time(&format!("logits only, chunks of {chunk}"), 0.0, 2, || {
            for s in (0..2040).step_by(chunk) { sync(model.decoder.logits(h.clone().slice([s..(s + chunk).min(2040)]))); }
        });
        let reqs: Vec<_> = tokens.iter().map(|t| tinyeval_core::scoring::ScoreRequest { context: t[..1].to_vec(), continuation: [&t[1..], &[0u32][..]].concat() }).collect();
        time("score_batch", 0.0, 2, || { pollster::block_on(tinyeval_core::scoring::score_batch(&model.decoder, &reqs)).unwrap(); });
    }
}
