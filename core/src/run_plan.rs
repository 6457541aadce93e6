//! Which kind of run each task or suite name asks for: the one place that
//! knows the suites which are not task YAML. `tinyeval run --tasks` and the
//! page's Benchmarks tab both split their names with [`RunPlan::from_names`]
//! and hand each part to its core run (the evaluator for task YAML, the probe,
//! Leaner-Eval); neither matches on names itself.

use crate::error::Result;
use crate::probe::{PROBE_SUITE, PROBE_TASKS, ProbeTask, probe_task};

/// The fine-tuning suite's name (`crate::finetune`, native only), and the
/// prefix of each fine-tuned task's: `leaner_glue_finetune_{task}`.
pub const FINETUNE_SUITE: &str = "leaner_glue_finetune";

/// Leaner-Eval's suite name (instruction following, `crate::leaner_eval`).
pub const LEANER_EVAL_SUITE: &str = "leaner_eval";

/// The kind of run one name asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum RunKind {
    /// A task or group of task YAML, resolved by [`crate::tasks::TaskRegistry`].
    Benchmark(String),
    /// `leaner_glue_probe` (every probe task) or `leaner_glue_probe_{task}`.
    Probe(Vec<&'static ProbeTask>),
    /// `leaner_glue_finetune` (every Leaner-GLUE task) or `leaner_glue_finetune_{task}`.
    Finetune(Vec<&'static ProbeTask>),
    /// `leaner_eval`.
    LeanerEval,
}

impl RunKind {
    /// The kind of `name`; an unknown probe task is an error naming the known ones.
    pub fn of(name: &str) -> Result<Self> {
        if name == LEANER_EVAL_SUITE {
            return Ok(RunKind::LeanerEval);
        }
        if name == PROBE_SUITE {
            return Ok(RunKind::Probe(PROBE_TASKS.iter().collect()));
        }
        if name == FINETUNE_SUITE {
            return Ok(RunKind::Finetune(PROBE_TASKS.iter().collect()));
        }
        if let Some(task) = name.strip_prefix(FINETUNE_SUITE).and_then(|rest| rest.strip_prefix('_')) {
            return Ok(RunKind::Finetune(vec![probe_task(task)?]));
        }
        match name.strip_prefix(PROBE_SUITE).and_then(|rest| rest.strip_prefix('_')) {
            Some(task) => Ok(RunKind::Probe(vec![probe_task(task)?])),
            None => Ok(RunKind::Benchmark(name.to_string())),
        }
    }
}

/// Names sorted by kind, each kept once, in the order first asked for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunPlan {
    pub benchmarks: Vec<String>,
    pub probes: Vec<&'static ProbeTask>,
    pub finetunes: Vec<&'static ProbeTask>,
    pub leaner_eval: bool,
}

impl RunPlan {
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self> {
        let mut plan = RunPlan::default();
        for name in names.into_iter().map(str::trim).filter(|n| !n.is_empty()) {
            match RunKind::of(name)? {
                RunKind::Benchmark(n) if !plan.benchmarks.contains(&n) => plan.benchmarks.push(n),
                RunKind::Benchmark(_) => {}
                RunKind::Probe(tasks) => {
                    for t in tasks {
                        if !plan.probes.iter().any(|p| p.name == t.name) {
                            plan.probes.push(t);
                        }
                    }
                }
                RunKind::Finetune(tasks) => {
                    for t in tasks {
                        if !plan.finetunes.iter().any(|p| p.name == t.name) {
                            plan.finetunes.push(t);
                        }
                    }
                }
                RunKind::LeanerEval => plan.leaner_eval = true,
            }
        }
        Ok(plan)
    }

    /// Whether any name asks for a run that is not task YAML.
    pub fn has_suites(&self) -> bool {
        self.leaner_eval || !self.probes.is_empty() || !self.finetunes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_sorted_by_kind() {
        let plan = RunPlan::from_names("demo_sentiment, leaner_glue_probe_rte,leaner_eval,leaner_glue_probe_rte,leaner_glue".split(',')).unwrap();
        assert_eq!(plan.benchmarks, ["demo_sentiment", "leaner_glue"]);
        assert_eq!(plan.probes.iter().map(|t| t.name).collect::<Vec<_>>(), ["rte"]);
        assert!(plan.leaner_eval && plan.has_suites());
        assert_eq!(RunPlan::from_names(["leaner_glue_probe"]).unwrap().probes.len(), PROBE_TASKS.len());
        // Only `leaner_glue_probe_` starts a probe task; a YAML task may share the stem.
        assert_eq!(RunKind::of("leaner_glue_probex").unwrap(), RunKind::Benchmark("leaner_glue_probex".into()));
        let err = RunKind::of("leaner_glue_probe_nope").unwrap_err().to_string();
        assert!(err.contains("no probe task `nope`") && err.contains("cola"), "{err}");
        let plan = RunPlan::from_names(["leaner_glue_finetune_rte", "leaner_glue_finetune_cola", "leaner_glue_probe_rte"]).unwrap();
        assert_eq!(plan.finetunes.iter().map(|t| t.name).collect::<Vec<_>>(), ["rte", "cola"]);
        assert_eq!(plan.probes.len(), 1);
        assert!(plan.has_suites() && plan.benchmarks.is_empty());
        assert_eq!(RunPlan::from_names(["leaner_glue_finetune"]).unwrap().finetunes.len(), PROBE_TASKS.len());
    }
}
