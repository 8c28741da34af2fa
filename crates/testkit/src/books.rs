//! A third-party upstream shaped like a small Flask/Connexion API (users,
//! logins, books), answering `fixtures/books/openapi.yaml` under `/api` as
//! such services do in the wild: every answer names its stack in `Server`,
//! the login tells "no such user" from "wrong password" (account
//! enumeration), and an undeclared `/api/admin/users` dumps every user
//! with their password.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// The `Server` header every answer carries.
pub const BOOKS_SERVER: &str = "Werkzeug/2.2.3 Python/3.11.7";
/// The one user whose password is known (to tests and the fixture's verify).
pub const USER: &str = "name1";
pub const PASSWORD: &str = "pass1";

/// A running books upstream; aborted when dropped.
#[derive(Debug)]
pub struct Books {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Books {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Debug)]
struct State {
    users: Vec<Value>,
    books: Vec<Value>,
}

impl Books {
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State {
            users: vec![
                json!({"username": USER, "email": "mail1@mail.com", "admin": false, "password": PASSWORD}),
                json!({"username": "admin", "email": "admin@mail.com", "admin": true, "password": "pass1admin"}),
            ],
            books: vec![
                json!({"book_title": "bookTitle77", "secret": "secret for bookTitle77", "user": USER, "year": 2019}),
                json!({"book_title": "bookTitle22", "secret": "secret for bookTitle22", "user": "admin", "year": null}),
            ],
        }));
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = Arc::clone(&state);
                tokio::spawn(async move {
                    let service = service_fn(move |req| handle(Arc::clone(&state), req));
                    let _ = auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self { addr, task })
    }

    /// The upstream URL to configure: its API lives under `/api`.
    pub fn url(&self) -> String {
        format!("http://{}/api", self.addr)
    }
}

async fn handle(
    state: Arc<Mutex<State>>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let (status, answer) = match state.lock() {
        Ok(mut state) => route(&mut state, &method, &path, &body),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, None),
    };
    let mut response = Response::new(Full::new(Bytes::from(
        answer.map(|v| v.to_string()).unwrap_or_default(),
    )));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert("server", http::HeaderValue::from_static(BOOKS_SERVER));
    if status != StatusCode::NO_CONTENT {
        headers.insert(
            "content-type",
            http::HeaderValue::from_static("application/json"),
        );
    }
    Ok(response)
}

fn fail(status: StatusCode, message: &str) -> (StatusCode, Option<Value>) {
    (status, Some(json!({"status": "fail", "message": message})))
}

fn public(user: &Value) -> Value {
    json!({"username": user["username"], "email": user["email"], "admin": user["admin"]})
}

fn route(
    state: &mut State,
    method: &Method,
    path: &str,
    body: &Value,
) -> (StatusCode, Option<Value>) {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (method, segments.as_slice()) {
        (&Method::POST, ["api", "users", "login"]) => login(state, body),
        (&Method::GET, ["api", "users"]) => {
            let users: Vec<Value> = state.users.iter().map(public).collect();
            (StatusCode::OK, Some(json!({ "users": users })))
        }
        // Undeclared, as debug routes are: every user, password included.
        (&Method::GET, ["api", "admin", "users"]) => {
            (StatusCode::OK, Some(json!({ "users": state.users })))
        }
        (&Method::GET, ["api", "users", name]) => {
            match state.users.iter().find(|u| u["username"] == *name) {
                Some(u) => (StatusCode::OK, Some(public(u))),
                None => fail(StatusCode::NOT_FOUND, "User not found"),
            }
        }
        (&Method::PUT, ["api", "users", name, "email"]) => {
            match state.users.iter_mut().find(|u| u["username"] == *name) {
                Some(u) => {
                    if let Some(fields) = u.as_object_mut() {
                        fields.insert("email".into(), body["email"].clone());
                    }
                    (StatusCode::NO_CONTENT, None)
                }
                None => fail(StatusCode::NOT_FOUND, "User not found"),
            }
        }
        (&Method::GET, ["api", "books"]) => (StatusCode::OK, Some(json!({ "books": state.books }))),
        (&Method::POST, ["api", "books"]) => {
            let mut book = body.clone();
            if let Some(fields) = book.as_object_mut() {
                fields.insert("user".into(), json!(USER));
            }
            state.books.push(book.clone());
            (StatusCode::CREATED, Some(book))
        }
        (&Method::GET, ["api", "books", title]) => {
            match state.books.iter().find(|b| b["book_title"] == *title) {
                Some(b) => (StatusCode::OK, Some(b.clone())),
                None => fail(StatusCode::NOT_FOUND, "Book not found"),
            }
        }
        (&Method::DELETE, ["api", "books", title]) => {
            let before = state.books.len();
            state.books.retain(|b| b["book_title"] != *title);
            if state.books.len() < before {
                (StatusCode::NO_CONTENT, None)
            } else {
                fail(StatusCode::NOT_FOUND, "Book not found")
            }
        }
        _ => fail(
            StatusCode::NOT_FOUND,
            "The requested URL was not found on the server.",
        ),
    }
}

/// Connexion-style: a refused login is still 200, and its message says
/// whether the user exists.
fn login(state: &State, body: &Value) -> (StatusCode, Option<Value>) {
    let Some(user) = state
        .users
        .iter()
        .find(|u| u["username"] == body["username"])
    else {
        return fail(StatusCode::OK, "Username does not exist");
    };
    if user["password"] != body["password"] {
        return fail(
            StatusCode::OK,
            "Password is not correct for the given username.",
        );
    }
    (
        StatusCode::OK,
        Some(
            json!({"status": "success", "message": "Successfully logged in.", "auth_token": "session-for-name1"}),
        ),
    )
}
