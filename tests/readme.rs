//! The README shows real output and a complete option summary: every example block that starts
//! with `$ audit-verify …` is run and must print exactly what the README shows, and the usage
//! summary names every long option of `verify` (and nothing that does not exist).

mod common;

use std::collections::BTreeSet;

use common::{root, run};

/// The README's fenced `text` blocks.
fn text_blocks(readme: &str) -> Vec<Vec<&str>> {
    let mut blocks = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in readme.lines() {
        match (&mut current, line) {
            (None, "```text") => current = Some(Vec::new()),
            (Some(_), "```") => blocks.push(current.take().unwrap_or_default()),
            (Some(block), line) => block.push(line),
            (None, _) => {}
        }
    }
    blocks
}

fn readme() -> String {
    std::fs::read_to_string(root().join("README.md")).expect("README.md")
}

#[test]
fn the_readme_examples_print_what_the_readme_shows() {
    let readme = readme();
    let mut checked = 0;
    for block in text_blocks(&readme) {
        let Some(command) = block
            .first()
            .and_then(|l| l.strip_prefix("$ audit-verify "))
        else {
            continue;
        };
        let args: Vec<&str> = command.split_whitespace().collect();
        // Cargo runs the tests in the package root, where the README's paths are relative to.
        let r = run(&args);
        let shown = block[1..].join("\n");
        let printed = r.stdout.trim_end();
        assert_eq!(
            printed, shown,
            "README example `audit-verify {command}` is stale; it now prints:\n{printed}"
        );
        checked += 1;
    }
    assert!(
        checked >= 2,
        "the README shows at least two runs ({checked})"
    );
}

/// The long options named in a text.
fn options(text: &str) -> BTreeSet<String> {
    text.split(|c: char| c.is_whitespace() || c == ',' || c == ';' || c == '(' || c == ')')
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .map(|w| {
            w.trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
                .to_string()
        })
        .collect()
}

#[test]
fn the_readme_usage_names_every_option_of_verify_and_only_real_ones() {
    let readme = readme();
    let usage = text_blocks(&readme)
        .into_iter()
        .find(|b| {
            b.first()
                .is_some_and(|l| l.starts_with("audit-verify verify [OPTIONS]"))
        })
        .expect("the usage block");
    // Sections: a line `audit-verify SUBCOMMAND …` and the lines under it.
    let mut sections: Vec<(Vec<&str>, String)> = Vec::new();
    for line in usage {
        if let Some(rest) = line.strip_prefix("audit-verify ") {
            let path = rest
                .split_whitespace()
                .take_while(|w| w.chars().all(|c| c.is_ascii_lowercase()))
                .collect();
            sections.push((path, line.to_string()));
        } else if let Some((_, text)) = sections.last_mut() {
            text.push('\n');
            text.push_str(line);
        }
    }
    assert!(
        sections.len() >= 6,
        "verify, cert, keygen, merge, profiles, completions"
    );
    for (path, text) in &sections {
        let mut args = path.clone();
        args.push("--help");
        let help = run(&args);
        assert_eq!(help.code, 0, "audit-verify {}", args.join(" "));
        let in_help = options(&help.stdout);
        let in_usage = options(text);
        let unknown: Vec<_> = in_usage.difference(&in_help).collect();
        assert!(
            unknown.is_empty(),
            "README usage of `{}` names options that do not exist: {unknown:?}",
            path.join(" ")
        );
        if path == &["verify"] {
            let missing: Vec<_> = in_help
                .difference(&in_usage)
                .filter(|o| *o != "--help")
                .collect();
            assert!(
                missing.is_empty(),
                "README usage of verify lacks {missing:?}"
            );
        }
    }
}
