//! The README and the pages of `docs/` stay true to the tree: every path
//! the code tour names exists, and every relative link points at a file.

use std::path::{Path, PathBuf};

/// The repository's root.
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// The paths in the first column of the README's code tour.
fn tour_paths(readme: &str) -> Vec<String> {
    let tour = readme
        .split("\n## Code tour")
        .nth(1)
        .expect("a code tour")
        .split("\n## ")
        .next()
        .expect("its text");
    tour.lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|row| row.split('`').next())
        .map(str::to_owned)
        .collect()
}

/// The relative link targets of a Markdown text, without their anchors.
fn relative_links(text: &str) -> Vec<String> {
    text.split("](")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .filter(|target| !target.contains("://") && !target.starts_with('#'))
        .filter(|target| !target.starts_with("mailto:"))
        .map(|target| target.split('#').next().unwrap_or(target).to_owned())
        .collect()
}

#[test]
fn every_path_the_code_tour_names_exists() {
    let paths = tour_paths(&read(&root().join("README.md")));
    assert!(paths.len() > 10, "the tour names its paths: {paths:?}");
    let missing: Vec<&String> = paths
        .iter()
        .filter(|path| !root().join(path).exists())
        .collect();
    assert!(missing.is_empty(), "the code tour names {missing:?}");
}

#[test]
fn every_relative_link_of_the_docs_points_at_a_file() {
    let mut pages = vec![root().join("README.md"), root().join("bench/README.md")];
    for entry in std::fs::read_dir(root().join("docs")).expect("docs/") {
        pages.push(entry.expect("an entry").path());
    }
    let mut broken = Vec::new();
    for page in &pages {
        let folder = page.parent().expect("a folder");
        for target in relative_links(&read(page)) {
            if !folder.join(&target).exists() {
                broken.push(format!("{}: {target}", page.display()));
            }
        }
    }
    assert!(broken.is_empty(), "broken links: {broken:?}");
}
