//! `leaner_glue_finetune`: Leaner-GLUE as TinyHelen measures it, by
//! fine-tuning the whole model on each task (the probe, `crate::probe`, is the
//! frozen-feature stand-in). burn's autodiff, natively and in the page.
//!
//! - The model: transformers' `LlamaForSequenceClassification` for any of
//!   tinyeval's decoders: a linear head without bias (`score`) on the final
//!   hidden state (after the final norm) of each text's last token. Texts are
//!   the probe's (fields joined by `"\n"`, `tokenizer(text)` with its BOS),
//!   cut to `max_length` tokens, right-padded within a batch (the model is
//!   causal, so padding cannot change the last real token's state).
//! - Loss: cross-entropy (mean over the batch) for classification; for STS-B
//!   one output and the mean squared error, as transformers does for `num_labels = 1`.
//! - The head starts as `N(0, head_init_std²)` drawn from [`SplitMix64`]
//!   seeded with the run's seed, row-major over torch's `[outputs, hidden]`
//!   (each value `sqrt(-2 ln u₁) cos(2π u₂)`, `u₁ = (a >> 11 + 1) / 2⁵³`,
//!   `u₂ = (b >> 11) / 2⁵³` of two draws `a`, `b`); then the same generator
//!   shuffles the training items once per epoch (Fisher–Yates from the last
//!   index down, `j = draw mod (i + 1)`). The PyTorch script implements the
//!   same generator, so both sides start from the same head and see the same
//!   batches in the same order.
//! - Optimisation (`adamw`): AdamW as `torch.optim.AdamW` with weight decay on
//!   every trained tensor, linear warm-up then linear decay
//!   (`get_linear_schedule_with_warmup`, `ceil(warmup_ratio · steps)` warm-up
//!   steps), gradient clipping on the total norm; the last batch of an epoch
//!   may be smaller. Everything in f32. The output (LM) head is not trained:
//!   it plays no part in classification, and torch skips parameters without gradients.
//! - Evaluation (`run`): predictions (argmax, or the value) on each evaluation
//!   split, GLUE's metrics with bootstrap stderr and 95% interval
//!   ([`crate::probe::evaluate_split`]). A grid of learning rates × seeds is
//!   trained; the configuration with the best first metric on `validation` is
//!   reported. Tasks without a train split (SST-2, QQP, QNLI, MNLI) train on
//!   `validation` as the probe does and report `test`; their grid is chosen on
//!   the training split's own score (there is no held-out split), which the
//!   results' `configs` say.

use burn::tensor::{Device, Int, Tensor, TensorData, activation};

use crate::error::{Error, Result};
use crate::model::{Decoder, ParamMut};

mod adamw;
mod run;

pub use adamw::{AdamW, AdamWConfig, clip_coefficient, linear_schedule};
pub use run::{
    FINETUNE_SUITE, FinetuneOptions, FinetuneProgress, FinetuneRun, FinetuneSplitResult, StepLog, TrainedConfig, finetune_results_json,
    run_finetune, run_name, train_and_evaluate,
};

/// SplitMix64 (Steele, Lea and Flood 2014): the seeded generator both tinyeval and the PyTorch script use.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A standard normal value (Box–Muller's cosine branch, two draws).
    pub fn normal(&mut self) -> f64 {
        let u1 = ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64;
        let u2 = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    /// A permutation of `0..n` (Fisher–Yates, from the last index down).
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
        order
    }
}

/// The head's initial weights, torch's `[outputs, hidden]` row-major.
pub fn initial_head(rng: &mut SplitMix64, outputs: usize, hidden: usize, std: f64) -> Vec<f32> {
    (0..outputs * hidden).map(|_| (rng.normal() * std) as f32).collect()
}

/// A decoder with a sequence-classification head.
#[derive(Debug, Clone)]
pub struct Classifier {
    pub decoder: Decoder,
    /// [hidden, outputs] (torch's `score.weight` transposed).
    pub head: Tensor<2>,
    pub outputs: usize,
    autodiff: bool,
}

