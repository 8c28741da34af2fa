//! The in-memory data: customers, orders, line items, the price catalogue,
//! the seed, and the JSON views of each record (public, detailed, full).

use serde_json::{Map, Value, json};

use crate::formats::{IdGen, now_rfc3339};

/// Customer tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tier {
    Free,
    Pro,
    Enterprise,
}

impl Tier {
    pub(crate) fn parse(s: &str) -> Option<Tier> {
        match s {
            "free" => Some(Tier::Free),
            "pro" => Some(Tier::Pro),
            "enterprise" => Some(Tier::Enterprise),
            _ => None,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Tier::Free => "free",
            Tier::Pro => "pro",
            Tier::Enterprise => "enterprise",
        }
    }
}

/// Order status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Pending,
    Paid,
    Shipped,
    Cancelled,
}

impl Status {
    pub(crate) const ALL: [Status; 4] = [
        Status::Pending,
        Status::Paid,
        Status::Shipped,
        Status::Cancelled,
    ];

    pub(crate) fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Paid => "paid",
            Status::Shipped => "shipped",
            Status::Cancelled => "cancelled",
        }
    }

    /// Whether an order may move from `self` to `to` (staying put is allowed).
    pub(crate) fn can_become(self, to: Status) -> bool {
        use Status::{Cancelled, Paid, Pending, Shipped};
        self == to
            || matches!(
                (self, to),
                (Pending, Paid | Cancelled) | (Paid, Shipped | Cancelled)
            )
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Customer {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) email: String,
    pub(crate) tier: Tier,
    pub(crate) created_at: String,
    pub(crate) notes: Option<String>,
    pub(crate) card_number: Option<String>,
    pub(crate) internal_notes: String,
}

impl Customer {
    /// The declared shape.
    pub(crate) fn public(&self) -> Value {
        let mut obj = Map::new();
        obj.insert("id".into(), json!(self.id));
        obj.insert("name".into(), json!(self.name));
        obj.insert("email".into(), json!(self.email));
        obj.insert("tier".into(), json!(self.tier.as_str()));
        obj.insert("createdAt".into(), json!(self.created_at));
        if let Some(notes) = &self.notes {
            obj.insert("notes".into(), json!(notes));
        }
        Value::Object(obj)
    }

    /// Everything, card number and internal notes included (legacy/expand leaks).
    pub(crate) fn full(&self) -> Value {
        let mut value = self.public();
        if let Value::Object(obj) = &mut value {
            obj.insert("cardNumber".into(), json!(self.card_number));
            obj.insert("internalNotes".into(), json!(self.internal_notes));
        }
        value
    }
}

#[derive(Debug, Clone)]
pub(crate) struct LineItem {
    pub(crate) sku: String,
    pub(crate) quantity: u64,
    pub(crate) unit_price_cents: u64,
}

impl LineItem {
    /// A line item priced from the catalogue.
    pub(crate) fn priced(sku: String, quantity: u64) -> LineItem {
        let unit_price_cents = unit_price_cents(&sku);
        LineItem {
            sku,
            quantity,
            unit_price_cents,
        }
    }

    pub(crate) fn to_json(&self) -> Value {
        json!({
            "sku": self.sku,
            "quantity": self.quantity,
            "unitPriceCents": self.unit_price_cents,
        })
    }
}

