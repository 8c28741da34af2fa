//! A process a test started (`portcullis demo`, `portcullis serve`), killed
//! when the test ends however it ends.

use std::process::Child;

/// Kills and reaps its child when dropped, and removes what a killed
/// `portcullis demo` cannot: its private temporary folder (where the
/// console's verify report goes).
#[derive(Debug)]
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let pid = self.0.id();
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ =
            std::fs::remove_dir_all(std::env::temp_dir().join(format!("portcullis-demo-{pid}")));
    }
}
