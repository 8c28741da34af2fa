//! The `portcullis` command line: a thin `main` and one module per
//! subcommand. The library part exists so tests can drive the demo's script.

pub mod demo_script;
