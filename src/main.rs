//! The `audit-verify` binary: parse the command line, build the configuration, call the library,
//! print the report and map the verdict to the exit code (0 verified, 1 failed, 2 error,
//! 3 inconclusive).

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use audit_verify::cli::{Cli, Color, Command, Format, InputFormatArg, ProviderName, VerifyArgs};
use audit_verify::config::{OutputFormat, VerifyConfig};
use audit_verify::ingest::InputFormat;
use audit_verify::profile::Profile;
use audit_verify::report::human::{HumanStyle, render_human};
use audit_verify::report::json::render_json;
use audit_verify::verify::{NoProgress, verify};
use clap::{CommandFactory, Parser};

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
        Some(Command::Profiles { name }) => run_profiles(name.as_deref()),
        Some(Command::Verify(args)) => run_verify(args),
        None => run_verify(cli.verify),
    }
}

fn run_verify(args: VerifyArgs) -> ExitCode {
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
    config.jobs = args.jobs;
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

    let report = match verify(&config, &NoProgress) {
        Ok(r) => r,
        Err(e) => return fail(e.into()),
    };
    let text = match config.format {
        OutputFormat::Human(style) => render_human(&report, style),
        OutputFormat::Json => render_json(&report),
    };
    let written = match &args.output {
        Some(path) => std::fs::write(path, text.as_bytes()),
        None => {
            let mut out = io::stdout().lock();
            out.write_all(text.as_bytes()).and_then(|()| out.flush())
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
