use crate::testing::{load, store};

/// The diagnostics of a policy set that must not load, as (file, line).
fn errors(files: &[(&str, &str)]) -> Vec<(String, u32, String)> {
    match load(files) {
        Ok(_) => panic!("policies loaded"),
        Err(d) => d
            .iter()
            .map(|d| (d.file().to_owned(), d.line(), d.message().to_owned()))
            .collect(),
    }
}

#[test]
fn a_misspelt_action_is_a_load_error_with_file_and_line() {
    let found = errors(&[(
        "tenant.cedar",
        "// tenants\n\npermit(\n  principal,\n  action == Action::\"orders:getCustomr\",\n  resource\n);\n",
    )]);
    let [(file, line, message)] = found.as_slice() else {
        panic!("{found:?}")
    };
    assert_eq!((file.as_str(), *line), ("tenant.cedar", 5));
    assert!(message.contains("orders:getCustomer"), "{message}");
}

#[test]
fn an_unknown_entity_type_is_a_load_error() {
    let found = errors(&[(
        "a.cedar",
        "permit(principal, action, resource);\npermit(principal is User, action, resource);\n",
    )]);
    assert_eq!(
        found
            .iter()
            .map(|(f, l, _)| (f.as_str(), *l))
            .collect::<Vec<_>>(),
        [("a.cedar", 2)],
        "{found:?}"
    );
}

#[test]
fn an_unknown_context_attribute_is_a_load_error() {
    let found = errors(&[(
        "a.cedar",
        "permit(principal, action == Action::\"orders:getOrder\", resource)\nwhen {\n  context.params.orderID > 3\n};\n",
    )]);
    assert_eq!(
        found
            .iter()
            .map(|(f, l, _)| (f.as_str(), *l))
            .collect::<Vec<_>>(),
        [("a.cedar", 3)],
        "{found:?}"
    );
}

#[test]
fn syntax_errors_are_located_and_do_not_hide_other_errors() {
    let found = errors(&[
        (
            "a.cedar",
            "permit(principal, action, resource);\n\npermit(principal, action resource);\n",
        ),
        (
            "b.cedar",
            "forbid(principal, action, resource) when { principal.name == \"x\" };",
        ),
    ]);
    let located: Vec<(&str, u32)> = found.iter().map(|(f, l, _)| (f.as_str(), *l)).collect();
    // The policies that parse are validated in the same run.
    assert_eq!(located, [("a.cedar", 3), ("b.cedar", 1)], "{found:?}");
}

#[test]
fn templates_are_refused() {
    let found = errors(&[(
        "a.cedar",
        "permit(principal == ?principal, action, resource);",
    )]);
    assert_eq!(found.len(), 1, "{found:?}");
}

#[test]
fn ids_come_from_id_annotations_else_file_and_line() {
    let store = store(&[(
        "read.cedar",
        "@id(\"readers\")\npermit(principal, action in Action::\"orders:read\", resource);\n\nforbid(principal, action, resource) when { principal.environment == \"dev\" };\n",
    )]);
    assert_eq!(
        store.policy_ids().collect::<Vec<_>>(),
        ["read.cedar:4", "readers"]
    );
    let origin = store.origin("readers").unwrap();
    assert_eq!((origin.file(), origin.line()), ("read.cedar", 1));
}

#[test]
fn a_duplicate_id_across_files_is_an_error() {
    let found = errors(&[
        (
            "b.cedar",
            "\n@id(\"x\")\nforbid(principal, action, resource);",
        ),
        (
            "a.cedar",
            "@id(\"x\")\npermit(principal, action, resource);",
        ),
    ]);
    let [(file, line, message)] = found.as_slice() else {
        panic!("{found:?}")
    };
    assert_eq!((file.as_str(), *line), ("b.cedar", 2));
    assert!(message.contains("a.cedar:1"), "{message}");
}

#[test]
fn no_policy_is_an_empty_store_not_an_error() {
    assert!(store(&[]).is_empty());
    assert!(store(&[("a.cedar", "// nothing yet\n")]).is_empty());
    assert!(!store(&[("a.cedar", "forbid(principal, action, resource);")]).is_empty());
}

#[test]
fn each_action_gets_only_the_policies_that_can_match_it() {
    let store = store(&[(
        "a.cedar",
        "permit(principal, action == Action::\"orders:getOrder\", resource);
         permit(principal, action in Action::\"orders:read\", resource);
         permit(principal, action in [Action::\"orders:write\", Action::\"orders:getOrder\"], resource);
         forbid(principal, action, resource) when { principal.environment == \"dev\" };",
    )]);
    assert_eq!(store.slice_len("orders", "getOrder"), Some(4));
    assert_eq!(store.slice_len("orders", "getCustomer"), Some(2));
    assert_eq!(store.slice_len("orders", "cancelOrder"), Some(2));
    assert_eq!(store.slice_len("orders", "nope"), None);
}
