//! The console's static files, embedded at build time: nothing is fetched
//! from anywhere else, at build or at run time. `htmx.min.js` is what
//! `web/`'s `npm run build` copies out of the locked package; CI checks it
//! has not drifted (`npm run check`).

/// One embedded file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asset {
    pub content_type: &'static str,
    pub body: &'static [u8],
}

const FILES: [(&str, Asset); 3] = [
    (
        "console.css",
        Asset {
            content_type: "text/css; charset=utf-8",
            body: include_bytes!("../assets/console.css"),
        },
    ),
    (
        "favicon.svg",
        Asset {
            content_type: "image/svg+xml",
            body: include_bytes!("../assets/favicon.svg"),
        },
    ),
    (
        "htmx.min.js",
        Asset {
            content_type: "text/javascript; charset=utf-8",
            body: include_bytes!("../assets/htmx.min.js"),
        },
    ),
];

/// The file named `name` (no directories), if there is one.
pub fn asset(name: &str) -> Option<Asset> {
    FILES
        .iter()
        .find(|(file, _)| *file == name)
        .map(|(_, asset)| *asset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_embedded_files_are_served() {
        assert!(asset("console.css").is_some_and(|a| a.content_type.starts_with("text/css")));
        assert!(asset("htmx.min.js").is_some_and(|a| !a.body.is_empty()));
        for name in ["../Cargo.toml", "", "console.css/", "CONSOLE.CSS"] {
            assert!(asset(name).is_none(), "{name}");
        }
    }
}
