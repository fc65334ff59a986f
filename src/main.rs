//! The `audit-verify` binary: parse the command line, build the configuration, call the library,
//! print the report and map the verdict to the exit code (0 verified, 1 failed, 2 error,
//! 3 inconclusive).

mod progress;

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use std::path::{Path, PathBuf};

use audit_verify::cert::{self, CertError, SigningKey};
use audit_verify::cli::{
    CertCommand, CertFormat, Cli, Color, Command, Format, InputFormatArg, KeygenAlg, ProviderName,
    VerifyArgs,
};
use audit_verify::config::{OutputFormat, VerifyConfig, parse_instant_or_duration};
use audit_verify::crypto::{KeyAlg, default_provider};
use audit_verify::ingest::InputFormat;
use audit_verify::keys::KeyRing;
use audit_verify::profile::Profile;
use audit_verify::report::human::{HumanStyle, render_human};
use audit_verify::report::json::write_json;
use audit_verify::verify::{NoProgress, Progress, verify};
use clap::{CommandFactory, Parser};

/// The allocator of the binary (the library leaves the choice to its users): see the `mimalloc`
/// feature in Cargo.toml and docs/performance.md.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli.command {
        Some(Command::Completions { shell }) => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "audit-verify",
                &mut io::stdout(),
            );
            ExitCode::SUCCESS
        }
        Some(Command::Verify(args)) => run_verify(*args),
        Some(Command::Cert(CertCommand::Verify {
            cert,
            keys,
            inputs,
            format,
        })) => run_cert_verify(&cert, &keys, &inputs, format),
        Some(Command::Keygen { alg, out }) => {
            let alg = match alg {
                KeygenAlg::Es256 => KeyAlg::P256,
                KeygenAlg::MlDsa65 => KeyAlg::MlDsa65,
            };
            match cert::keygen(alg, &out) {
                Ok((private, public)) => {
                    println!(
                        "wrote {} (private, mode 0600)\nwrote {} (public)",
                        private.display(),
                        public.display()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e.into()),
            }
        }
        Some(Command::Merge {
            certs,
            keys,
            certificate,
            sign_key,
            now,
        }) => run_merge(&certs, &keys, &certificate, &sign_key, now.as_deref()),
        Some(Command::Profiles { name }) => run_profiles(name.as_deref()),
        None => run_verify(cli.verify),
    }
}

fn parse_now(now: Option<&str>) -> Result<jiff::Timestamp, miette::Report> {
    match now {
        None => Ok(jiff::Timestamp::now()),
        Some(t) => t.parse::<jiff::Timestamp>().map_err(|e| {
            miette::miette!(
                code = "audit_verify::usage::now",
                "--now {t:?} is not an RFC 3339 instant: {e}"
            )
        }),
    }
}

