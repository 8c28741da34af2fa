//! A stable-compiler smoke run of every fuzz target on random inputs
//! (bounded: a few hundred cases each), beside the saved corpus. The
//! coverage-guided run is cargo-fuzz's (see fuzz/README.md).

use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 400,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn canonical_path_random(bytes in proptest::collection::vec(any::<u8>(), 0..64), path in "/[a-z0-9%./;_~-]{0,40}") {
        portcullis_fuzz_targets::canonical_path(&bytes);
        portcullis_fuzz_targets::canonical_path(path.as_bytes());
    }

    #[test]
    fn bearer_token_random(token in "[A-Za-z0-9_.~+/=-]{0,200}") {
        portcullis_fuzz_targets::bearer_token(format!("Bearer {token}").as_bytes());
    }

    #[test]
    fn contract_loader_random(text in "(openapi: 3\\.[01]\\.0\n)?(info: \\{title: a, version: '1'\\}\n)?(paths:\n  /[a-z{}]{0,6}:\n    (get|post): \\{responses: \\{'200': \\{description: ok\\}\\}\\}\n)?[ -~\n]{0,40}") {
        portcullis_fuzz_targets::contract_loader(text.as_bytes());
    }

    #[test]
    fn json_body_random(bytes in proptest::collection::vec(any::<u8>(), 0..128), json in "\\{(\"[a-zA-Z]{1,10}\": ?(\"[ -~]{0,10}\"|[0-9]{1,5}|\\[\\]|\\{\\}|null|true),?){0,5}\\}") {
        portcullis_fuzz_targets::json_body(&bytes);
        portcullis_fuzz_targets::json_body(json.as_bytes());
    }
}
