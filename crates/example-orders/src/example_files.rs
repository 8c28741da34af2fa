//! The example's files, compiled in: what `portcullis demo` runs (exactly the
//! files `serve -c examples/orders/portcullis.yaml` reads).

/// (name as the configuration refers to it, text)
pub const FILES: &[(&str, &str)] = &[
    (
        "portcullis.yaml",
        include_str!("../../../examples/orders/portcullis.yaml"),
    ),
    (
        "openapi.yaml",
        include_str!("../../../examples/orders/openapi.yaml"),
    ),
    (
        "identities.yaml",
        include_str!("../../../examples/orders/identities.yaml"),
    ),
    (
        "upstream.key",
        include_str!("../../../examples/orders/upstream.key"),
    ),
    (
        "policies/delegation.cedar",
        include_str!("../../../examples/orders/policies/delegation.cedar"),
    ),
    (
        "policies/fulfilment.cedar",
        include_str!("../../../examples/orders/policies/fulfilment.cedar"),
    ),
    (
        "policies/partners.cedar",
        include_str!("../../../examples/orders/policies/partners.cedar"),
    ),
    (
        "policies/readers.cedar",
        include_str!("../../../examples/orders/policies/readers.cedar"),
    ),
];

#[cfg(test)]
mod tests {
    /// The demo embeds the example's files: a policy added to the folder
    /// but not embedded would make the demo differ from `serve` on the example.
    #[test]
    fn every_example_policy_is_embedded() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/orders");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir.join("policies"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| format!("policies/{}", e.file_name().to_string_lossy()))
            .collect();
        on_disk.sort();
        let mut embedded: Vec<String> = super::FILES
            .iter()
            .filter(|(n, _)| n.starts_with("policies/"))
            .map(|(n, _)| (*n).to_owned())
            .collect();
        embedded.sort();
        assert!(!on_disk.is_empty());
        assert_eq!(embedded, on_disk);
    }
}
