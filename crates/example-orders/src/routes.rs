//! The declared API (`/v1`, as in `examples/orders/openapi.yaml`), routed by
//! hand on normalised path segments. A few handlers misbehave in ways the
//! contract does not declare (see `leaks.rs` for the helpers they use).

use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::data::Status;
use crate::formats::is_uuid;
use crate::input::{NewCustomer, NewOrder, Page, new_line_item, status_update};
use crate::leaks::{self, Crash};
use crate::normalize::Query;
use crate::respond::{Resp, error, json, method_not_allowed, no_content};
use crate::seed;
use crate::server::AppState;

/// One request, as the router sees it.
#[derive(Debug)]
pub(crate) struct Ctx<'a> {
    pub(crate) state: &'a AppState,
    pub(crate) method: &'a Method,
    pub(crate) segments: &'a [&'a str],
    pub(crate) query: Option<&'a str>,
    pub(crate) body: &'a [u8],
}

impl Ctx<'_> {
    pub(crate) fn query(&self) -> Query {
        Query::parse(self.query)
    }
}

/// Routes the declared API; `None` when the path is not one of its paths.
pub(crate) fn declared(ctx: &Ctx<'_>) -> Option<Resp> {
    let m = ctx.method;
    let response = match *ctx.segments {
        ["v1", "customers"] => match *m {
            Method::GET => list_customers(ctx),
            Method::POST => create_customer(ctx),
            _ => method_not_allowed("GET, POST"),
        },
        ["v1", "customers", id] => match *m {
            Method::GET => get_customer(ctx, id),
            _ => method_not_allowed("GET"),
        },
        ["v1", "customers", id, "orders"] => match *m {
            Method::GET => list_customer_orders(ctx, id),
            _ => method_not_allowed("GET"),
        },
        ["v1", "orders"] => match *m {
            Method::GET => list_orders(ctx),
            Method::POST => create_order(ctx),
            _ => method_not_allowed("GET, POST"),
        },
        // The literal segment wins over the `{orderId}` template.
        ["v1", "orders", "summary"] => match *m {
            Method::GET => order_summary(ctx),
            _ => method_not_allowed("GET"),
        },
        ["v1", "orders", id] => match *m {
            Method::GET => get_order(ctx, id),
            Method::PATCH => update_order_status(ctx, id),
            Method::DELETE => cancel_order(ctx, id),
            _ => method_not_allowed("GET, PATCH, DELETE"),
        },
        ["v1", "orders", id, "items"] => match *m {
            Method::GET => list_order_items(ctx, id),
            Method::POST => add_order_item(ctx, id),
            _ => method_not_allowed("GET, POST"),
        },
        _ => return None,
    };
    Some(response)
}

fn bad_request(message: &str) -> Resp {
    error(StatusCode::BAD_REQUEST, message)
}

fn not_found() -> Resp {
    error(StatusCode::NOT_FOUND, "not found")
}

fn list_customers(ctx: &Ctx<'_>) -> Resp {
    let query = ctx.query();
    let page = match Page::from_query(&query, 1) {
        Ok(page) => page,
        Err(msg) => return bad_request(&msg),
    };
    let tier = match query.get("tier") {
        None => None,
        Some(raw) => match crate::data::Tier::parse(raw) {
            Some(tier) => Some(tier),
            None => return bad_request("tier must be one of free, pro, enterprise"),
        },
    };
    let store = ctx.state.store();
    let matching: Vec<Value> = store
        .customers
        .iter()
        .filter(|c| tier.is_none_or(|t| c.tier == t))
        .map(|c| c.public())
        .collect();
    let total = matching.len();
    json(
        StatusCode::OK,
        &json!({ "items": page.apply(matching), "total": total }),
    )
}

fn create_customer(ctx: &Ctx<'_>) -> Resp {
    let new = match NewCustomer::parse(ctx.body) {
        Ok(new) => new,
        Err(msg) => return bad_request(&msg),
    };
    let customer = ctx
        .state
        .store()
        .add_customer(new.name, new.email, new.tier, new.notes);
    json(StatusCode::CREATED, &customer.public())
}

fn get_customer(ctx: &Ctx<'_>, id: &str) -> Resp {
    match ctx.state.store().customer(id) {
        Some(customer) => json(StatusCode::OK, &customer.public()),
        None => not_found(),
    }
}

fn list_customer_orders(ctx: &Ctx<'_>, id: &str) -> Resp {
    let page = match Page::from_query(&ctx.query(), 1) {
        Ok(page) => page,
        Err(msg) => return bad_request(&msg),
    };
    let store = ctx.state.store();
    if store.customer(id).is_none() {
        return not_found();
    }
    let matching: Vec<Value> = store
        .orders
        .iter()
        .filter(|o| o.customer_id == id)
        .map(|o| o.public())
        .collect();
    let total = matching.len();
    json(
        StatusCode::OK,
        &json!({ "items": page.apply(matching), "total": total }),
    )
}

