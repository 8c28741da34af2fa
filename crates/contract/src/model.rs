//! The compiled form of a contract: operations with their parameters, bodies
//! and responses, ready to check requests without touching the documents again.

use crate::schema::Schema;

/// HTTP methods an OpenAPI path item can declare. TRACE is refused at load:
/// the gateway never forwards it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    Get,
    Put,
    Post,
    Delete,
    Options,
    Head,
    Patch,
}

impl Method {
    pub const ALL: [Method; 7] = [
        Method::Get,
        Method::Put,
        Method::Post,
        Method::Delete,
        Method::Options,
        Method::Head,
        Method::Patch,
    ];

    /// The method as written on the wire (upper case).
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Put => "PUT",
            Method::Post => "POST",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
            Method::Head => "HEAD",
            Method::Patch => "PATCH",
        }
    }

    /// The key of a path item that declares this method.
    pub fn openapi_key(self) -> &'static str {
        match self {
            Method::Get => "get",
            Method::Put => "put",
            Method::Post => "post",
            Method::Delete => "delete",
            Method::Options => "options",
            Method::Head => "head",
            Method::Patch => "patch",
        }
    }

    /// Parses a wire method; methods are case-sensitive (RFC 9110).
    pub fn from_wire(method: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == method)
    }

    /// Whether the method changes state (Cedar groups actions by this).
    pub fn is_write(self) -> bool {
        !matches!(self, Method::Get | Method::Head | Method::Options)
    }
}

/// Where a parameter is carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamIn {
    Path,
    Query,
    Header,
}

impl ParamIn {
    pub fn as_str(self) -> &'static str {
        match self {
            ParamIn::Path => "path",
            ParamIn::Query => "query",
            ParamIn::Header => "header",
        }
    }
}

/// The JSON type a parameter's text is read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    Integer,
    Number,
    Boolean,
    String,
}

/// The shape of a parameter's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamShape {
    /// One value; several candidate types are tried in order.
    Scalar(Vec<Scalar>),
    /// A list; `explode` means one occurrence per item (`?a=1&a=2`), otherwise
    /// comma-separated (`?a=1,2`).
    Array { items: Vec<Scalar>, explode: bool },
}

/// One declared parameter.
#[derive(Debug)]
pub struct Param {
    pub name: String,
    pub location: ParamIn,
    pub required: bool,
    pub shape: ParamShape,
    pub schema: Option<Schema>,
}

/// How a request or response body of one media type is checked.
#[derive(Debug)]
pub struct MediaSpec {
    /// Lower-case media type as declared: `application/json`, `text/*`, `*/*`.
    pub media_type: String,
    /// Parsed and validated as JSON (`application/json`, `*+json`).
    pub json: bool,
    pub schema: Option<Schema>,
}

/// A declared request body.
#[derive(Debug)]
pub struct BodySpec {
    pub required: bool,
    pub media: Vec<MediaSpec>,
}

/// Which statuses a response entry covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusKey {
    Exact(u16),
    /// `2XX` and friends: the hundreds digit.
    Range(u16),
    Default,
}

/// A declared response.
#[derive(Debug)]
pub struct ResponseSpec {
    pub status: StatusKey,
    /// Empty: the response has no body.
    pub media: Vec<MediaSpec>,
    /// The header names the response declares, lower case.
    pub headers: Vec<String>,
}

/// One security requirement: every scheme named must be satisfied, with its scopes.
pub type SecurityRequirement = Vec<(String, Vec<String>)>;

/// One contract operation.
#[derive(Debug)]
pub struct Operation {
    pub id: String,
    /// True when the contract gave no `operationId` and one was derived.
    pub generated_id: bool,
    /// The contract's own words for it (what an agent reads as a tool's
    /// title and description).
    pub summary: Option<String>,
    pub description: Option<String>,
    pub method: Method,
    /// The path template as the contract writes it.
    pub path: String,
    pub params: Vec<Param>,
    pub body: Option<BodySpec>,
    pub responses: Vec<ResponseSpec>,
    /// Alternatives: any one requirement satisfies the operation. Empty: none needed.
    pub security: Vec<SecurityRequirement>,
}

impl Operation {
    /// The response entry covering `status`: exact first, then range, then default.
    pub fn response_for(&self, status: u16) -> Option<&ResponseSpec> {
        let hundreds = status / 100;
        self.responses
            .iter()
            .find(|r| r.status == StatusKey::Exact(status))
            .or_else(|| {
                self.responses
                    .iter()
                    .find(|r| r.status == StatusKey::Range(hundreds))
            })
            .or_else(|| {
                self.responses
                    .iter()
                    .find(|r| r.status == StatusKey::Default)
            })
    }

    /// Every scope any of the operation's security requirements names (a
    /// scope may repeat across requirements).
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.security
            .iter()
            .flatten()
            .flat_map(|(_, scopes)| scopes.iter().map(String::as_str))
    }

    /// Whether `granted` satisfies one of the operation's security
    /// requirements (each lists scopes that must all be present). On refusal,
    /// the scopes of the requirement closest to being met, for the
    /// `WWW-Authenticate` challenge. No requirements: nothing is needed.
    pub fn check_scopes<S: AsRef<str>>(&self, granted: &[S]) -> Result<(), Vec<&str>> {
        // Counted in place: the usual answer (allowed) allocates nothing.
        let missing = |requirement: &SecurityRequirement| {
            requirement
                .iter()
                .flat_map(|(_, scopes)| scopes)
                .filter(|s| !granted.iter().any(|g| g.as_ref() == s.as_str()))
                .count()
        };
        let closest = self.security.iter().min_by_key(|r| missing(r));
        match closest {
            Some(requirement) if missing(requirement) > 0 => Err(requirement
                .iter()
                .flat_map(|(_, scopes)| scopes.iter().map(String::as_str))
                .collect()),
            _ => Ok(()),
        }
    }

    /// Parameters carried in `location`.
    pub fn params_in(&self, location: ParamIn) -> impl Iterator<Item = &Param> {
        self.params.iter().filter(move |p| p.location == location)
    }
}

/// Finds the media entry a content type matches: exact, then `type/*`, then `*/*`.
pub fn media_for<'a>(media: &'a [MediaSpec], content_type: &str) -> Option<&'a MediaSpec> {
    let main = content_type.split('/').next().unwrap_or("");
    media
        .iter()
        .find(|m| m.media_type == content_type)
        .or_else(|| {
            media
                .iter()
                .find(|m| m.media_type.strip_suffix("/*").is_some_and(|t| t == main))
        })
        .or_else(|| media.iter().find(|m| m.media_type == "*/*"))
}

/// The essence of a `Content-Type` value (`type/subtype`, lower case), and its
/// charset if one is given.
pub fn parse_content_type(value: &str) -> (String, Option<String>) {
    let mut parts = value.split(';');
    let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let charset = parts.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches('"').to_ascii_lowercase())
    });
    (essence, charset)
}

/// Whether a media type is JSON (`application/json` or a `+json` suffix).
pub fn is_json_media(media_type: &str) -> bool {
    media_type == "application/json" || media_type.ends_with("+json")
}
