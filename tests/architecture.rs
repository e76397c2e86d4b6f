//! The layers of `docs/architecture.md`, enforced: every `crate::…` reference in `src/` must be
//! an arrow the document's table allows, the table must have no cycle, and every top-level
//! module must have a row, so that a new module is placed in a layer on purpose.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Arrows = BTreeMap<String, BTreeSet<String>>;

fn repo(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// The rows of the "Allowed arrows" table: `| \`module\` | \`a\`, \`b\` |`.
fn allowed() -> Arrows {
    let text = std::fs::read_to_string(repo("docs/architecture.md")).expect("docs/architecture.md");
    let section = text
        .split("## Allowed arrows")
        .nth(1)
        .expect("an 'Allowed arrows' section");
    let mut arrows = Arrows::new();
    for line in section.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let names = |cell: &str| -> BTreeSet<String> {
            cell.split(',')
                .map(|name| name.trim().trim_matches('`').to_owned())
                .filter(|name| !name.is_empty())
                .collect()
        };
        let from = cells[1].trim_matches('`').to_owned();
        arrows.insert(from, names(cells.get(2).copied().unwrap_or_default()));
    }
    assert!(!arrows.is_empty(), "the table of allowed arrows is empty");
    arrows
}

/// One reference from a file to another top-level module.
#[derive(Debug)]
struct Reference {
    file: PathBuf,
    line: usize,
    to: String,
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable src/") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The top-level modules a line names: `crate::x…`, and each first name in `crate::{x, y::z}`.
fn named_modules(code: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        rest = &group[i..];
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if start && (c.is_ascii_alphanumeric() || c == '_') => {
                        let name: String = group[i..]
                            .chars()
                            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                            .collect();
                        names.push(name);
                        start = false;
                    }
                    _ => {}
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            names.push(name);
        }
    }
    names
}

/// Every reference in `src/` (the library's modules; the binaries only call into it) from
/// one top-level module to another, by the module it starts from.
fn references() -> BTreeMap<String, Vec<Reference>> {
    let src = repo("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut found: BTreeMap<String, Vec<Reference>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(&src).unwrap();
        let first = relative.components().next().unwrap().as_os_str();
        let module = first.to_string_lossy().trim_end_matches(".rs").to_owned();
        if ["bin", "main", "lib"].contains(&module.as_str()) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for (number, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for to in named_modules(code) {
                // The store's macro is exported at the crate root.
                let to = if to == "with_pool" {
                    "store".to_owned()
                } else {
                    to
                };
                if to != module {
                    found.entry(module.clone()).or_default().push(Reference {
                        file: relative.to_path_buf(),
                        line: number + 1,
                        to,
                    });
                }
            }
        }
        found.entry(module).or_default();
    }
    found
}

#[test]
fn every_import_in_src_is_an_arrow_the_architecture_document_allows() {
    let allowed = allowed();
    let mut forbidden = Vec::new();
    for (module, refs) in references() {
        let Some(may) = allowed.get(&module) else {
            forbidden.push(format!(
                "src/{module}: not in the table of docs/architecture.md; place it in a layer"
            ));
            continue;
        };
        for r in refs.iter().filter(|r| !may.contains(&r.to)) {
            forbidden.push(format!(
                "src/{}:{}: {module} → {} is not an allowed arrow",
                r.file.display(),
                r.line,
                r.to
            ));
        }
    }
    assert!(forbidden.is_empty(), "\n{}\n", forbidden.join("\n"));
}

#[test]
fn the_allowed_arrows_have_no_cycle() {
    let allowed = allowed();
    // Depth-first search with the path on a stack: a module met again on the path closes a
    // cycle.
    fn visit(
        module: &str,
        allowed: &Arrows,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|m| m == module) {
            let mut cycle = path[at..].to_vec();
            cycle.push(module.to_owned());
            return Some(cycle);
        }
        if !done.insert(module.to_owned()) {
            return None;
        }
        path.push(module.to_owned());
        for next in allowed.get(module).into_iter().flatten() {
            if let Some(cycle) = visit(next, allowed, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    for module in allowed.keys() {
        if let Some(cycle) = visit(module, &allowed, &mut Vec::new(), &mut done) {
            panic!("the allowed arrows form a cycle: {}", cycle.join(" → "));
        }
    }
}

#[test]
fn grouped_and_nested_imports_are_read_as_their_top_level_modules() {
    assert_eq!(
        named_modules("use crate::{http, gate::{Caller, Trace}, store};"),
        ["http", "gate", "store"]
    );
    assert_eq!(
        named_modules("let x = crate::store::audit::probe(&db); crate::gate::etag(1)"),
        ["store", "gate"]
    );
}
