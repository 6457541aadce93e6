//! Rotary position settings, read as transformers 5 reads them
//! (`RotaryEmbeddingConfigMixin` in `modeling_rope_utils.py`): a `rope_parameters`
//! object (transformers 5), or the legacy top-level `rope_theta` and
//! `rope_scaling` (transformers 4 and most Hub checkpoints, whose `rope_scaling`
//! may spell `rope_type` as `type`). The scaling types `linear`, `llama3` and
//! `yarn` are kept as their parameters; `model::rotary` computes the frequencies
//! from them. Every other type (`dynamic`, `longrope`, ...) is refused by name.

use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::model_limits::{MAX_POSITIONS, check_dim, check_float};

use super::unsupported;

/// How rotary frequencies are scaled, with every default already resolved as
/// transformers resolves it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum RopeScaling {
    #[default]
    None,
    /// Position interpolation: every frequency divided by `factor`.
    Linear { factor: f64 },
    /// Llama 3.1: wavelengths longer than `original_max_positions / low_freq_factor`
    /// divided by `factor`, shorter than `original_max_positions / high_freq_factor`
    /// kept, and a smooth blend in between.
    Llama3 {
        factor: f64,
        low_freq_factor: f64,
        high_freq_factor: f64,
        original_max_positions: usize,
    },
    /// YaRN: each frequency blends interpolation (divided by `factor`) and
    /// extrapolation along a ramp between the dimensions where `beta_fast` and
    /// `beta_slow` rotations fit the original context; cos and sin are then
    /// multiplied by `attention_factor`.
    Yarn {
        factor: f64,
        original_max_positions: usize,
        beta_fast: f64,
        beta_slow: f64,
        truncate: bool,
        attention_factor: f64,
    },
}

/// One rotary settings object: the keys `modeling_rope_utils` reads. Keys it
/// does not read are ignored, as transformers ignores them (with a warning).
#[derive(Debug, Deserialize, Default, Clone)]
pub(super) struct RopeParameters {
    rope_type: Option<String>,
    /// transformers 4's spelling of `rope_type`.
    #[serde(rename = "type")]
    legacy_type: Option<String>,
    pub(super) rope_theta: Option<f64>,
    partial_rotary_factor: Option<f64>,
    factor: Option<f64>,
    original_max_position_embeddings: Option<usize>,
    low_freq_factor: Option<f64>,
    high_freq_factor: Option<f64>,
    attention_factor: Option<f64>,
    beta_fast: Option<f64>,
    beta_slow: Option<f64>,
    mscale: Option<f64>,
    mscale_all_dim: Option<f64>,
    pub(super) truncate: Option<bool>,
}

/// The rotary fields of a Llama-style `config.json`, read from the same object as the family's own struct.
#[derive(Debug, Deserialize, Default)]
pub(super) struct RopeFields {
    rope_theta: Option<f64>,
    rope_scaling: Option<Value>,
    rope_parameters: Option<Value>,
    partial_rotary_factor: Option<f64>,
    /// A top-level value replaces the one in the rope object (transformers'
    /// `standardize_rope_params` assigns it for llama3, yarn and longrope).
    original_max_position_embeddings: Option<usize>,
}

impl RopeFields {
    /// `(theta, scaling)` of a model that rotates whole heads. A non-empty legacy
    /// `rope_scaling` takes the place of `rope_parameters`, and the object's own
    /// `rope_theta` wins over the top-level one, as in transformers'
    /// `convert_rope_params_to_dict`.
    pub(super) fn resolve(&self, file: &str, default_theta: f64, max_positions: usize) -> Result<(f64, RopeScaling)> {
        let (field, object) = match (&self.rope_scaling, &self.rope_parameters) {
            (Some(s), _) if is_non_empty(s) => ("rope_scaling", Some(s)),
            (_, Some(p)) if !p.is_null() => ("rope_parameters", Some(p)),
            _ => ("rope_parameters", None),
        };
        let params = match object {
            Some(v) => RopeParameters::parse(file, field, v)?,
            None => RopeParameters::default(),
        };
        let partial = params.partial_rotary_factor.or(self.partial_rotary_factor);
        if let Some(fraction) = partial.filter(|&f| f != 1.0) {
            return Err(unsupported(file, &format!("{field}.partial_rotary_factor"), fraction, "this family rotates whole heads"));
        }
        let theta = params.rope_theta.or(self.rope_theta).unwrap_or(default_theta);
        let original = self.original_max_position_embeddings;
        Ok((theta, params.scaling(file, field, original, max_positions)?))
    }
}

/// transformers takes `rope_scaling or rope_parameters`: an empty object or null does not count.
pub(super) fn is_non_empty(v: &Value) -> bool {
    v.as_object().is_none_or(|m| !m.is_empty()) && !v.is_null()
}

