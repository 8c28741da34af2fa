//! Helpers of the load harness in `bench/`: the fixed ~1 KB JSON document
//! the minimal upstream answers with, and the request body the POST case
//! sends (shared so the generated contract declares exactly what is sent
//! and answered), and the runtime the forwarding subjects start on.

use serde_json::{Value, json};

/// The upstream's answer to every request: about 1 KB of JSON, with one
/// field the contract does not declare (so the response check has work).
pub fn response() -> Value {
    json!({
        "id": 42,
        "name": "Widget order for Acme Corporation, priority lane",
        "status": "paid",
        "customer": {"id": "c-1001", "name": "Acme Corporation", "tier": "enterprise", "email": "orders@acme.example"},
        "items": (0..8).map(|i| json!({
            "sku": format!("WID-{i:04}"),
            "description": "Standard widget, galvanised, boxed",
            "quantity": i + 1,
            "unitCents": 1999
        })).collect::<Vec<_>>(),
        "totalCents": 71964,
        "createdAt": "2026-11-26T10:00:00Z",
        "notes": "Deliver to the loading bay at the rear of the building.",
        "internalMarginCents": 1234
    })
}

/// The schema of [`response`] as the contracts declare it (everything but
/// `internalMarginCents`).
pub fn order_schema() -> Value {
    json!({
        "type": "object",
        "required": ["id", "name", "status", "items", "totalCents"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string", "maxLength": 200},
            "status": {"type": "string", "enum": ["pending", "paid", "shipped"]},
            "customer": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"}, "name": {"type": "string"},
                    "tier": {"type": "string"}, "email": {"type": "string", "format": "email"}
                }
            },
            "items": {"type": "array", "maxItems": 100, "items": {
                "type": "object",
                "properties": {
                    "sku": {"type": "string", "pattern": "^WID-[0-9]{4}$"},
                    "description": {"type": "string"},
                    "quantity": {"type": "integer", "minimum": 1},
                    "unitCents": {"type": "integer"}
                }
            }},
            "totalCents": {"type": "integer"},
            "createdAt": {"type": "string", "format": "date-time"},
            "notes": {"type": "string"}
        }
    })
}

/// The POST case's request body: about 1 KB of JSON.
pub fn request_body() -> Value {
    request_body_with(8)
}

/// A request body with `items` order lines (about 85 bytes each): 1,200
/// make about 100 KB.
pub fn request_body_with(items: usize) -> Value {
    json!({
        "customerId": "c-1001",
        "reference": "PO-2026-11-0042",
        "items": (0..items).map(|i| json!({
            "sku": format!("WID-{:04}", i % 10_000),
            "quantity": i % 1000 + 1,
            "note": "Standard widget, galvanised, boxed, please"
        })).collect::<Vec<_>>(),
        "deliverBy": "2026-12-24T12:00:00Z",
        "instructions": "Deliver to the loading bay at the rear of the building, ring twice."
    })
}

/// Runs `main` on the `portcullis` binary's runtime (tokio multi-thread,
/// every driver enabled), so the bench subjects run as `serve` does; a
/// runtime that cannot start is reported under `name` and fails.
pub fn on_gateway_runtime(
    name: &str,
    main: impl std::future::Future<Output = std::process::ExitCode>,
) -> std::process::ExitCode {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(main),
        Err(e) => {
            eprintln!("{name}: cannot start the runtime: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
