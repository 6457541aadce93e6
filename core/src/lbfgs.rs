//! L-BFGS for the strictly convex objectives of core's linear models (the
//! probe's logistic regression, the blind baseline of membership checks).
//! Written here rather than taken from a crate (argmin, linfa) to keep those
//! out of core's wasm build for ~100 lines.

pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// L-BFGS (memory 10) with a backtracking Armijo line search, from zero, until
/// the gradient's largest component is below `gtol`, the objective stops
/// decreasing beyond round-off, or `max_iter` steps.
pub(crate) fn lbfgs(dim: usize, gtol: f64, max_iter: usize, mut f: impl FnMut(&[f64], &mut [f64]) -> f64) -> (Vec<f64>, usize) {
    const MEMORY: usize = 10;
    let mut x = vec![0.0; dim];
    let mut g = vec![0.0; dim];
    let mut fx = f(&x, &mut g);
    let mut history: std::collections::VecDeque<(Vec<f64>, Vec<f64>, f64)> = std::collections::VecDeque::new();
    let (mut x_new, mut g_new) = (vec![0.0; dim], vec![0.0; dim]);
    for iter in 0..max_iter {
        if g.iter().all(|v| v.abs() <= gtol) {
            return (x, iter);
        }
        // Two-loop recursion: direction = −H·g.
        let mut q = g.clone();
        let mut alphas = Vec::with_capacity(history.len());
        for (s, y, rho) in history.iter().rev() {
            let a = rho * dot(s, &q);
            q.iter_mut().zip(y).for_each(|(qv, yv)| *qv -= a * yv);
            alphas.push(a);
        }
        let gamma = history.back().map_or(1.0 / g.iter().map(|v| v.abs()).fold(0.0, f64::max).max(1.0), |(s, y, _)| dot(s, y) / dot(y, y));
        q.iter_mut().for_each(|v| *v *= gamma);
        for ((s, y, rho), a) in history.iter().zip(alphas.iter().rev()) {
            let beta = rho * dot(y, &q);
            q.iter_mut().zip(s).for_each(|(qv, sv)| *qv += (a - beta) * sv);
        }
        let mut direction: Vec<f64> = q.iter().map(|v| -v).collect();
        let mut slope = dot(&g, &direction);
        if slope >= 0.0 {
            // Not a descent direction (round-off): restart from steepest descent.
            history.clear();
            direction = g.iter().map(|v| -v).collect();
            slope = dot(&g, &direction);
        }
        let mut step = 1.0;
        let mut f_new;
        loop {
            x_new.iter_mut().zip(&x).zip(&direction).for_each(|((xn, xv), dv)| *xn = xv + step * dv);
            f_new = f(&x_new, &mut g_new);
            if f_new <= fx + 1e-4 * step * slope || step < 1e-20 {
                break;
            }
            step *= 0.5;
        }
        let s: Vec<f64> = x_new.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = g_new.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        // SciPy's L-BFGS-B stopping rule as scikit-learn sets it (`ftol` = 64·eps):
        // the relative decrease of the objective has reached round-off.
        let stalled = (fx - f_new) <= 64.0 * f64::EPSILON * fx.abs().max(f_new.abs()).max(1.0);
        let done = stalled || (f_new >= fx && step < 1e-20);
        std::mem::swap(&mut x, &mut x_new);
        std::mem::swap(&mut g, &mut g_new);
        fx = f_new;
        if done {
            return (x, iter + 1);
        }
        // Keep the pair only if the curvature is positive (always, for a strictly convex objective, up to round-off).
        if sy > 1e-300 {
            if history.len() == MEMORY {
                history.pop_front();
            }
            history.push_back((s, y, 1.0 / sy));
        }
    }
    (x, max_iter)
}