impl RopeParameters {
    /// Reads the object at `field`; errors name the key (`rope_scaling.factor: ...`).
    pub(super) fn parse(file: &str, field: &str, value: &Value) -> Result<Self> {
        if !value.is_object() {
            return Err(Error::bad_file(file, format!("`{field}` is {value}, not an object")));
        }
        serde_path_to_error::deserialize(value.clone()).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            Error::bad_file(file, format!("`{field}.{path}`: {inner}"))
        })
    }

    pub(super) fn rope_type(&self) -> &str {
        self.rope_type.as_deref().or(self.legacy_type.as_deref()).unwrap_or("default")
    }

    /// The scaling this object asks for; `top_original` is a top-level
    /// `original_max_position_embeddings`, `max_positions` the fallback for it.
    pub(super) fn scaling(&self, file: &str, field: &str, top_original: Option<usize>, max_positions: usize) -> Result<RopeScaling> {
        let key = |k: &str| format!("{field}.{k}");
        let required = |k: &str, v: Option<f64>| -> Result<f64> {
            let v = v.ok_or_else(|| Error::bad_file(file, format!("`{}` is missing; rope type `{}` needs it", key(k), self.rope_type())))?;
            check_float(file, &key(k), v, false)?;
            Ok(v)
        };
        let original = || -> Result<usize> {
            let n = top_original.or(self.original_max_position_embeddings).unwrap_or(max_positions);
            check_dim(file, &key("original_max_position_embeddings"), n, MAX_POSITIONS)
        };
        Ok(match self.rope_type() {
            "default" => RopeScaling::None,
            "linear" => RopeScaling::Linear { factor: required("factor", self.factor)? },
            "llama3" => {
                let low = required("low_freq_factor", self.low_freq_factor)?;
                let high = required("high_freq_factor", self.high_freq_factor)?;
                if low == high {
                    // transformers would divide by zero in the smoothing ramp.
                    return Err(Error::bad_file(file, format!("`{}` equals `{}` ({low})", key("low_freq_factor"), key("high_freq_factor"))));
                }
                RopeScaling::Llama3 {
                    factor: required("factor", self.factor)?,
                    low_freq_factor: low,
                    high_freq_factor: high,
                    original_max_positions: original()?,
                }
            }
            "yarn" => {
                let factor = required("factor", self.factor)?;
                // transformers' get_mscale: 1 up to a factor of 1, then 0.1 * mscale * ln(factor) + 1.
                let mscale = |m: f64| if factor <= 1.0 { 1.0 } else { 0.1 * m * factor.ln() + 1.0 };
                let attention_factor = match (self.attention_factor, self.mscale, self.mscale_all_dim) {
                    (Some(a), _, _) => a,
                    (None, Some(m), Some(all)) if m != 0.0 && all != 0.0 => mscale(m) / mscale(all),
                    _ => mscale(1.0),
                };
                check_float(file, &key("attention_factor"), attention_factor, true)?;
                // `beta_fast or 32`: a 0 means the default too.
                let beta = |v: Option<f64>, default: f64| v.filter(|&b| b != 0.0).unwrap_or(default);
                let (beta_fast, beta_slow) = (beta(self.beta_fast, 32.0), beta(self.beta_slow, 1.0));
                check_float(file, &key("beta_fast"), beta_fast, false)?;
                check_float(file, &key("beta_slow"), beta_slow, false)?;
                RopeScaling::Yarn {
                    factor,
                    original_max_positions: original()?,
                    beta_fast,
                    beta_slow,
                    truncate: self.truncate.unwrap_or(true),
                    attention_factor,
                }
            }
            other => {
                return Err(unsupported(
                    file,
                    &key(if self.rope_type.is_some() { "rope_type" } else { "type" }),
                    other,
                    "only the default, linear, llama3 and yarn rotary scalings are implemented",
                ));
            }
        })
    }
}

/// The GPT-NeoX family reads only `rope_theta` and `partial_rotary_factor`:
/// any scaling there is refused.
pub(super) fn refuse_scaling(file: &str, rope: &Option<RopeParameters>, scaling: &Option<Value>) -> Result<()> {
    if let Some(scaling) = scaling.as_ref().filter(|s| is_non_empty(s)) {
        return Err(unsupported(file, "rope_scaling", scaling, "only unscaled rotary positions are implemented for this family"));
    }
    match rope.as_ref().map(RopeParameters::rope_type) {
        None | Some("default") => Ok(()),
        Some(other) => Err(unsupported(file, "rope_parameters.rope_type", other, "only `default` rotary positions are implemented for this family")),
    }
}

impl RopeParameters {
    pub(super) fn partial_rotary_factor(&self) -> Option<f64> {
        self.partial_rotary_factor
    }
}
