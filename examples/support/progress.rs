//! Progress of a wait on stderr: an indicatif bar (a spinner, or a percentage when the BMC
//! reports one) on a terminal, plain lines otherwise (logs, pipes, CI, tests), so stdout stays
//! the result alone and a log holds every step once.

use std::io::IsTerminal as _;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// One step of a wait: what is happening and, when known, how far along (0 to 100).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The line to show.
    pub message: String,
    /// Percent complete, when the BMC reports it (a Dell job).
    pub percent: Option<u64>,
}

enum Output {
    Bar(ProgressBar),
    Lines,
}

/// A wait's progress display: [`WaitProgress::new`] picks the bar or plain lines by whether
/// stderr is a terminal.
pub struct WaitProgress {
    output: Output,
    last: Option<Step>,
}

impl WaitProgress {
    /// A bar when stderr is a terminal, plain lines otherwise.
    pub fn new() -> WaitProgress {
        WaitProgress::with_terminal(std::io::stderr().is_terminal())
    }

    /// The bar (`terminal`) or the plain lines, whatever stderr is.
    pub fn with_terminal(terminal: bool) -> WaitProgress {
        let output = if terminal {
            let bar = ProgressBar::with_draw_target(Some(100), ProgressDrawTarget::stderr());
            bar.set_style(spinner_style());
            bar.enable_steady_tick(Duration::from_millis(120));
            Output::Bar(bar)
        } else {
            Output::Lines
        };
        WaitProgress { output, last: None }
    }

    /// Shows `step` unless it repeats the last one.
    pub fn show(&mut self, step: Step) {
        if self.last.as_ref() == Some(&step) {
            return;
        }
        match &self.output {
            Output::Bar(bar) => {
                match step.percent {
                    Some(p) => {
                        bar.set_style(percent_style());
                        bar.set_position(p.min(100));
                    }
                    None => bar.set_style(spinner_style()),
                }
                bar.set_message(step.message.clone());
            }
            Output::Lines => eprintln!("{}", plain_line(&step)),
        }
        self.last = Some(step);
    }

    /// Ends the display: the bar is cleared, leaving the last step as a line.
    pub fn finish(&mut self) {
        if let Output::Bar(bar) = &self.output {
            bar.finish_and_clear();
            if let Some(step) = &self.last {
                eprintln!("{}", plain_line(step));
            }
        }
        self.last = None;
    }
}

impl Drop for WaitProgress {
    fn drop(&mut self) {
        if let Output::Bar(bar) = &self.output {
            bar.finish_and_clear();
        }
    }
}

/// The plain line of a step: the message, and the percentage when there is one. Pure.
pub fn plain_line(step: &Step) -> String {
    match step.percent {
        Some(p) => format!("{} ({p}%)", step.message),
        None => step.message.clone(),
    }
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn percent_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos:>3}% [{elapsed}]")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
}

/// Progress of many tasks at once (a fleet's nodes): one indicatif bar per task under a
/// multi-progress on a terminal, a plain line per step otherwise.
pub struct MultiWaitProgress {
    multi: Option<indicatif::MultiProgress>,
    bars: std::collections::BTreeMap<String, ProgressBar>,
    last: std::collections::BTreeMap<String, String>,
    /// How many steps each task goes through, for the bar's length (0: a spinner).
    steps: u64,
}

impl MultiWaitProgress {
    /// Bars when stderr is a terminal, plain lines otherwise; `steps` is the bar's length.
    pub fn new(steps: u64) -> MultiWaitProgress {
        MultiWaitProgress::with_terminal(std::io::stderr().is_terminal(), steps)
    }

    /// The bars (`terminal`) or the plain lines, whatever stderr is.
    pub fn with_terminal(terminal: bool, steps: u64) -> MultiWaitProgress {
        MultiWaitProgress {
            multi: terminal
                .then(|| indicatif::MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
            bars: std::collections::BTreeMap::new(),
            last: std::collections::BTreeMap::new(),
            steps,
        }
    }

    /// Shows `message` for `task` (its bar, or a line `task: message`), at `position` of the
    /// task's steps when known; a repeat of the task's last message is dropped.
    pub fn show(&mut self, task: &str, message: &str, position: Option<u64>) {
        if self.last.get(task).map(String::as_str) == Some(message) {
            return;
        }
        self.last.insert(task.to_owned(), message.to_owned());
        let Some(multi) = &self.multi else {
            eprintln!("{task}: {message}");
            return;
        };
        let steps = self.steps;
        let bar = self.bars.entry(task.to_owned()).or_insert_with(|| {
            let bar = multi.add(ProgressBar::new(steps));
            bar.set_style(node_style(steps));
            bar.set_prefix(task.to_owned());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        if let Some(position) = position {
            bar.set_position(position.min(steps));
        }
        bar.set_message(message.to_owned());
    }

    /// Ends `task`'s bar, leaving its last message.
    pub fn finish_task(&mut self, task: &str) {
        if let Some(bar) = self.bars.get(task) {
            bar.finish();
        }
    }

    /// Ends every bar.
    pub fn finish(&mut self) {
        for bar in self.bars.values() {
            if !bar.is_finished() {
                bar.finish();
            }
        }
    }
}

impl Drop for MultiWaitProgress {
    fn drop(&mut self) {
        self.finish();
    }
}

fn node_style(steps: u64) -> ProgressStyle {
    let template = if steps == 0 {
        "{spinner} {prefix:<12} {msg} [{elapsed}]"
    } else {
        "{spinner} {prefix:<12} [{bar:20}] {msg} [{elapsed}]"
    };
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}
