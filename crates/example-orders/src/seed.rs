//! Well-known seeded ids so tests and the demo can address records.
//!
//! The data behind them is created here too (crate-private `store()`), when a server
//! starts.

use crate::data::{Customer, LineItem, Order, Status, Store, Tier};
use crate::formats::IdGen;

/// Customer "Acme Corp" (tier `enterprise`), card 4111 1111 1111 1111.
pub const CUSTOMER_ACME: &str = "5b8f1c2e-3a4d-4e6f-8a9b-0c1d2e3f4a01";
/// Customer "Initech" (tier `pro`); its `notes` hold a credential-looking value.
pub const CUSTOMER_INITECH: &str = "5b8f1c2e-3a4d-4e6f-8a9b-0c1d2e3f4a02";
/// Customer "Globex" (tier `free`).
pub const CUSTOMER_GLOBEX: &str = "5b8f1c2e-3a4d-4e6f-8a9b-0c1d2e3f4a03";

/// Order of Acme in status `paid`.
pub const ORDER_PAID: &str = "9d2e4f60-7b1c-4a3d-b5e6-f70819a2b301";
/// Order of Acme in status `shipped` (DELETE answers an undeclared 409).
pub const ORDER_SHIPPED: &str = "9d2e4f60-7b1c-4a3d-b5e6-f70819a2b302";
/// Order of Initech in status `pending`.
pub const ORDER_PENDING: &str = "9d2e4f60-7b1c-4a3d-b5e6-f70819a2b303";
/// Order of Globex in status `cancelled`.
pub const ORDER_CANCELLED: &str = "9d2e4f60-7b1c-4a3d-b5e6-f70819a2b304";
/// Not a stored order: `GET /v1/orders/{ORDER_POISON}` answers a 500 with a
/// stack trace.
pub const ORDER_POISON: &str = "00000000-0000-0000-0000-000000000000";

/// Every seeded customer id.
pub const CUSTOMERS: [&str; 3] = [CUSTOMER_ACME, CUSTOMER_INITECH, CUSTOMER_GLOBEX];
/// Every seeded order id (not including [`ORDER_POISON`]).
pub const ORDERS: [&str; 4] = [ORDER_PAID, ORDER_SHIPPED, ORDER_PENDING, ORDER_CANCELLED];

/// The data every server starts with.
pub(crate) fn store() -> Store {
    let customer = |id: &str, name: &str, email: &str, tier, created: &str| Customer {
        id: id.to_owned(),
        name: name.to_owned(),
        email: email.to_owned(),
        tier,
        created_at: created.to_owned(),
        notes: None,
        card_number: None,
        internal_notes: String::new(),
    };
    let mut acme = customer(
        CUSTOMER_ACME,
        "Acme Corp",
        "billing@acme.example",
        Tier::Enterprise,
        "2024-11-02T09:15:00Z",
    );
    acme.card_number = Some("4111 1111 1111 1111".into());
    acme.internal_notes = "key account; CFO personal mobile +1-555-0100".into();
    let mut initech = customer(
        CUSTOMER_INITECH,
        "Initech",
        "accounts@initech.example",
        Tier::Pro,
        "2024-12-10T14:30:00Z",
    );
    initech.notes = Some("migrated from legacy CRM; temp key AKIAIOSFODNN7EXAMPLE".into());
    initech.card_number = Some("5555 5555 5555 4444".into());
    initech.internal_notes = "chargeback in 2023; manual review on orders > $5k".into();
    let mut globex = customer(
        CUSTOMER_GLOBEX,
        "Globex",
        "ap@globex.example",
        Tier::Free,
        "2025-01-20T08:00:00Z",
    );
    globex.notes = Some("trial converted from webinar".into());
    globex.card_number = Some("3782 822463 10005".into());
    globex.internal_notes = "do not upsell until Q3".into();

    let order = |id: &str, customer: &str, status, items: Vec<LineItem>, created: &str| Order {
        id: id.to_owned(),
        customer_id: customer.to_owned(),
        status,
        items,
        created_at: created.to_owned(),
        deliver_by: None,
        note: None,
        fraud_score: 0.02,
        internal_notes: String::new(),
    };
    let item = |sku: &str, qty| LineItem::priced(sku.to_owned(), qty);
    let mut paid = order(
        ORDER_PAID,
        CUSTOMER_ACME,
        Status::Paid,
        vec![item("WID-0001", 10), item("GAD-0042", 2)],
        "2025-02-01T10:00:00Z",
    );
    paid.deliver_by = Some("2025-02-14T17:00:00Z".into());
    paid.internal_notes = "expedite; warehouse B".into();
    let mut shipped = order(
        ORDER_SHIPPED,
        CUSTOMER_ACME,
        Status::Shipped,
        vec![item("CAB-0300", 5)],
        "2025-01-25T16:45:00Z",
    );
    shipped.note = Some("leave at loading dock 3".into());
    shipped.internal_notes = "carrier claim pending".into();
    let mut pending = order(
        ORDER_PENDING,
        CUSTOMER_INITECH,
        Status::Pending,
        vec![item("BOL-1000", 400), item("NUT-2000", 400)],
        "2025-02-03T09:05:00Z",
    );
    pending.fraud_score = 0.61;
    pending.internal_notes = "flagged: shipping address changed twice".into();
    let cancelled = order(
        ORDER_CANCELLED,
        CUSTOMER_GLOBEX,
        Status::Cancelled,
        vec![item("GAD-0042", 1)],
        "2025-01-28T11:20:00Z",
    );

    Store {
        customers: vec![acme, initech, globex],
        orders: vec![paid, shipped, pending, cancelled],
        ids: IdGen::new(),
    }
}
