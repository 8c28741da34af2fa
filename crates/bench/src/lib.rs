//! Helpers of the load harness in `bench/`: the fixed ~1 KB JSON document
//! the minimal upstream answers with, and the request body the POST case
//! sends. Shared so the generated contract declares exactly what is sent
//! and answered.

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

/// The POST case's request body: about 1 KB of JSON.
pub fn request_body() -> Value {
    json!({
        "customerId": "c-1001",
        "reference": "PO-2026-11-0042",
        "items": (0..8).map(|i| json!({
            "sku": format!("WID-{i:04}"),
            "quantity": i + 1,
            "note": "Standard widget, galvanised, boxed, please"
        })).collect::<Vec<_>>(),
        "deliverBy": "2026-12-24T12:00:00Z",
        "instructions": "Deliver to the loading bay at the rear of the building, ring twice."
    })
}
