//! `verify`'s progress bar on standard error, drawn only when it is a
//! terminal (a CI log or a pipe gets none): the phase, a bar, and how many
//! of how many.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use portcullis_verify::Progress;

const WIDTH: usize = 30;
/// Redraws at most this often.
const EVERY: Duration = Duration::from_millis(80);

pub struct Bar {
    on: bool,
    phase: &'static str,
    done: usize,
    total: usize,
    drawn: Option<Instant>,
}

impl Bar {
    /// A bar that draws when standard error is a terminal.
    pub fn for_terminal() -> Self {
        Self {
            on: std::io::stderr().is_terminal(),
            phase: "",
            done: 0,
            total: 0,
            drawn: None,
        }
    }

    fn draw(&mut self) {
        if !self.on {
            return;
        }
        self.drawn = Some(Instant::now());
        eprint!("\r{}", line(self.phase, self.done, self.total));
        let _ = std::io::stderr().flush();
    }
}

impl Progress for Bar {
    fn start(&mut self, phase: &'static str, total: usize) {
        self.phase = phase;
        self.done = 0;
        self.total = total;
        self.drawn = None;
        self.draw();
    }

    /// A better estimate of the total, once known.
    fn set_total(&mut self, total: usize) {
        self.total = total;
    }

    fn tick(&mut self) {
        self.done += 1;
        if self.drawn.is_none_or(|at| at.elapsed() >= EVERY) || self.done == self.total {
            self.draw();
        }
    }

    /// Clears the bar.
    fn finish(&mut self) {
        if self.on {
            eprint!("\r{:width$}\r", "", width = WIDTH + 50);
            let _ = std::io::stderr().flush();
        }
    }
}

/// `phase [#####-----] done/total`.
fn line(phase: &str, done: usize, total: usize) -> String {
    let filled = (done.min(total) * WIDTH)
        .checked_div(total)
        .unwrap_or(WIDTH);
    format!(
        "{phase:<18} [{}{}] {done}/{total}",
        "#".repeat(filled),
        "-".repeat(WIDTH - filled)
    )
}

#[cfg(test)]
mod tests {
    use super::line;

    #[test]
    fn the_bar_fills_with_progress() {
        assert_eq!(
            line("negatives", 0, 10),
            format!("negatives          [{}] 0/10", "-".repeat(30))
        );
        assert_eq!(
            line("negatives", 5, 10),
            format!(
                "negatives          [{}{}] 5/10",
                "#".repeat(15),
                "-".repeat(15)
            )
        );
        assert!(line("x", 10, 10).contains(&"#".repeat(30)));
        assert!(
            line("x", 0, 0).contains(&"#".repeat(30)),
            "nothing to do is done"
        );
    }
}
