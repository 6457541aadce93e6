//! The blind baseline: a classifier that never sees the model, trained on the
//! words of the texts alone. When it separates members from non-members about
//! as well as the detection methods do, the set itself is biased (members and
//! non-members differ in topic, date or style) and the methods' AUROC says
//! little about the model (Duan et al. 2024; Das et al. 2024 on WikiMIA).
//!
//! - Features: bag of words as scikit-learn's `CountVectorizer()` makes them:
//!   the text lowercased, words matching `(?u)\b\w\w+\b`, one count per word
//!   of the training fold's vocabulary (words seen only in the held-out fold
//!   are dropped).
//! - Classifier: L2-regularised logistic regression, `C` = 1, unpenalised
//!   intercept, as `LogisticRegression(C=1)`. The objective is strictly
//!   convex, so the model is unique; it is found by Newton's method with
//!   conjugate-gradient steps (sparse Hessian-vector products) until the
//!   gradient is below 1e-12, which reaches the minimiser to round-off where
//!   L-BFGS's relative-decrease stop leaves ~1e-6 in the probabilities (the
//!   goldens use scikit-learn's exact `newton-cholesky` solver for the same reason).
//! - Folds: stratified `k`-fold (default 5). Each class's items are shuffled
//!   by a seeded Fisher–Yates with SplitMix64 (`j = next() % (i + 1)` for `i`
//!   from n−1 down to 1; members first, then non-members, one generator), and
//!   the `j`-th item of the shuffled order goes to fold `j % k`.
//!   `scripts/make_detection_goldens.py` implements the same rule.
//! - Score: each item's out-of-fold probability of being a member; AUROC and
//!   ROC over all items as for the methods.

use std::collections::HashMap;

use regex::Regex;

use crate::error::{Error, Result};
use crate::lbfgs::dot;
use crate::probe::{log1pexp, sigmoid};

/// Folds of the cross-validation, by default.
pub const DEFAULT_FOLDS: usize = 5;

/// A text's words as `CountVectorizer()` finds them: lowercased, `(?u)\b\w\w+\b`.
pub fn words(text: &str) -> Vec<String> {
    thread_local! {
        static WORD: Regex = Regex::new(r"\b\w\w+\b").expect("a valid pattern");
    }
    let lower = text.to_lowercase();
    WORD.with(|re| re.find_iter(&lower).map(|m| m.as_str().to_string()).collect())
}

/// SplitMix64 (Steele, Lea and Flood 2014): the generator of the folds.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Each item's fold (see the module's documentation).
pub fn stratified_folds(labels: &[bool], folds: usize, seed: u64) -> Vec<usize> {
    let mut rng = SplitMix64(seed);
    let mut fold = vec![0; labels.len()];
    for class in [true, false] {
        let mut idx: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
        for i in (1..idx.len()).rev() {
            let j = (rng.next() % (i as u64 + 1)) as usize;
            idx.swap(i, j);
        }
        for (j, &i) in idx.iter().enumerate() {
            fold[i] = j % folds;
        }
    }
    fold
}

/// Sparse rows: `(feature, count)` pairs.
type SparseRow = Vec<(usize, f64)>;

/// The logistic objective over sparse rows, divided by n (the same minimiser
/// as scikit-learn's `C·Σ loss + ½‖w‖²`), and its gradient; `params` = weights, then the intercept.
fn objective(x: &[SparseRow], y: &[bool], c: f64, params: &[f64], grad: &mut [f64]) -> f64 {
    let d = params.len() - 1;
    let (w, b) = (&params[..d], params[d]);
    grad.iter_mut().for_each(|g| *g = 0.0);
    let mut loss = 0.0;
    for (row, &yi) in x.iter().zip(y) {
        let z = b + row.iter().map(|&(j, v)| w[j] * v).sum::<f64>();
        loss += log1pexp(z) - if yi { z } else { 0.0 };
        let residual = sigmoid(z) - f64::from(u8::from(yi));
        for &(j, v) in row {
            grad[j] += residual * v;
        }
        grad[d] += residual;
    }
    let n = x.len() as f64;
    let penalty = 1.0 / (c * n);
    grad.iter_mut().for_each(|g| *g /= n);
    let mut norm = 0.0;
    for (g, wv) in grad[..d].iter_mut().zip(w) {
        *g += penalty * wv;
        norm += wv * wv;
    }
    loss / n + 0.5 * penalty * norm
}

/// `H·v` of the objective at `params` (weights, then intercept): `Xᵀ D X v / n + v_w / (C n)`,
/// `D` = p(1 − p) per row.
fn hessian_times(x: &[SparseRow], weight: &[f64], c: f64, v: &[f64], out: &mut [f64]) {
    let d = v.len() - 1;
    out.iter_mut().for_each(|o| *o = 0.0);
    for (row, &w) in x.iter().zip(weight) {
        let xv = v[d] + row.iter().map(|&(j, val)| v[j] * val).sum::<f64>();
        let s = w * xv;
        for &(j, val) in row {
            out[j] += s * val;
        }
        out[d] += s;
    }
    let n = x.len() as f64;
    out.iter_mut().for_each(|o| *o /= n);
    for (o, vj) in out[..d].iter_mut().zip(v) {
        *o += vj / (c * n);
    }
}