impl Classifier {
    /// `head`: torch's `score.weight`, `[outputs, hidden]` row-major.
    pub fn new(decoder: Decoder, outputs: usize, head: &[f32]) -> Result<Self> {
        let hidden = decoder.config().hidden_size;
        if decoder.config().extras.norm_adds_one {
            // Weight decay would act on the stored `1 + weight`, not on torch's parameter.
            return Err(Error::Input("fine-tuning does not support Gemma-style norms (weights stored as 1 + w)".into()));
        }
        if head.len() != outputs * hidden {
            return Err(Error::Input(format!("a head of {} values for {outputs} × {hidden}", head.len())));
        }
        let transposed: Vec<f32> = (0..hidden * outputs).map(|i| head[(i % outputs) * hidden + i / outputs]).collect();
        let head = Tensor::<2>::from_data(TensorData::new(transposed, [hidden, outputs]), decoder.device());
        Ok(Self { decoder, head, outputs, autodiff: false })
    }

    /// Every trained tensor: the decoder's, then the head.
    pub fn params_mut(&mut self) -> Vec<ParamMut<'_>> {
        let mut out = self.decoder.params_mut(true);
        out.push(ParamMut::Matrix(&mut self.head));
        out
    }

    /// Trains (every parameter a fresh autodiff leaf that keeps its gradient) or evaluates (no autodiff).
    pub fn set_autodiff(&mut self, on: bool) {
        self.autodiff = on;
        self.decoder.set_autodiff(on);
        for p in self.params_mut() {
            match p {
                ParamMut::Vector(t) => *t = leaf(t.clone(), on),
                ParamMut::Matrix(t) => *t = leaf(t.clone(), on),
            }
        }
    }

    pub fn device(&self) -> &Device {
        self.decoder.device()
    }

    /// Head outputs of each token sequence (non-empty), [batch, outputs].
    pub fn forward(&self, tokens: &[Vec<u32>]) -> Tensor<2> {
        let longest = tokens.iter().map(Vec::len).max().unwrap_or(1);
        let padded: Vec<Vec<u32>> = tokens.iter().map(|t| t.iter().copied().chain(std::iter::repeat(0)).take(longest).collect()).collect();
        let states = self.decoder.hidden_states(&padded, None);
        let [batch, seq, hidden] = states.dims();
        let last: Vec<i64> = tokens.iter().enumerate().map(|(b, t)| (b * seq + t.len() - 1) as i64).collect();
        let last = Tensor::<1, Int>::from_data(TensorData::new(last, [batch]), self.device());
        states.reshape([batch * seq, hidden]).select(0, last).matmul(self.head.clone())
    }

    /// The batch's mean loss: cross-entropy against class labels, or the squared error (one output).
    pub fn loss(&self, outputs: Tensor<2>, labels: &[f64]) -> Tensor<1> {
        let batch = labels.len();
        if self.outputs == 1 {
            let y: Vec<f32> = labels.iter().map(|&l| l as f32).collect();
            let y = Tensor::<1>::from_data(TensorData::new(y, [batch]), self.device());
            return (outputs.reshape([batch]) - y).square().mean();
        }
        let mut onehot = vec![0.0f32; batch * self.outputs];
        for (b, &l) in labels.iter().enumerate() {
            onehot[b * self.outputs + l as usize] = 1.0;
        }
        let onehot = Tensor::<2>::from_data(TensorData::new(onehot, [batch, self.outputs]), self.device());
        (activation::log_softmax(outputs, 1) * onehot).sum().neg() / batch as f64
    }
}

fn leaf<const D: usize>(t: Tensor<D>, on: bool) -> Tensor<D> {
    let t = t.without_autodiff();
    if on { t.autodiff().require_grad() } else { t }
}

/// Reads a tensor's values (f32) to the host.
pub(crate) async fn host_values<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>> {
    let data = t.without_autodiff().into_data_async().await.map_err(|e| Error::Device(format!("{e:?}")))?;
    data.as_slice::<f32>().map(<[f32]>::to_vec).map_err(|e| Error::Device(format!("{e:?}")))
}
