//! The progress bar on stderr: only on a terminal, never with `-q`, and drawn only once a run
//! has taken about a second (short runs stay quiet). Off a terminal nothing is drawn at all: no
//! escape codes reach a pipe or a log.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::GlobalArgs;
use crate::app::Progress;

/// How long a run goes before the bar appears.
const DELAY: Duration = Duration::from_secs(1);

/// A progress bar that appears after [`DELAY`], or nothing.
pub struct Bar {
    bar: Option<ProgressBar>,
    reveal: Option<tokio::task::JoinHandle<()>>,
}

impl Bar {
    /// A bar when stderr is a terminal and `-q` was not given; otherwise nothing.
    pub fn new(global: &GlobalArgs) -> Bar {
        if global.quiet > 0 || !std::io::stderr().is_terminal() {
            return Bar {
                bar: None,
                reveal: None,
            };
        }
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template("{msg:>14} {bar:30} {pos}/{len}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let shown = bar.clone();
        let reveal = tokio::spawn(async move {
            tokio::time::sleep(DELAY).await;
            shown.set_draw_target(ProgressDrawTarget::stderr());
        });
        Bar {
            bar: Some(bar),
            reveal: Some(reveal),
        }
    }

    /// The callback that moves the bar, for `NetOptions::progress`.
    pub fn callback(&self) -> Option<Progress> {
        let bar = self.bar.clone()?;
        Some(Arc::new(move |stage: &'static str, done, total| {
            bar.set_message(stage);
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        }))
    }

    /// Removes the bar (before the report is printed).
    pub fn finish(self) {
        if let Some(r) = self.reveal {
            r.abort();
        }
        if let Some(b) = self.bar {
            b.finish_and_clear();
        }
    }
}
