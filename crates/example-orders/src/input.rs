//! Reading client input: pagination query parameters and JSON request
//! bodies. The checks are those of a typical service: types and obvious
//! bounds, but looser than the contract (unknown body fields are ignored,
//! SKU patterns and upper bounds are not checked), which is the gateway's job.

use serde_json::{Map, Value};

use crate::data::{LineItem, Status, Tier};
use crate::formats::{is_date_time, is_email, is_uuid};
use crate::normalize::Query;

/// Pagination window.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Page {
    pub(crate) limit: usize,
    pub(crate) offset: usize,
}

impl Page {
    /// `limit` (default 20, at most 100, at least `min_limit`) and `offset`
    /// (default 0).
    pub(crate) fn from_query(query: &Query, min_limit: usize) -> Result<Page, String> {
        let limit = match query.get("limit") {
            None => 20,
            Some(raw) => raw
                .parse::<usize>()
                .ok()
                .filter(|l| (min_limit..=100).contains(l))
                .ok_or_else(|| "limit must be an integer between 1 and 100".to_owned())?,
        };
        let offset = match query.get("offset") {
            None => 0,
            Some(raw) => raw
                .parse::<usize>()
                .map_err(|_| "offset must be a non-negative integer".to_owned())?,
        };
        Ok(Page { limit, offset })
    }

    pub(crate) fn apply<T>(self, items: impl IntoIterator<Item = T>) -> Vec<T> {
        items
            .into_iter()
            .skip(self.offset)
            .take(self.limit)
            .collect()
    }
}

fn object(body: &[u8]) -> Result<Map<String, Value>, String> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(obj)) => Ok(obj),
        Ok(_) => Err("request body must be a JSON object".to_owned()),
        Err(e) => Err(format!("invalid JSON: {e}")),
    }
}

fn required_str<'a>(obj: &'a Map<String, Value>, key: &str) -> Result<&'a str, String> {
    match obj.get(key) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(format!("{key} must be a string")),
        None => Err(format!("{key} is required")),
    }
}

fn optional_str(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("{key} must be a string")),
    }
}

/// Body of `POST /v1/customers`.
#[derive(Debug)]
pub(crate) struct NewCustomer {
    pub(crate) name: String,
    pub(crate) email: String,
    pub(crate) tier: Tier,
    /// Not part of the declared input, but honoured (mass assignment).
    pub(crate) notes: Option<String>,
}

impl NewCustomer {
    pub(crate) fn parse(body: &[u8]) -> Result<NewCustomer, String> {
        let obj = object(body)?;
        let name = required_str(&obj, "name")?;
        if !(1..=100).contains(&name.chars().count()) {
            return Err("name must be 1 to 100 characters".to_owned());
        }
        let email = required_str(&obj, "email")?;
        if !is_email(email) {
            return Err("email is not a valid e-mail address".to_owned());
        }
        let tier = Tier::parse(required_str(&obj, "tier")?)
            .ok_or_else(|| "tier must be one of free, pro, enterprise".to_owned())?;
        Ok(NewCustomer {
            name: name.to_owned(),
            email: email.to_owned(),
            tier,
            notes: optional_str(&obj, "notes")?,
        })
    }
}

/// One `{sku, quantity}` entry.
pub(crate) fn line_item(value: &Value) -> Result<LineItem, String> {
    let Value::Object(obj) = value else {
        return Err("line item must be an object".to_owned());
    };
    let sku = required_str(obj, "sku")?;
    if sku.is_empty() {
        return Err("sku must not be empty".to_owned());
    }
    let quantity = obj
        .get("quantity")
        .and_then(Value::as_u64)
        .filter(|q| *q >= 1)
        .ok_or_else(|| "quantity must be a positive integer".to_owned())?;
    Ok(LineItem::priced(sku.to_owned(), quantity))
}

/// Body of `POST /v1/orders/{orderId}/items`.
pub(crate) fn new_line_item(body: &[u8]) -> Result<LineItem, String> {
    line_item(&Value::Object(object(body)?))
}

/// Body of `POST /v1/orders`.
#[derive(Debug)]
pub(crate) struct NewOrder {
    pub(crate) customer_id: String,
    pub(crate) items: Vec<LineItem>,
    pub(crate) deliver_by: Option<String>,
    pub(crate) note: Option<String>,
}

impl NewOrder {
    pub(crate) fn parse(body: &[u8]) -> Result<NewOrder, String> {
        let obj = object(body)?;
        let customer_id = required_str(&obj, "customerId")?;
        if !is_uuid(customer_id) {
            return Err("customerId must be a UUID".to_owned());
        }
        let items = match obj.get("items") {
            Some(Value::Array(items)) if !items.is_empty() => {
                items.iter().map(line_item).collect::<Result<Vec<_>, _>>()?
            }
            Some(_) => return Err("items must be a non-empty array".to_owned()),
            None => return Err("items is required".to_owned()),
        };
        let deliver_by = optional_str(&obj, "deliverBy")?;
        if deliver_by.as_deref().is_some_and(|d| !is_date_time(d)) {
            return Err("deliverBy must be an RFC 3339 date-time".to_owned());
        }
        Ok(NewOrder {
            customer_id: customer_id.to_owned(),
            items,
            deliver_by,
            note: optional_str(&obj, "note")?,
        })
    }
}

/// Body of `PATCH /v1/orders/{orderId}`.
pub(crate) fn status_update(body: &[u8]) -> Result<Status, String> {
    let obj = object(body)?;
    Status::parse(required_str(&obj, "status")?)
        .ok_or_else(|| "status must be one of pending, paid, shipped, cancelled".to_owned())
}