/// Newton–CG from zero on the logistic objective, until the largest gradient
/// component is below 1e-12 (or 100 Newton steps).
fn fit(x: &[SparseRow], y: &[bool], dim: usize, c: f64) -> Vec<f64> {
    let mut params = vec![0.0; dim + 1];
    let mut grad = vec![0.0; dim + 1];
    let mut f = objective(x, y, c, &params, &mut grad);
    let (mut hp, mut trial, mut trial_grad) = (vec![0.0; dim + 1], vec![0.0; dim + 1], vec![0.0; dim + 1]);
    for _ in 0..100 {
        if grad.iter().all(|g| g.abs() < 1e-12) {
            break;
        }
        let weight: Vec<f64> = x
            .iter()
            .map(|row| {
                let p = sigmoid(params[dim] + row.iter().map(|&(j, v)| params[j] * v).sum::<f64>());
                p * (1.0 - p)
            })
            .collect();
        // Conjugate gradient on H·step = −grad.
        let mut step = vec![0.0; dim + 1];
        let mut r: Vec<f64> = grad.iter().map(|g| -g).collect();
        let mut dir = r.clone();
        let mut rr = dot(&r, &r);
        let stop = rr * 1e-20;
        for _ in 0..(2 * (dim + 1)).min(1000) {
            hessian_times(x, &weight, c, &dir, &mut hp);
            let alpha = rr / dot(&dir, &hp);
            step.iter_mut().zip(&dir).for_each(|(s, d)| *s += alpha * d);
            r.iter_mut().zip(&hp).for_each(|(ri, h)| *ri -= alpha * h);
            let rr_new = dot(&r, &r);
            if rr_new <= stop {
                break;
            }
            dir.iter_mut().zip(&r).for_each(|(d, ri)| *d = ri + rr_new / rr * *d);
            rr = rr_new;
        }
        // Backtracking (Armijo) on the Newton step.
        let slope = dot(&grad, &step);
        let mut t = 1.0;
        loop {
            trial.iter_mut().zip(&params).zip(&step).for_each(|((tr, p), s)| *tr = p + t * s);
            let f_new = objective(x, y, c, &trial, &mut trial_grad);
            if f_new <= f + 1e-4 * t * slope || t < 1e-10 {
                std::mem::swap(&mut params, &mut trial);
                std::mem::swap(&mut grad, &mut trial_grad);
                f = f_new;
                break;
            }
            t *= 0.5;
        }
        if t < 1e-10 {
            break;
        }
    }
    params
}

/// The baseline's out-of-fold scores.
#[derive(Debug, Clone, PartialEq)]
pub struct BlindBaseline {
    /// Each item's out-of-fold probability of being a member.
    pub scores: Vec<f64>,
    pub folds: usize,
    pub seed: u64,
}

/// Cross-validated bag-of-words logistic regression (see the module's documentation).
/// With fewer than `folds` items of a class, as many folds as that class has items (at least 2).
pub fn blind_baseline(texts: &[&str], labels: &[bool], folds: usize, seed: u64) -> Result<BlindBaseline> {
    let members = labels.iter().filter(|&&l| l).count();
    let smaller = members.min(labels.len() - members);
    if smaller < 2 {
        return Err(Error::Input(format!(
            "the blind baseline needs at least 2 members and 2 non-members ({members} of {} are members)",
            labels.len()
        )));
    }
    if folds < 2 {
        return Err(Error::Input(format!("the blind baseline needs at least 2 folds (got {folds})")));
    }
    let folds = folds.min(smaller);
    let fold = stratified_folds(labels, folds, seed);
    let tokens: Vec<Vec<String>> = texts.iter().map(|t| words(t)).collect();
    let mut scores = vec![f64::NAN; texts.len()];
    for f in 0..folds {
        let train: Vec<usize> = (0..texts.len()).filter(|&i| fold[i] != f).collect();
        let mut vocabulary: HashMap<&str, usize> = HashMap::new();
        for &i in &train {
            for w in &tokens[i] {
                let next = vocabulary.len();
                vocabulary.entry(w.as_str()).or_insert(next);
            }
        }
        let row = |i: usize| -> SparseRow {
            let mut counts: HashMap<usize, f64> = HashMap::new();
            for w in &tokens[i] {
                if let Some(&j) = vocabulary.get(w.as_str()) {
                    *counts.entry(j).or_insert(0.0) += 1.0;
                }
            }
            let mut row: SparseRow = counts.into_iter().collect();
            row.sort_by_key(|&(j, _)| j);
            row
        };
        let x: Vec<SparseRow> = train.iter().map(|&i| row(i)).collect();
        let y: Vec<bool> = train.iter().map(|&i| labels[i]).collect();
        let d = vocabulary.len();
        let params = fit(&x, &y, d, 1.0);
        for i in (0..texts.len()).filter(|&i| fold[i] == f) {
            let z = params[d] + row(i).iter().map(|&(j, v)| params[j] * v).sum::<f64>();
            scores[i] = sigmoid(z);
        }
    }
    Ok(BlindBaseline { scores, folds, seed })
}
