//! A task's `output_type`: which requests it makes and so which metrics apply
//! to it. Its own module because both the task config and the metric
//! specification name it, and neither should depend on the other for it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputType {
    MultipleChoice,
    Loglikelihood,
    LoglikelihoodRolling,
    GenerateUntil,
}
