//! The progress bar: step i/N, elapsed time and an estimate of the time left.

use leptos::prelude::*;

use crate::protocol::JobId;

/// A generation in flight.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    /// The request the worker's replies about this run carry.
    pub job: JobId,
    pub step: usize,
    pub steps: usize,
    pub started_ms: f64,
    pub now_ms: f64,
}

impl Run {
    pub fn new(job: JobId, steps: usize, now_ms: f64) -> Self {
        Self { job, step: 0, steps, started_ms: now_ms, now_ms }
    }

    pub fn advance(&mut self, step: usize, steps: usize, now_ms: f64) {
        (self.step, self.steps, self.now_ms) = (step, steps, now_ms);
    }

    /// "Step 3/12 · 4.1 s elapsed · about 12 s left" (no estimate before the first step).
    pub fn describe(&self) -> String {
        let elapsed = (self.now_ms - self.started_ms) / 1000.0;
        let mut text = format!("Step {}/{} · {elapsed:.1} s elapsed", self.step, self.steps);
        if self.step > 0 {
            let left = elapsed / self.step as f64 * (self.steps - self.step.min(self.steps)) as f64;
            text.push_str(&format!(" · about {left:.0} s left"));
        }
        text
    }
}

#[component]
pub fn ProgressBar(run: RwSignal<Option<Run>>) -> impl IntoView {
    view! {
        <div class="progress" hidden=move || run.with(Option::is_none)>
            <progress aria-label="Generation progress"
                max=move || run.with(|r| r.as_ref().map_or(1, |r| r.steps.max(1)))
                value=move || run.with(|r| r.as_ref().map_or(0, |r| r.step))></progress>
            <span class="progress-text">{move || run.with(|r| r.as_ref().map(Run::describe).unwrap_or_default())}</span>
        </div>
    }
}
