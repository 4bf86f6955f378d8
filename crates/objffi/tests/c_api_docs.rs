//! `docs/c-api.md`, the C API reference, is generated from the header: this
//! test renders it from the generated `objffi.h` and fails when the committed
//! page differs. `ci/header.sh --bless` (or `OBJFFI_BLESS=1`) rewrites it.
//!
//! The page follows the header: its opening conventions, the macros before
//! the first section, then one part per section banner of `build.rs`, each
//! declaration (constant, type or function) with its declaration in a C
//! block and its doc comment as text.

use std::fs;
use std::path::Path;

/// One declaration of the header and the doc comment before it.
struct Item {
    /// The declared name (`obj_heap_new`, `obj_heap_stats_t`, `OBJ_OK`).
    name: String,
    /// The declaration as the header writes it.
    declaration: String,
    /// The doc comment's text, without the comment markers.
    doc: String,
}

/// A section of the header: its banner's title and its declarations.
struct Section {
    title: String,
    items: Vec<Item>,
}

/// The header split into its opening comment, the lines between the
/// includes and the first section, and its sections.
struct Header {
    conventions: String,
    preamble: String,
    sections: Vec<Section>,
}

const BANNER: &str = "/* ========";

/// The name a declaration declares: the macro, the typedef, or the function.
fn declared_name(declaration: &str) -> String {
    if let Some(rest) = declaration.strip_prefix("#define ") {
        return rest
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned();
    }
    let head = match declaration.find('(') {
        // A function pointer typedef: `typedef R (*name)(...)`.
        Some(_) if declaration.starts_with("typedef") && declaration.contains("(*") => {
            let start = declaration.find("(*").map_or(0, |i| i + 2);
            let end = declaration[start..]
                .find(')')
                .map_or(declaration.len(), |i| start + i);
            return declaration[start..end].to_owned();
        }
        Some(open) => &declaration[..open],
        None => declaration.trim_end_matches(';'),
    };
    head.rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .find(|w| !w.is_empty())
        .unwrap_or_default()
        .to_owned()
}

/// The text of a doc comment whose lines (between `/*` and ` */`) are `lines`.
fn doc_text(lines: &[&str]) -> String {
    let text: Vec<&str> = lines
        .iter()
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect();
    text.join("\n").trim().to_owned()
}

fn parse(header: &str) -> Header {
    let lines: Vec<&str> = header.lines().collect();
    let conventions_end = lines
        .iter()
        .position(|l| *l == " */")
        .expect("the header opens with its conventions");
    let conventions = lines[1..conventions_end]
        .iter()
        .map(|l| l.strip_prefix(" *").unwrap_or(l).trim_start_matches(' '))
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_owned();

    let last_include = lines
        .iter()
        .rposition(|l| l.starts_with("#include"))
        .expect("the header includes the standard headers");
    let first_banner = lines
        .iter()
        .position(|l| l.starts_with(BANNER))
        .expect("the header has sections");
    let preamble = lines[last_include + 1..first_banner]
        .join("\n")
        .trim()
        .to_owned();

    let mut sections: Vec<Section> = Vec::new();
    let mut i = first_banner;
    let mut doc = String::new();
    while i < lines.len() {
        let line = lines[i];
        if line.starts_with(BANNER) {
            let title = lines[i + 1].trim_start_matches(" * ").to_owned();
            sections.push(Section {
                title,
                items: Vec::new(),
            });
            i += 3;
        } else if line == "/*" {
            let end = i + lines[i..]
                .iter()
                .position(|l| *l == " */")
                .expect("comment end");
            doc = doc_text(&lines[i + 1..end]);
            i = end + 1;
        } else if line.starts_with("#define ")
            || line.starts_with("typedef")
            || (!line.is_empty()
                && !line.starts_with('#')
                && !line.starts_with('}')
                && !line.starts_with("extern")
                && !line.starts_with("//"))
        {
            // A declaration: up to the line that ends it (a struct's closing
            // brace, or the first `;`).
            let ends: fn(&str) -> bool = if line.starts_with("#define ") {
                |_| true
            } else if line.ends_with('{') {
                |l| l.starts_with('}')
            } else {
                |l| l.ends_with(';')
            };
            let end = i + lines[i..]
                .iter()
                .position(|l| ends(l))
                .expect("declaration end");
            let declaration = lines[i..=end].join("\n");
            let section = sections.last_mut().expect("declarations follow a banner");
            section.items.push(Item {
                // Its first line, past the attribute that cbindgen puts on a
                // line of its own before a long declaration.
                name: declared_name(
                    lines[i..=end]
                        .iter()
                        .find(|l| **l != "OBJ_MUST_USE")
                        .expect("a name"),
                ),
                declaration,
                doc: std::mem::take(&mut doc),
            });
            i = end + 1;
        } else {
            i += 1;
        }
    }
    Header {
        conventions,
        preamble,
        sections,
    }
}

