//! The state of a run shown in a status line: idle, running (and where), done, cancelled or failed.

#[derive(Clone, Debug, PartialEq)]
pub enum RunState {
    Idle,
    Running(String),
    Done(String),
    Cancelled,
    Failed(String),
}

impl RunState {
    pub fn text(&self) -> String {
        match self {
            RunState::Idle => String::new(),
            RunState::Running(s) => format!("Running: {s}"),
            RunState::Done(s) => format!("Done: {s}"),
            RunState::Cancelled => "Cancelled".into(),
            RunState::Failed(e) => format!("Error: {e}"),
        }
    }

    pub fn running(&self) -> bool {
        matches!(self, RunState::Running(_))
    }
}
