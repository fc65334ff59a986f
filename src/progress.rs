//! The progress bar: the binary's side of [`audit_verify::verify::Progress`] (the library reports
//! progress and never prints).
//!
//! Shown on stderr only, only when stderr is a terminal and neither `--quiet` nor
//! `--no-progress` is given, and only once a run has lasted [`SHOW_AFTER`], so short runs and CI
//! logs print nothing. It shows bytes read of all inputs, records read and records/s, and an ETA
//! estimated from the bytes.

use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use audit_verify::ingest::{self, Source};
use audit_verify::verify::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How long a run goes before the bar appears.
const SHOW_AFTER: Duration = Duration::from_secs(1);

/// A progress bar over all inputs of a run.
pub struct Bar {
    /// Bytes of all inputs; `None` when unknown (standard input, FIFOs, gzip).
    total: Option<u64>,
    start: Instant,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    bar: Option<ProgressBar>,
    /// The input being read, and what was read of it so far.
    input: String,
    bytes: u64,
    records: u64,
    /// Totals of the inputs already finished.
    bytes_done: u64,
    records_done: u64,
}

impl State {
    /// Starts counting a new input when the name changes or its record count starts over
    /// (the same file given twice).
    fn switch_to(&mut self, input: &str, records: Option<u64>) {
        if self.input != input || records.is_some_and(|r| r < self.records) {
            self.bytes_done += self.bytes;
            self.records_done += self.records;
            self.bytes = 0;
            self.records = 0;
            input.clone_into(&mut self.input);
        }
    }
}

impl Bar {
    /// A bar for `inputs`: the sizes of their files make the total. Standard input, FIFOs and
    /// gzip files (whose size is not what is read) leave it unknown: then there is no bar and
    /// no ETA, only bytes, records and records/s.
    pub fn new(inputs: &[Source]) -> Self {
        let total = ingest::expand(inputs).ok().and_then(|sources| {
            sources
                .iter()
                .map(|s| {
                    let meta = std::fs::metadata(&s.path).ok()?;
                    (s.name != "-" && meta.is_file() && !is_gzip(&s.path)).then_some(meta.len())
                })
                .sum::<Option<u64>>()
        });
        Bar {
            total,
            start: Instant::now(),
            state: Mutex::new(State::default()),
        }
    }

    /// Removes the bar from the terminal (before the report or an error is printed).
    pub fn finish(&self) {
        if let Some(bar) = self.lock().bar.take() {
            bar.finish_and_clear();
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn draw(&self, state: &mut State) {
        let elapsed = self.start.elapsed();
        if state.bar.is_none() {
            if elapsed < SHOW_AFTER {
                return;
            }
            let template = if self.total.is_some() {
                "{elapsed_precise} [{wide_bar}] {bytes}/{total_bytes} {msg}"
            } else {
                "{elapsed_precise} {spinner} {bytes} {msg}"
            };
            let style = ProgressStyle::with_template(template)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
            state.bar = Some(
                ProgressBar::with_draw_target(self.total, ProgressDrawTarget::hidden())
                    .with_style(style)
                    .with_elapsed(elapsed),
            );
        }
        let records = state.records_done + state.records;
        let secs = elapsed.as_secs_f64().max(1e-3);
        let read = state.bytes_done + state.bytes;
        let mut message = format!("{records} rec, {:.0} rec/s", records as f64 / secs);
        if let Some(total) = self.total {
            // ETA from the bytes: the rest at the average rate so far.
            let position = read.min(total);
            if position > 0 {
                let eta = (total - position) as f64 * secs / position as f64;
                message.push_str(", ETA ");
                message.push_str(&short_duration(eta));
            }
        }
        if let Some(bar) = &state.bar {
            bar.set_position(self.total.map_or(read, |t| read.min(t)));
            bar.set_message(message);
            if bar.is_hidden() {
                // Only now, with position and message set, so the first frame is complete.
                bar.set_draw_target(ProgressDrawTarget::stderr());
            }
        }
    }
}

fn is_gzip(path: &Path) -> bool {
    use std::io::Read as _;
    let mut magic = [0u8; 2];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok_and(|()| magic == [0x1f, 0x8b])
}

/// `7s`, `2m05s`, `1h02m`.
fn short_duration(secs: f64) -> String {
    let s = secs.ceil() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s / 60 % 60),
    }
}

impl Progress for Bar {
    fn records(&self, input: &str, records: u64) {
        let mut state = self.lock();
        state.switch_to(input, Some(records));
        state.records = records;
    }

    fn advance(&self, input: &str, bytes: u64) {
        let mut state = self.lock();
        state.switch_to(input, None);
        state.bytes = bytes;
        self.draw(&mut state);
    }
}
