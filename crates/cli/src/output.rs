//! How the CLI prints: JSON with `--json`, readable text otherwise; progress bars on stderr.

use std::io::{IsTerminal as _, Write as _};

use serde::Serialize;

/// The global output settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Output {
    json: bool,
}

/// A progress bar on stderr (hidden when stderr is not a terminal).
pub(crate) struct Bar {
    bar: indicatif::ProgressBar,
}

impl Output {
    pub(crate) fn new(json: bool) -> Output {
        Output { json }
    }

    /// Whether `--json` was given (the domain subcommands ask).
    #[allow(dead_code)]
    pub(crate) fn json(&self) -> bool {
        self.json
    }

    /// Prints `value` as JSON with `--json`, else the human rendering.
    pub(crate) fn emit<T: Serialize>(&self, value: &T, human: impl FnOnce() -> String) -> anyhow::Result<()> {
        let mut out = std::io::stdout().lock();
        if self.json {
            serde_json::to_writer_pretty(&mut out, value)?;
            writeln!(out)?;
        } else {
            let text = human();
            write!(out, "{text}")?;
            if !text.ends_with('\n') {
                writeln!(out)?;
            }
        }
        Ok(())
    }

    /// A progress bar of `len` steps (a spinner when unknown).
    pub(crate) fn progress(&self, len: Option<u64>, label: &str) -> Bar {
        let bar = if std::io::stderr().is_terminal() {
            match len {
                Some(n) => indicatif::ProgressBar::new(n),
                None => indicatif::ProgressBar::new_spinner(),
            }
        } else {
            indicatif::ProgressBar::hidden()
        };
        let style =
            indicatif::ProgressStyle::with_template("{spinner} {prefix} [{bar:30}] {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
        bar.set_style(style.progress_chars("=> "));
        bar.set_prefix(label.to_owned());
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Bar { bar }
    }
}

impl Bar {
    /// The `(current, total, message)` callback the core crates take.
    pub(crate) fn callback(&self) -> impl Fn(u64, Option<u64>, &str) + Send + Sync + 'static {
        let bar = self.bar.clone();
        move |current, total, message| {
            if let Some(t) = total {
                bar.set_length(t);
            }
            bar.set_position(current);
            if !message.is_empty() {
                bar.set_message(message.to_owned());
            }
        }
    }

    /// Removes the bar.
    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
