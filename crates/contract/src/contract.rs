//! A loaded contract: its operations, route table and identity (version and
//! digest), and the document as enforced.

use serde_json::Value;

use crate::document::Source;
use crate::error::LoadError;
use crate::model::Operation;
use crate::router::{RouteMatch, Router};

/// One API's compiled contract. Immutable once built; shared by every request.
#[derive(Debug)]
pub struct Contract {
    version: String,
    digest: String,
    operations: Vec<Operation>,
    router: Router,
    document: Value,
    warnings: Vec<LoadError>,
}

impl Contract {
    pub(crate) fn new(
        version: String,
        digest: String,
        operations: Vec<Operation>,
        router: Router,
        document: Value,
        warnings: Vec<LoadError>,
    ) -> Self {
        Self {
            version,
            digest,
            operations,
            router,
            document,
            warnings,
        }
    }

    /// Loads and compiles the contract whose root document is `root`.
    pub fn load(root: &str, source: &dyn Source) -> Result<Self, Vec<LoadError>> {
        crate::load::load(root, source)
    }

    /// `info.version` as the contract states it.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// SHA-256 (hex) of every document the contract was loaded from.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    pub fn operations(&self) -> &[Operation] {
        &self.operations
    }

    pub fn operation(&self, index: usize) -> Option<&Operation> {
        self.operations.get(index)
    }

    /// The root document, as loaded.
    pub fn document(&self) -> &Value {
        &self.document
    }

    /// Matches a canonical path (relative to the mount) and method.
    pub fn route<'c, 'p>(&'c self, method: &str, path: &'p str) -> RouteMatch<'c, 'p> {
        self.router.find(method, path)
    }

    /// Findings that do not stop loading (shown by `portcullis check`),
    /// located like load errors.
    pub fn warnings(&self) -> &[LoadError] {
        &self.warnings
    }
}
