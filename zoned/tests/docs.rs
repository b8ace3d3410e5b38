//! The repository's documents stand on their own: every relative link of
//! README.md and docs/*.md names a file of the repository, none leaves it,
//! and each page of the contract that docs/README.md lists exists.

use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The targets of `[text](target)` links in a markdown text.
fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("](") {
        rest = &rest[i + 2..];
        if let Some(end) = rest.find(')') {
            out.push(rest[..end].to_string());
            rest = &rest[end..];
        }
    }
    out
}

#[test]
fn readme_and_docs_link_only_inside_the_repository() {
    let mut pages = vec![repo().join("README.md")];
    for e in std::fs::read_dir(repo().join("docs")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "md") {
            pages.push(p);
        }
    }
    assert!(pages.len() >= 12, "README and the 11 pages of docs/");
    for page in &pages {
        let text = std::fs::read_to_string(page).unwrap();
        assert!(
            !text.contains("../shared") && !text.contains("../seeds"),
            "{}: points outside the repository",
            page.display()
        );
        for l in links(&text) {
            if l.starts_with("http://") || l.starts_with("https://") {
                continue;
            }
            let file = l.split('#').next().unwrap();
            let target = page.parent().unwrap().join(file);
            assert!(
                target.exists(),
                "{}: link to {l} names nothing",
                page.display()
            );
            let real = target.canonicalize().unwrap();
            assert!(
                real.starts_with(repo().canonicalize().unwrap()),
                "{}: {l} leaves the repository",
                page.display()
            );
        }
    }
    for f in ["LICENSE-MIT", "LICENSE-APACHE"] {
        assert!(repo().join(f).is_file(), "{f}: the manifest names it");
    }
}
