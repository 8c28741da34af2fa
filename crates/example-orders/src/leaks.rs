//! Undeclared behaviour, none of it in the contract: a debug configuration
//! dump with credentials, a legacy `/v0` API returning full records (card
//! numbers, internal notes), and 500s whose body is a stack trace.
//!
//! The credentials are the AWS documentation example values and a made-up
//! database password: fake, but shaped like the real thing.

use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::respond::{Resp, error, json, method_not_allowed, text};
use crate::routes::Ctx;

const DATABASE_URL: &str = "postgres://orders:S3cr3tPassw0rd@db.internal:5432/orders";
const AWS_ACCESS_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
const AWS_SECRET_ACCESS_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// Routes the undeclared paths; `None` when the path is not one of them.
pub(crate) fn undeclared(ctx: &Ctx<'_>) -> Option<Resp> {
    let get_only = |handler: &dyn Fn() -> Resp| match *ctx.method {
        Method::GET => handler(),
        _ => method_not_allowed("GET"),
    };
    let response = match *ctx.segments {
        ["debug", "config"] => get_only(&debug_config),
        ["v0", "customers"] => get_only(&|| v0_customers(ctx)),
        ["v0", "orders", id] => get_only(&|| v0_order(ctx, id)),
        _ => return None,
    };
    Some(response)
}

fn debug_config() -> Resp {
    let config = json!({
        "service": "orders",
        "version": "1.4.0",
        "environment": "production",
        "build": { "commit": "3c9e1f0", "profile": "release", "rustc": "1.95.0" },
        "database_url": DATABASE_URL,
        "database_pool": { "max_connections": 32, "statement_timeout_ms": 5000 },
        "aws_region": "eu-west-1",
        "aws_access_key_id": AWS_ACCESS_KEY_ID,
        "aws_secret_access_key": AWS_SECRET_ACCESS_KEY,
        "s3_bucket": "orders-invoices-prod",
        "payment_gateway": { "endpoint": "https://payments.internal/v2", "timeout_ms": 3000 },
        "feature_flags": { "legacy_v0_api": true, "expand_all": true, "debug_endpoints": true },
        "log_level": "debug",
    });
    json(StatusCode::OK, &config)
}

fn v0_customers(ctx: &Ctx<'_>) -> Resp {
    let store = ctx.state.store();
    let customers: Vec<Value> = store.customers.iter().map(|c| c.full()).collect();
    json(
        StatusCode::OK,
        &json!({ "customers": customers, "count": store.customers.len() }),
    )
}

fn v0_order(ctx: &Ctx<'_>, id: &str) -> Resp {
    let store = ctx.state.store();
    match store.order(id) {
        Some(order) => json(StatusCode::OK, &store.order_full(order)),
        None => error(StatusCode::NOT_FOUND, "not found"),
    }
}

/// The failures that escape as a 500 with a stack trace.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Crash {
    /// `GET /v1/orders/00000000-0000-0000-0000-000000000000`.
    PoisonOrder,
    /// `GET /v1/orders?limit=0`: pages = total / limit.
    DivideByZero,
}

/// A 500 whose plain-text body looks like a Rust panic with a backtrace.
pub(crate) fn crash(kind: Crash) -> Resp {
    let (location, message, frames) = match kind {
        Crash::PoisonOrder => (
            "src/routes.rs:148:41",
            "called `Option::unwrap()` on a `None` value",
            [
                ("orders::routes::get_order", "./src/routes.rs:148:41"),
                (
                    "orders::db::OrderRepo::find_with_margin",
                    "./src/db.rs:212:17",
                ),
                ("orders::server::handle", "./src/server.rs:87:23"),
            ],
        ),
        Crash::DivideByZero => (
            "src/routes.rs:119:24",
            "attempt to divide by zero",
            [
                ("orders::routes::list_orders", "./src/routes.rs:119:24"),
                ("orders::db::OrderRepo::page", "./src/db.rs:96:9"),
                ("orders::server::handle", "./src/server.rs:87:23"),
            ],
        ),
    };
    let mut body = format!(
        "thread 'main' panicked at {location}:\n{message}\nstack backtrace:\n   \
         0: rust_begin_unwind\n   1: core::panicking::panic_fmt\n"
    );
    for (n, (function, at)) in frames.iter().enumerate() {
        body.push_str(&format!("   {}: {function}\n             at {at}\n", n + 2));
    }
    body.push_str(&format!(
        "   5: tokio::runtime::task::harness::poll_future\n\
         note: database connection: {DATABASE_URL}\n\
         note: run with `RUST_BACKTRACE=full` for a verbose backtrace.\n"
    ));
    text(StatusCode::INTERNAL_SERVER_ERROR, body)
}
