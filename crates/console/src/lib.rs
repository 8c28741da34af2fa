//! The web console on the admin listener: the pages people look at before
//! they read (the inventory, live decisions, alerts, posture, the audit
//! ledger), drawn on the server as HTML.
//!
//! Why server-rendered HTML and not a script application: the data is the
//! admin listener's own and already shaped on the server, so a page is one
//! request and a template; templates escape every value by default (an
//! identity owner, a path or a client id written by an attacker is text,
//! never markup); the Content-Security-Policy can forbid inline script and
//! style outright; and the only script is htmx (`web/`, built by npm from a
//! committed `package-lock.json`, its output checked in under `assets/`),
//! used for one thing: refreshing live decisions every second. Every action
//! is an ordinary form that works without it.
//!
//! This crate only draws: the admin listener gathers the views
//! ([`view`]), folds decisions into chart series ([`series`]), and answers
//! the requests; nothing here reads a file, a socket or the clock.

pub mod alerts;
pub mod assets;
pub mod chart;
pub mod pages;
pub mod series;
pub mod verify;
pub mod view;
