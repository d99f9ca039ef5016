//! The README documents every setting of `breaker_spec`'s table: a row in the attribute's
//! table for each argument, and in the config section each key a file may set and each
//! argument it may not. A setting added to the spec fails here until the README has it.

use breaker_spec::settings::{FILE_KEYS, SETTINGS};

const README: &str = include_str!("../README.md");

/// The lines below the heading `start` up to the next heading of the same or a higher
/// level (`#` lines inside code blocks are comments, not headings).
fn section(start: &str) -> String {
    let level = start.len() - start.trim_start_matches('#').len();
    let mut lines = README.lines().skip_while(|l| *l != start);
    assert!(
        lines.next().is_some(),
        "the README has no heading {start:?}"
    );
    let mut in_code = false;
    let mut body = String::new();
    for line in lines {
        if line.starts_with("```") {
            in_code = !in_code;
        }
        let hashes = line.len() - line.trim_start_matches('#').len();
        if !in_code && (1..=level).contains(&hashes) && line[hashes..].starts_with(' ') {
            break;
        }
        body.push_str(line);
        body.push('\n');
    }
    body
}

#[test]
fn the_arguments_table_has_a_row_for_every_setting() {
    let table = section("## The attribute's arguments");
    let rows: Vec<&str> = table
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .collect();
    let names: Vec<&str> = SETTINGS.iter().map(|s| s.name).collect();
    assert_eq!(rows, names, "the README's rows, in the contract's order");
}

#[test]
fn the_config_section_names_every_key_and_every_code_only_argument() {
    let config = section("### The file");
    for key in FILE_KEYS {
        assert!(
            config.contains(&format!("`{key}`")),
            "the README's config section does not mention `{key}`"
        );
    }
    let code_only = config
        .lines()
        .find(|l| l.contains("are code-only"))
        .expect("the README's config section says which arguments are code-only");
    for setting in SETTINGS.iter().filter(|s| s.code_only.is_some()) {
        assert!(
            code_only.contains(&format!("`{}`", setting.name)),
            "the README does not say `{}` is code-only",
            setting.name
        );
    }
}