/// Catalogue price of a SKU; unknown SKUs get a stable made-up price.
fn unit_price_cents(sku: &str) -> u64 {
    match sku {
        "WID-0001" => 1299,
        "GAD-0042" => 4999,
        "BOL-1000" => 25,
        "NUT-2000" => 15,
        "CAB-0300" => 899,
        other => {
            // FNV-1a, folded into 1.00 ..= 99.99
            let hash = other.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            });
            100 + hash % 9900
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Order {
    pub(crate) id: String,
    pub(crate) customer_id: String,
    pub(crate) status: Status,
    pub(crate) items: Vec<LineItem>,
    pub(crate) created_at: String,
    pub(crate) deliver_by: Option<String>,
    pub(crate) note: Option<String>,
    pub(crate) fraud_score: f64,
    pub(crate) internal_notes: String,
}

impl Order {
    pub(crate) fn total_cents(&self) -> u64 {
        self.items
            .iter()
            .map(|i| i.quantity.saturating_mul(i.unit_price_cents))
            .fold(0, u64::saturating_add)
    }

    /// What the business keeps: 37 % of the total (an internal figure).
    pub(crate) fn internal_margin_cents(&self) -> u64 {
        self.total_cents().saturating_mul(37) / 100
    }

    /// The declared shape.
    pub(crate) fn public(&self) -> Value {
        let mut obj = Map::new();
        obj.insert("id".into(), json!(self.id));
        obj.insert("customerId".into(), json!(self.customer_id));
        obj.insert("status".into(), json!(self.status.as_str()));
        obj.insert(
            "items".into(),
            Value::Array(self.items.iter().map(LineItem::to_json).collect()),
        );
        obj.insert("totalCents".into(), json!(self.total_cents()));
        obj.insert("createdAt".into(), json!(self.created_at));
        if let Some(deliver_by) = &self.deliver_by {
            obj.insert("deliverBy".into(), json!(deliver_by));
        }
        if let Some(note) = &self.note {
            obj.insert("note".into(), json!(note));
        }
        Value::Object(obj)
    }

    /// The declared shape plus undeclared internal fields (what
    /// `GET /v1/orders/{orderId}` really returns).
    pub(crate) fn detailed(&self) -> Value {
        let mut value = self.public();
        if let Value::Object(obj) = &mut value {
            obj.insert(
                "internalMarginCents".into(),
                json!(self.internal_margin_cents()),
            );
            obj.insert("fraudScore".into(), json!(self.fraud_score));
        }
        value
    }
}

/// All records, in insertion order.
#[derive(Debug)]
pub(crate) struct Store {
    pub(crate) customers: Vec<Customer>,
    pub(crate) orders: Vec<Order>,
    pub(crate) ids: IdGen,
}

impl Store {
    pub(crate) fn customer(&self, id: &str) -> Option<&Customer> {
        self.customers.iter().find(|c| c.id == id)
    }

    pub(crate) fn order(&self, id: &str) -> Option<&Order> {
        self.orders.iter().find(|o| o.id == id)
    }

    pub(crate) fn order_mut(&mut self, id: &str) -> Option<&mut Order> {
        self.orders.iter_mut().find(|o| o.id == id)
    }

    pub(crate) fn remove_order(&mut self, id: &str) -> Option<Order> {
        let index = self.orders.iter().position(|o| o.id == id)?;
        Some(self.orders.remove(index))
    }

    /// An order with everything: undeclared fields, the customer's card number
    /// and internal notes (the legacy `/v0` view).
    pub(crate) fn order_full(&self, order: &Order) -> Value {
        let mut value = order.detailed();
        let card = self
            .customer(&order.customer_id)
            .and_then(|c| c.card_number.clone());
        if let Value::Object(obj) = &mut value {
            obj.insert("cardNumber".into(), json!(card));
            obj.insert("internalNotes".into(), json!(order.internal_notes));
        }
        value
    }

    /// Creates and stores a customer.
    pub(crate) fn add_customer(
        &mut self,
        name: String,
        email: String,
        tier: Tier,
        notes: Option<String>,
    ) -> Customer {
        let customer = Customer {
            id: self.ids.next_uuid(),
            name,
            email,
            tier,
            created_at: now_rfc3339(),
            notes,
            card_number: None,
            internal_notes: String::new(),
        };
        self.customers.push(customer.clone());
        customer
    }

    /// Creates and stores a pending order.
    pub(crate) fn add_order(
        &mut self,
        customer_id: String,
        items: Vec<LineItem>,
        deliver_by: Option<String>,
        note: Option<String>,
    ) -> Order {
        let order = Order {
            id: self.ids.next_uuid(),
            customer_id,
            status: Status::Pending,
            items,
            created_at: now_rfc3339(),
            deliver_by,
            note,
            fraud_score: 0.07,
            internal_notes: String::new(),
        };
        self.orders.push(order.clone());
        order
    }
}
