//! The probe's models on standardised features: [`Scaler`] (scikit-learn's
//! `StandardScaler`), L2-regularised logistic regression by L-BFGS
//! ([`fit_logistic`]) and ridge regression by Cholesky ([`fit_ridge`]).

use serde::Serialize;

use crate::error::{Error, Result};
use crate::lbfgs::dot;

/// Per-feature standardisation fitted on the training features.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scaler {
    pub mean: Vec<f64>,
    pub scale: Vec<f64>,
}

impl Scaler {
    pub fn fit(x: &[Vec<f64>]) -> Self {
        let (n, d) = (x.len() as f64, x[0].len());
        let mean: Vec<f64> = (0..d).map(|j| x.iter().map(|r| r[j]).sum::<f64>() / n).collect();
        let scale = (0..d)
            .map(|j| {
                let var = x.iter().map(|r| (r[j] - mean[j]).powi(2)).sum::<f64>() / n;
                // StandardScaler leaves a (near-)constant feature unscaled.
                if var.sqrt() < 10.0 * f64::EPSILON * mean[j].abs().max(1.0) { 1.0 } else { var.sqrt() }
            })
            .collect();
        Self { mean, scale }
    }

    pub fn transform(&self, x: &[Vec<f64>]) -> Vec<Vec<f64>> {
        x.iter().map(|r| r.iter().zip(&self.mean).zip(&self.scale).map(|((v, m), s)| (v - m) / s).collect()).collect()
    }
}

/// A fitted linear model: `coef[k]` and `intercept[k]` per output (one output for
/// binary classification and regression, one per class otherwise).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinearModel {
    pub coef: Vec<Vec<f64>>,
    pub intercept: Vec<f64>,
    /// 0 for regression.
    pub num_classes: usize,
    /// L-BFGS iterations (0 for ridge).
    pub iterations: usize,
}

impl LinearModel {
    fn scores(&self, x: &[f64]) -> Vec<f64> {
        self.coef.iter().zip(&self.intercept).map(|(w, b)| dot(w, x) + b).collect()
    }

    /// Class probabilities (classification) or the predicted value (regression, one entry).
    pub fn predict_proba(&self, x: &[f64]) -> Vec<f64> {
        let z = self.scores(x);
        match self.num_classes {
            0 => z,
            2 => {
                let p = sigmoid(z[0]);
                vec![1.0 - p, p]
            }
            _ => softmax(&z),
        }
    }

    /// The most likely class (the first on ties, as NumPy's argmax), or the predicted value.
    pub fn predict(&self, x: &[f64]) -> f64 {
        let p = self.predict_proba(x);
        if self.num_classes == 0 {
            return p[0];
        }
        let mut best = 0;
        for (k, &v) in p.iter().enumerate() {
            if v > p[best] {
                best = k;
            }
        }
        best as f64
    }
}


pub(crate) fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 { 1.0 / (1.0 + (-z).exp()) } else { z.exp() / (1.0 + z.exp()) }
}

