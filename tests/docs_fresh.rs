//! Generated files are current: the man pages and shell completions (from the clap definitions)
//! and the findings catalogue `docs/findings.md` (from the code table). Run with
//! `AUDIT_VERIFY_BLESS=1` to rewrite them after a change.

mod common;

use std::path::Path;

use audit_verify::cli::Cli;
use audit_verify::finding::{Code, Severity};
use clap::CommandFactory;
use clap_complete::Shell;

fn check_or_bless(path: &Path, content: &[u8]) {
    if std::env::var_os("AUDIT_VERIFY_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
        return;
    }
    let current = std::fs::read(path).unwrap_or_default();
    assert!(
        current == content,
        "{} is stale: run `AUDIT_VERIFY_BLESS=1 cargo test --test docs_fresh` and commit the result",
        path.display()
    );
}

#[test]
fn man_pages_are_current() {
    let root = common::root().join("man");
    let cmd = Cli::command();
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .render(&mut page)
        .unwrap();
    check_or_bless(&root.join("audit-verify.1"), &page);
    for sub in cmd.get_subcommands() {
        let name = format!("audit-verify-{}", sub.get_name());
        let sub = sub.clone().name(&*Box::leak(name.clone().into_boxed_str()));
        let mut page = Vec::new();
        clap_mangen::Man::new(sub).render(&mut page).unwrap();
        check_or_bless(&root.join(format!("{name}.1")), &page);
    }
}

#[test]
fn completions_are_current() {
    let root = common::root().join("man/completions");
    for (shell, file) in [
        (Shell::Bash, "audit-verify.bash"),
        (Shell::Zsh, "_audit-verify"),
        (Shell::Fish, "audit-verify.fish"),
        (Shell::PowerShell, "_audit-verify.ps1"),
        (Shell::Elvish, "audit-verify.elv"),
    ] {
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "audit-verify", &mut out);
        check_or_bless(&root.join(file), &out);
    }
}

/// The catalogue as generated from the code table.
fn findings_catalogue() -> String {
    let mut s = String::from(
        "# Finding codes\n\n\
         Every finding `audit-verify` reports has one of these stable codes. Codes appear in JSON\n\
         reports (`findings[].code`) and never change meaning; a new check gets a new code.\n\n\
         Severity decides the verdict: any **error** makes it `failed` (exit 1). A **warning** marks\n\
         something not established or non-conformant; it makes the verdict `inconclusive` (exit 3)\n\
         only when the guarantee it bears on is required (see `docs/exit-codes.md`). **info** is a fact\n\
         worth knowing.\n\n\
         This file is generated from `src/finding.rs` by `tests/docs_fresh.rs`.\n\n\
         | code | severity | guarantee | meaning | what it tells you / what to do |\n\
         |---|---|---|---|---|\n",
    );
    for code in Code::ALL {
        let sev = match code.severity() {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        };
        s.push_str(&format!(
            "| `{}` | {} | {:?} | {} | {} |\n",
            code.as_str(),
            sev,
            code.guarantee(),
            code.title(),
            code.help()
        ));
    }
    s
}

#[test]
fn findings_catalogue_is_current() {
    check_or_bless(
        &common::root().join("docs/findings.md"),
        findings_catalogue().as_bytes(),
    );
}