fn run_cert_verify(
    path: &Path,
    keys: &[PathBuf],
    inputs: &[PathBuf],
    format: CertFormat,
) -> ExitCode {
    let ring = match KeyRing::load(keys) {
        Ok(r) => r,
        Err(e) => return fail(e.into()),
    };
    let certified = match cert::read_certificate(path, &ring, default_provider()) {
        Ok(c) => c,
        Err(e @ (CertError::BadSignature { .. } | CertError::Malformed { .. })) => {
            eprintln!("{:?}", miette::Report::new(e));
            return ExitCode::from(1);
        }
        Err(e) => return fail(e.into()),
    };
    let checks = match cert::check_inputs(&certified.statement, inputs) {
        Ok(c) => c,
        Err(e) => return fail(e.into()),
    };
    let text = match format {
        CertFormat::Json => cert::render_certified_json(&certified, &checks),
        CertFormat::Human => cert::render_certified(&certified, &checks),
    };
    let _ = io::stdout().lock().write_all(text.as_bytes());
    if checks.iter().all(|c| c.subject.is_some()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn run_merge(
    certs: &[PathBuf],
    keys: &[PathBuf],
    out: &Path,
    sign_key: &Path,
    now: Option<&str>,
) -> ExitCode {
    let now = match parse_now(now) {
        Ok(n) => n,
        Err(e) => return fail(e),
    };
    let key = match SigningKey::load(sign_key) {
        Ok(k) => k,
        Err(e) => return fail(e.into()),
    };
    let ring = match KeyRing::load(keys) {
        Ok(r) => r,
        Err(e) => return fail(e.into()),
    };
    let mut shards = Vec::new();
    for c in certs {
        match cert::read_certificate(c, &ring, default_provider()) {
            Ok(x) => shards.push((c.display().to_string(), x)),
            Err(e @ (CertError::BadSignature { .. } | CertError::Malformed { .. })) => {
                eprintln!("{:?}", miette::Report::new(e));
                return ExitCode::from(1);
            }
            Err(e) => return fail(e.into()),
        }
    }
    let statement = match cert::merge(&shards, now) {
        Ok(s) => s,
        Err(problems) => {
            eprintln!("MERGE FAILED: the shards do not compose; no certificate written");
            for p in problems {
                let between = shards
                    .get(p.shard.saturating_sub(1))
                    .map_or("?", |s| s.0.as_str());
                let later = shards.get(p.shard).map_or("?", |s| s.0.as_str());
                eprintln!(
                    "  chain {} between {between} and {later}: {}",
                    p.chain, p.message
                );
            }
            return ExitCode::from(1);
        }
    };
    let verdict = statement.predicate.verdict.clone();
    match cert::sign(&statement, &key) {
        Ok(text) => {
            if let Err(e) = std::fs::write(out, text) {
                return fail(miette::miette!("cannot write {}: {e}", out.display()));
            }
        }
        Err(e) => return fail(e.into()),
    }
    println!(
        "merged {} shard certificate(s) into {} (certified verdict: {verdict})",
        shards.len(),
        out.display()
    );
    ExitCode::SUCCESS
}

fn run_verify(args: VerifyArgs) -> ExitCode {
    // `audit-verify --quiet verify FILE` reads as the default command with inputs `verify` and
    // FILE: say so rather than that a file named `verify` cannot be read.
    let command = Cli::command();
    if let Some(name) = args.inputs.iter().find_map(|p| {
        let name = p.to_str()?;
        (command.find_subcommand(name).is_some() && !p.exists()).then(|| name.to_owned())
    }) {
        return fail(miette::miette!(
            code = "audit_verify::usage::command_after_options",
            help = format!(
                "put the command first and its options after it: audit-verify {name} [OPTIONS] ..."
            ),
            "`{name}` is a command, but it comes after options, so it was taken for an input file"
        ));
    }
    let color = match args.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            let target_is_tty = args.output.is_none() && io::stdout().is_terminal();
            target_is_tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let width = terminal_width().unwrap_or(100);
    let mut config = VerifyConfig::new(args.inputs, args.keys);
    config.profile = args.profile;
    config.hmac_key_file = args.hmac_key_file;
    config.input_format = args.input_format.map(|f| match f {
        InputFormatArg::Jsonl => InputFormat::Jsonl,
        InputFormatArg::Json => InputFormat::Json,
        InputFormatArg::Syslog => InputFormat::Syslog,
        InputFormatArg::Csv => InputFormat::Csv,
    });
    config.require_signatures = args.require_signatures;
    config.require_complete = args.require_complete;
    config.checkpoints = args.checkpoints;
    config.checkpoint_keys = args.checkpoint_keys;
    config.jobs = args.jobs.map(usize::from);
    config.max_chains = args.max_chains;
    config.merkle_state = args.certificate.is_some();
    config.anchor = args.anchor.clone();
    config.anchor_keys = args.anchor_key.clone();
    config.provider = match args.crypto {
        ProviderName::AwsLc => "aws-lc-rs",
        ProviderName::Rustcrypto => "rustcrypto",
    }
    .to_string();
    config.format = match args.format {
        Format::Human => OutputFormat::Human(HumanStyle {
            color,
            width,
            max_per_code: args.max_findings,
        }),
        Format::Json => OutputFormat::Json,
        Format::Junit => OutputFormat::Junit,
        Format::Github => OutputFormat::Github,
    };
    miette::set_hook(Box::new(move |_| {
        Box::new(
            miette::MietteHandlerOpts::new()
                .color(color && io::stderr().is_terminal())
                .width(width)
                .build(),
        )
    }))
    .ok();

    let now = match parse_now(args.now.as_deref()) {
        Ok(n) => n,
        Err(e) => return fail(e),
    };
    for (flag, text, slot) in [
        ("--since", &args.since, &mut config.since),
        ("--until", &args.until, &mut config.until),
    ] {
        if let Some(t) = text {
            match parse_instant_or_duration(t, now) {
                Ok(ts) => *slot = Some(ts),
                Err(e) => {
                    return fail(miette::miette!(
                        code = "audit_verify::usage::window",
                        "{flag}: {e}"
                    ));
                }
            }
        }
    }
    if let (Some(since), Some(until)) = (config.since, config.until) {
        if since > until {
            return fail(miette::miette!(
                code = "audit_verify::usage::window",
                help = "a duration counts back from now: --since 2h --until 1h is the hour before the last",
                "--since ({since}) is after --until ({until}): the window holds no instant"
            ));
        }
    }
    // Load the signing key before the work, so that a bad key fails fast.
    let signer = match &args.sign_key {
        Some(p) => match SigningKey::load(p) {
            Ok(k) => Some(k),
            Err(e) => return fail(e.into()),
        },
        None => None,
    };
    let bar = (!args.quiet && !args.no_progress && io::stderr().is_terminal())
        .then(|| progress::Bar::new(&config.inputs));
    let observer: &dyn Progress = match &bar {
        Some(bar) => bar,
        None => &NoProgress,
    };
    let result = verify(&config, observer);
    if let Some(bar) = &bar {
        bar.finish();
    }
    let report = match result {
        Ok(r) => r,
        Err(e) => return fail(e.into()),
    };
    if let (Some(out), Some(key)) = (&args.certificate, &signer) {
        let statement = cert::statement(&report, now);
        match cert::sign(&statement, key) {
            Ok(text) => {
                if let Err(e) = std::fs::write(out, text) {
                    return fail(miette::miette!("cannot write {}: {e}", out.display()));
                }
            }
            Err(e) => return fail(e.into()),
        }
    }
    // The JSON report is written as it is serialized; the other formats are rendered first.
    let write = |out: &mut dyn Write| -> io::Result<()> {
        let text = match config.format {
            OutputFormat::Human(style) => render_human(&report, style),
            OutputFormat::Json => return write_json(&report, out),
            OutputFormat::Junit => audit_verify::report::junit::render_junit(&report),
            OutputFormat::Github => audit_verify::report::github::render_github(&report),
        };
        out.write_all(text.as_bytes())
    };
    let written = match &args.output {
        Some(path) => std::fs::File::create(path).and_then(|file| {
            let mut out = io::BufWriter::new(file);
            write(&mut out)?;
            out.flush()
        }),
        None => {
            let mut out = io::BufWriter::new(io::stdout().lock());
            write(&mut out).and_then(|()| out.flush())
        }
    };
    match written {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        Err(e) => return fail(miette::miette!("cannot write the report: {e}")),
    }
    ExitCode::from(report.verdict().exit_code())
}

fn run_profiles(name: Option<&str>) -> ExitCode {
    let text = match name {
        Some(name) => match Profile::resolve(name) {
            Ok(Some(p)) => p.text,
            Ok(None) => {
                return fail(audit_verify::Error::UnknownProfile(name.to_string()).into());
            }
            Err(e) => return fail(audit_verify::Error::from(e).into()),
        },
        None => match Profile::builtins() {
            Ok(all) => {
                let width = all.iter().map(|p| p.name().len()).max().unwrap_or(0);
                all.iter()
                    .map(|p| {
                        format!(
                            "{:width$}  {} [{}]\n",
                            p.name(),
                            p.spec.title,
                            p.spec.follows
                        )
                    })
                    .collect()
            }
            Err(e) => return fail(audit_verify::Error::from(e).into()),
        },
    };
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => fail(miette::miette!("cannot write: {e}")),
    }
}

fn fail(e: miette::Report) -> ExitCode {
    eprintln!("{e:?}");
    ExitCode::from(2)
}

fn terminal_width() -> Option<usize> {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<usize>().ok())
        .filter(|w| (40..=1000).contains(w))
}
