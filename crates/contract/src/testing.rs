//! Test helpers: contracts from inline text.

use crate::{Contract, LoadError, Source};

pub(crate) struct Files(pub Vec<(&'static str, String)>);

impl Source for Files {
    fn read(&self, path: &str) -> Result<String, String> {
        self.0
            .iter()
            .find(|(p, _)| *p == path)
            .map(|(_, t)| t.clone())
            .ok_or_else(|| "no such file".to_owned())
    }
}

/// Wraps `paths` (YAML, indented two spaces) into an OpenAPI 3.1 document.
pub(crate) fn doc31(paths: &str) -> String {
    format!("openapi: 3.1.0\ninfo: {{title: t, version: '1'}}\npaths:\n{paths}")
}

pub(crate) fn load(text: &str) -> Result<Contract, Vec<LoadError>> {
    Contract::load("api.yaml", &Files(vec![("api.yaml", text.to_owned())]))
}

pub(crate) fn contract(text: &str) -> Contract {
    match load(text) {
        Ok(c) => c,
        Err(errors) => panic!("contract does not load: {errors:#?}"),
    }
}