/// GitHub's anchor for a heading.
fn anchor(title: &str) -> String {
    title
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn render(header: &Header) -> String {
    let mut page = String::new();
    page.push_str("# objffi: the C API reference\n\n");
    page.push_str(
        "<!-- Generated from include/objffi.h by crates/objffi/tests/c_api_docs.rs; \
         do not edit. Regenerate with `ci/header.sh --bless`. -->\n\n",
    );
    page.push_str(
        "Every declaration of `include/objffi.h`, grouped as the header groups them, \
         with its documentation. Build and link as the README says (pkg-config, CMake, \
         or by hand); `include/objffi.hpp` wraps the same calls for C++17.\n\n",
    );
    page.push_str("## Conventions\n\n");
    page.push_str(&header.conventions);
    page.push_str("\n\n## Contents\n\n- [Versions and macros](#versions-and-macros)\n");
    for section in &header.sections {
        page.push_str(&format!(
            "- [{}](#{})\n",
            section.title,
            anchor(&section.title)
        ));
    }
    page.push_str("\n## Versions and macros\n\n```c\n");
    page.push_str(&header.preamble);
    page.push_str("\n```\n");
    for section in &header.sections {
        page.push_str(&format!("\n## {}\n\n", section.title));
        let names: Vec<String> = section
            .items
            .iter()
            .map(|item| format!("`{}`", item.name))
            .collect();
        page.push_str(&names.join(", "));
        page.push('\n');
        for item in &section.items {
            page.push_str(&format!(
                "\n### {}\n\n```c\n{}\n```\n",
                item.name, item.declaration
            ));
            if !item.doc.is_empty() {
                page.push('\n');
                page.push_str(&item.doc);
                page.push('\n');
            }
        }
    }
    page
}

#[test]
fn c_api_reference_is_fresh() {
    let header = fs::read_to_string(concat!(env!("OUT_DIR"), "/objffi.h"))
        .expect("build.rs writes objffi.h");
    let page = render(&parse(&header));
    let committed_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/c-api.md");

    if std::env::var_os("OBJFFI_BLESS").is_some_and(|v| v == "1") {
        fs::create_dir_all(committed_path.parent().expect("docs/")).expect("cannot make docs/");
        fs::write(&committed_path, &page).expect("cannot write docs/c-api.md");
        return;
    }
    let committed = fs::read_to_string(&committed_path).unwrap_or_default();
    assert!(
        committed == page,
        "docs/c-api.md is stale: it differs from what the header generates.\n\
         Run `ci/header.sh --bless` and commit docs/c-api.md."
    );
}

#[test]
fn every_function_of_the_header_is_in_the_reference() {
    let header = fs::read_to_string(concat!(env!("OUT_DIR"), "/objffi.h"))
        .expect("build.rs writes objffi.h");
    let parsed = parse(&header);
    let documented: Vec<&str> = parsed
        .sections
        .iter()
        .flat_map(|s| s.items.iter().map(|i| i.name.as_str()))
        .collect();
    let functions = header
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.starts_with("typedef") && l.contains(" obj_"))
        .filter_map(|l| {
            let open = l.find('(')?;
            let name = l[..open].rsplit([' ', '*']).next()?;
            name.starts_with("obj_").then_some(name)
        });
    for name in functions {
        assert!(
            documented.contains(&name),
            "{name} is missing from the reference"
        );
    }
}
