//! Live progress of `--wait`: on a terminal, one spinner line per object still awaited with
//! its reason (indicatif), redrawn in place; otherwise plain lines, printed when the set of
//! awaited objects changes, as CI logs want them.

use crate::engine::ObjectHealth;
use crate::engine::sync::Progress;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Shows what a wait is waiting for, on stderr.
pub struct ProgressDisplay {
    terminal: bool,
    bars: Mutex<(MultiProgress, Vec<ProgressBar>)>,
}

impl ProgressDisplay {
    /// A display for a terminal (`true`) or a log.
    pub fn new(terminal: bool) -> Arc<ProgressDisplay> {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        Arc::new(ProgressDisplay { terminal, bars: Mutex::new((multi, Vec::new())) })
    }

    /// The engine's progress callback, drawing on this display.
    pub fn callback(self: Arc<Self>) -> Progress {
        Arc::new(move |what: &str, pending: &[ObjectHealth]| self.show(what, pending))
    }

    fn show(&self, what: &str, pending: &[ObjectHealth]) {
        if !self.terminal {
            for object in pending {
                eprintln!("waiting for {what}: {object}");
            }
            return;
        }
        let mut guard = self.bars.lock().unwrap_or_else(|p| p.into_inner());
        let (multi, bars) = &mut *guard;
        for bar in bars.drain(..) {
            bar.finish_and_clear();
            multi.remove(&bar);
        }
        let style = ProgressStyle::with_template("{spinner} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        for object in pending {
            let bar = multi.add(ProgressBar::new_spinner());
            bar.set_style(style.clone());
            bar.set_message(format!("waiting for {what}: {object}"));
            bar.enable_steady_tick(Duration::from_millis(120));
            bars.push(bar);
        }
    }
}

impl Drop for ProgressDisplay {
    fn drop(&mut self) {
        let mut guard = self.bars.lock().unwrap_or_else(|p| p.into_inner());
        for bar in guard.1.drain(..) {
            bar.finish_and_clear();
        }
    }
}