fn softmax(z: &[f64]) -> Vec<f64> {
    let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = z.iter().map(|v| (v - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}

/// `log(1 + exp(z))` without overflow.
pub(crate) fn log1pexp(z: f64) -> f64 {
    if z > 0.0 { z + (-z).exp().ln_1p() } else { z.exp().ln_1p() }
}

/// The logistic objective divided by n (same minimiser as scikit-learn's
/// `C·Σ loss + ½‖W‖²`): `(1/n)·Σ loss + ‖W‖² / (2·C·n)`, and its gradient.
/// Parameters: `outputs` blocks of `d` weights and then `outputs` intercepts.
fn logistic_objective(x: &[Vec<f64>], y: &[usize], classes: usize, c: f64, params: &[f64], grad: &mut [f64]) -> f64 {
    let (n, d) = (x.len(), x[0].len());
    let outputs = if classes == 2 { 1 } else { classes };
    let (w, b) = params.split_at(outputs * d);
    grad.iter_mut().for_each(|g| *g = 0.0);
    let mut loss = 0.0;
    let mut residual = vec![0.0; outputs];
    for (xi, &yi) in x.iter().zip(y) {
        let z: Vec<f64> = (0..outputs).map(|k| dot(&w[k * d..(k + 1) * d], xi) + b[k]).collect();
        if classes == 2 {
            // loss = log(1 + exp(z)) − y·z
            loss += log1pexp(z[0]) - if yi == 1 { z[0] } else { 0.0 };
            residual[0] = sigmoid(z[0]) - yi as f64;
        } else {
            let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let lse = m + z.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
            loss += lse - z[yi];
            for k in 0..outputs {
                residual[k] = (z[k] - lse).exp() - if k == yi { 1.0 } else { 0.0 };
            }
        }
        for k in 0..outputs {
            for (g, xv) in grad[k * d..(k + 1) * d].iter_mut().zip(xi) {
                *g += residual[k] * xv;
            }
            grad[outputs * d + k] += residual[k];
        }
    }
    let nf = n as f64;
    let penalty = 1.0 / (c * nf);
    grad.iter_mut().for_each(|g| *g /= nf);
    for (g, wv) in grad[..outputs * d].iter_mut().zip(w) {
        *g += penalty * wv;
    }
    loss / nf + 0.5 * penalty * dot(w, w)
}

/// L2-regularised logistic regression (see the module's documentation). `y`: class indices.
pub fn fit_logistic(x: &[Vec<f64>], y: &[usize], classes: usize, c: f64) -> Result<LinearModel> {
    if x.is_empty() || classes < 2 {
        return Err(Error::Input("logistic regression needs items and at least two classes".into()));
    }
    let d = x[0].len();
    let outputs = if classes == 2 { 1 } else { classes };
    let (params, iterations) =
        crate::lbfgs::lbfgs(outputs * (d + 1), 1e-10, 20_000, |p, g| logistic_objective(x, y, classes, c, p, g));
    let (w, b) = params.split_at(outputs * d);
    Ok(LinearModel { coef: w.chunks(d).map(<[f64]>::to_vec).collect(), intercept: b.to_vec(), num_classes: classes, iterations })
}

/// Ridge regression with an unpenalised intercept (scikit-learn's `Ridge`):
/// centre X and y, solve `(XᵀX + αI) w = Xᵀy` by Cholesky, `b = ȳ − x̄·w`.
pub fn fit_ridge(x: &[Vec<f64>], y: &[f64], alpha: f64) -> Result<LinearModel> {
    if x.is_empty() {
        return Err(Error::Input("ridge regression needs items".into()));
    }
    let (n, d) = (x.len() as f64, x[0].len());
    let xm: Vec<f64> = (0..d).map(|j| x.iter().map(|r| r[j]).sum::<f64>() / n).collect();
    let ym = y.iter().sum::<f64>() / n;
    let mut a = vec![vec![0.0; d]; d];
    let mut rhs = vec![0.0; d];
    for (r, &yi) in x.iter().zip(y) {
        let c: Vec<f64> = r.iter().zip(&xm).map(|(v, m)| v - m).collect();
        for i in 0..d {
            rhs[i] += c[i] * (yi - ym);
            for j in 0..=i {
                a[i][j] += c[i] * c[j];
            }
        }
    }
    for (i, row) in a.iter_mut().enumerate() {
        row[i] += alpha;
    }
    // Cholesky: a = L Lᵀ (lower triangle of `a` holds L).
    for j in 0..d {
        let mut diag = a[j][j] - (0..j).map(|k| a[j][k] * a[j][k]).sum::<f64>();
        if diag <= 0.0 {
            return Err(Error::Input("ridge regression: the system is not positive definite".into()));
        }
        diag = diag.sqrt();
        a[j][j] = diag;
        for i in j + 1..d {
            a[i][j] = (a[i][j] - (0..j).map(|k| a[i][k] * a[j][k]).sum::<f64>()) / diag;
        }
    }
    let mut z = vec![0.0; d];
    for i in 0..d {
        z[i] = (rhs[i] - (0..i).map(|k| a[i][k] * z[k]).sum::<f64>()) / a[i][i];
    }
    let mut w = vec![0.0; d];
    for i in (0..d).rev() {
        w[i] = (z[i] - (i + 1..d).map(|k| a[k][i] * w[k]).sum::<f64>()) / a[i][i];
    }
    let b = ym - dot(&xm, &w);
    Ok(LinearModel { coef: vec![w], intercept: vec![b], num_classes: 0, iterations: 0 })
}