fn list_orders(ctx: &Ctx<'_>) -> Resp {
    let query = ctx.query();
    // limit=0 gets through here and divides by zero further down.
    let page = match Page::from_query(&query, 0) {
        Ok(page) => page,
        Err(msg) => return bad_request(&msg),
    };
    let status = match query.get("status") {
        None => None,
        Some(raw) => match Status::parse(raw) {
            Some(status) => Some(status),
            None => return bad_request("status must be one of pending, paid, shipped, cancelled"),
        },
    };
    let customer_id = query.get("customerId");
    if customer_id.is_some_and(|id| !is_uuid(id)) {
        return bad_request("customerId must be a UUID");
    }
    let store = ctx.state.store();
    let matching: Vec<Value> = store
        .orders
        .iter()
        .filter(|o| status.is_none_or(|s| o.status == s))
        .filter(|o| customer_id.is_none_or(|c| o.customer_id == c))
        .map(|o| o.public())
        .collect();
    let total = matching.len();
    // "pages = total / limit" in the real service's story.
    if total.checked_div(page.limit).is_none() {
        return leaks::crash(Crash::DivideByZero);
    }
    json(
        StatusCode::OK,
        &json!({ "items": page.apply(matching), "total": total }),
    )
}

fn create_order(ctx: &Ctx<'_>) -> Resp {
    let new = match NewOrder::parse(ctx.body) {
        Ok(new) => new,
        Err(msg) => return bad_request(&msg),
    };
    let mut store = ctx.state.store();
    if store.customer(&new.customer_id).is_none() {
        return bad_request("unknown customerId");
    }
    let order = store.add_order(new.customer_id, new.items, new.deliver_by, new.note);
    json(StatusCode::CREATED, &order.public())
}

fn order_summary(ctx: &Ctx<'_>) -> Resp {
    let store = ctx.state.store();
    let by_status: serde_json::Map<String, Value> = Status::ALL
        .iter()
        .map(|s| {
            let n = store.orders.iter().filter(|o| o.status == *s).count();
            (s.as_str().to_owned(), json!(n))
        })
        .collect();
    json(
        StatusCode::OK,
        &json!({ "byStatus": by_status, "total": store.orders.len() }),
    )
}

fn get_order(ctx: &Ctx<'_>, id: &str) -> Resp {
    if id == seed::ORDER_POISON {
        return leaks::crash(Crash::PoisonOrder);
    }
    let expand_all = ctx.query().get("expand") == Some("all");
    let store = ctx.state.store();
    let Some(order) = store.order(id) else {
        return not_found();
    };
    // Undeclared fields (internalMarginCents, fraudScore) on a declared response.
    let mut body = order.detailed();
    if expand_all && let Value::Object(obj) = &mut body {
        // Undeclared query parameter: embeds the full customer, card included.
        let customer = store.customer(&order.customer_id).map(|c| c.full());
        obj.insert("customer".into(), customer.unwrap_or(Value::Null));
    }
    json(StatusCode::OK, &body)
}

fn update_order_status(ctx: &Ctx<'_>, id: &str) -> Resp {
    let status = match status_update(ctx.body) {
        Ok(status) => status,
        Err(msg) => return bad_request(&msg),
    };
    let mut store = ctx.state.store();
    let Some(order) = store.order_mut(id) else {
        return not_found();
    };
    if !order.status.can_become(status) {
        let msg = format!(
            "cannot change status from {} to {}",
            order.status.as_str(),
            status.as_str()
        );
        return error(StatusCode::CONFLICT, &msg);
    }
    order.status = status;
    json(StatusCode::OK, &order.public())
}

fn cancel_order(ctx: &Ctx<'_>, id: &str) -> Resp {
    let mut store = ctx.state.store();
    match store.order(id).map(|o| o.status) {
        None => not_found(),
        // Undeclared: the contract only declares 204 and 404 for DELETE.
        Some(Status::Shipped) => error(StatusCode::CONFLICT, "order already shipped"),
        Some(_) => {
            store.remove_order(id);
            no_content()
        }
    }
}

fn list_order_items(ctx: &Ctx<'_>, id: &str) -> Resp {
    match ctx.state.store().order(id) {
        Some(order) => {
            let items: Vec<Value> = order.items.iter().map(|i| i.to_json()).collect();
            json(StatusCode::OK, &json!({ "items": items }))
        }
        None => not_found(),
    }
}

fn add_order_item(ctx: &Ctx<'_>, id: &str) -> Resp {
    let item = match new_line_item(ctx.body) {
        Ok(item) => item,
        Err(msg) => return bad_request(&msg),
    };
    let mut store = ctx.state.store();
    let Some(order) = store.order_mut(id) else {
        return not_found();
    };
    let body = item.to_json();
    order.items.push(item);
    json(StatusCode::CREATED, &body)
}
