//! How a run reports its progress to whoever drives it: phases, each with
//! a total and ticks. The engine only calls this trait; drawing (a bar on a
//! terminal, a console's events) is the caller's. Pure.

/// Told of each phase of a run and of each request sent in it.
pub trait Progress {
    /// A phase begins, with about `total` steps.
    fn start(&mut self, phase: &'static str, total: usize);
    /// A better estimate of the current phase's total, once known.
    fn set_total(&mut self, total: usize);
    /// One step of the current phase is done.
    fn tick(&mut self);
    /// The phase is over.
    fn finish(&mut self);
}

/// Progress nobody watches.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {
    fn start(&mut self, _phase: &'static str, _total: usize) {}
    fn set_total(&mut self, _total: usize) {}
    fn tick(&mut self) {}
    fn finish(&mut self) {}
}
