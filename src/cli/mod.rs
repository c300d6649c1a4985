//! The command line: the headless twin of every panel, over the same
//! library calls the window's workers make. With no subcommand it opens the
//! window. Errors print one sentence on stderr and exit with a code scripts
//! can test (see [`crate::hub::HubError::exit_code`] and the README).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub mod caption;
pub mod dataset;
pub mod evaluate;
pub mod score;
pub mod transcribe;
pub mod translate;

use crate::format::{count_models, format_bytes};
use crate::hub::cache;
use crate::hub::{DownloadProgress, Hub, HubConfig, HubError, SearchQuery, Sort, TaskFilter};
use crate::tasks::device::{ComputeType, DeviceChoice};

#[derive(Parser, Debug)]
#[command(
    name = "spaceport",
    version,
    about = "Hugging Face Spaces-style demos on your own machine.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// Compute device for every task: auto, cpu, cuda, cuda:N or metal
    /// (`spaceport devices` lists what this build and machine offer).
    #[arg(long, global = true, default_value = "auto")]
    pub device: DeviceChoice,
    /// Number format for every model, as CTranslate2's compute_type:
    /// default (the weights' own where this machine runs it fast), auto
    /// (the fastest accurate: int8 on a processor with int8 instructions),
    /// float32 (exact), float16 or int8.
    #[arg(long, global = true, default_value = "default")]
    pub compute_type: ComputeType,
    /// Use only what is already downloaded (like HF_HUB_OFFLINE=1).
    #[arg(long, global = true)]
    pub offline: bool,
    /// Print the milliseconds from start to the first painted frame, then exit.
    #[arg(long, hide = true)]
    pub first_frame_probe: bool,
    /// Pictures or recordings to open in the window, each in its demo
    /// (what "Open with Spaceport" passes).
    #[arg(value_name = "FILE")]
    pub files: Vec<std::path::PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Open the window (the default).
    Gui,
    /// Search the Hub for models.
    Search {
        /// Words to look for in model ids.
        query: String,
        /// translation, image-to-text, automatic-speech-recognition or all.
        #[arg(long, default_value = "all")]
        task: String,
        /// downloads, likes or updated.
        #[arg(long, default_value = "downloads")]
        sort: String,
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Show a model's files, licence, state and whether it runs here.
    Info {
        repo: String,
        #[arg(long, default_value = "main")]
        revision: String,
        #[arg(long)]
        json: bool,
    },
    /// Download what a model needs into the Hugging Face cache (resumes).
    Download {
        repo: String,
        #[arg(long, default_value = "main")]
        revision: String,
        #[arg(long)]
        json: bool,
    },
    /// List downloaded models with their size and revision.
    Models {
        #[arg(long)]
        json: bool,
    },
    /// Translate text with a Marian (opus-mt) model.
    Translate(translate::TranslateArgs),
    /// Transcribe audio files with a Whisper model.
    Transcribe(transcribe::TranscribeArgs),
    /// Caption pictures with a BLIP model.
    Caption(caption::CaptionArgs),
    /// Datasets: what one holds and its rows.
    Dataset(dataset::DatasetArgs),
    /// Score predictions against references (WER, CER, BLEU, chrF, chrF++).
    Score(score::ScoreArgs),
    /// Run models over a dataset split and score them against its
    /// references.
    Evaluate(evaluate::EvaluateArgs),
    /// List the compute devices this build and machine offer (for
    /// --device and Settings).
    Devices {
        #[arg(long)]
        json: bool,
    },
    /// Measure a model's speed here: real-time factor (speech) or tokens
    /// a second, on the chosen device, on a built-in input.
    Measure {
        /// A downloaded model's id or a model folder.
        model: String,
        /// How long to keep running it (at least once through).
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        /// f32, f16 or bf16 (default: f32 on the CPU, the checkpoint's own
        /// on a GPU).
        #[arg(long)]
        dtype: Option<String>,
        /// Translation: sentences given at once (translated together).
        #[arg(long, default_value_t = 1)]
        batch: usize,
        #[arg(long)]
        json: bool,
    },
    /// Write a full-size model with random weights, for speed
    /// measurements where no checkpoint can be fetched.
    MakeRandomModel {
        /// whisper-tiny, whisper-small, whisper-large-v3-turbo,
        /// marian-base, marian-big, blip-base or blip-large.
        preset: String,
        /// A model of the same kind whose tokenizer and settings are copied.
        #[arg(long)]
        like: PathBuf,
        /// The folder to write.
        #[arg(long)]
        out: PathBuf,
        /// f32, f16 or bf16.
        #[arg(long, default_value = "f16")]
        dtype: String,
    },
    /// Delete a downloaded model (or one revision of it) from the cache.
    Rm {
        repo: String,
        /// Only this commit; blobs other revisions use are kept.
        #[arg(long)]
        revision: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    crate::app::process_start();
    crate::tasks::tune_runtime();
    crate::work::quiet_caught_panics();
    let cli = Cli::parse();
    let mut config = HubConfig::from_env();
    config.offline |= cli.offline;
    if let Some(note) = crate::tasks::device::build_note(cli.device) {
        eprintln!("note: {note}");
    }
    let result = match cli.command {
        None | Some(Command::Gui) => {
            return match crate::app::run(config, cli.device, cli.first_frame_probe, cli.files) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: could not open the window: {e:#}");
                    ExitCode::from(1)
                }
            };
        }
        Some(cmd) => {
            // From here Ctrl-C stops the command's work (exit 130).
            crate::work::cancel_on_interrupt();
            run(cmd, config, cli.device, cli.compute_type)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// Writes to standard output: `outln!` a line, `out!` as it is. A full
/// disk or a closed output is a failure in words (exit 1), never a panic
/// as `println!` would give; a reader that stopped early (`| head`) ends
/// the program quietly.
macro_rules! outln {
    ($($t:tt)*) => { $crate::cli::write_out(format_args!($($t)*), true)? };
}
macro_rules! out {
    ($($t:tt)*) => { $crate::cli::write_out(format_args!($($t)*), false)? };
}
pub(crate) use {out, outln};

pub(crate) fn write_out(args: std::fmt::Arguments, line: bool) -> Result<(), CliError> {
    let mut stdout = std::io::stdout().lock();
    let written = stdout
        .write_fmt(args)
        .and_then(|()| {
            if line {
                stdout.write_all(b"\n")
            } else {
                Ok(())
            }
        })
        .and_then(|()| stdout.flush());
    match written {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(CliError::Failed(format!(
            "Could not write the output: {e}."
        ))),
    }
}

/// Any failure of a subcommand.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Hub(#[from] HubError),
    /// A model task's failure (loading, running, cancelled).
    #[error(transparent)]
    Task(#[from] crate::tasks::TaskError),
    /// Bad arguments or an input that can't be used.
    #[error("{0}")]
    Input(String),
    /// An input file or device that is not there.
    #[error("{0}")]
    Missing(String),
    /// A failure while running that is not the model's.
    #[error("{0}")]
    Failed(String),
}

impl CliError {
    /// The exit code (the README's table): hub errors as
    /// [`HubError::exit_code`], task errors as
    /// [`crate::tasks::TaskError::exit_code`]; 2 bad arguments or input;
    /// 3 a missing file, model or device; 1 other failures.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Hub(e) => e.exit_code(),
            Self::Task(e) => e.exit_code(),
            Self::Input(_) => 2,
            Self::Missing(_) => 3,
            Self::Failed(_) => 1,
        }
    }
}

impl From<crate::audio::decode::AudioError> for CliError {
    fn from(e: crate::audio::decode::AudioError) -> Self {
        if e.is_missing() {
            Self::Missing(e.to_string())
        } else {
            Self::Input(e.to_string())
        }
    }
}

impl From<crate::tasks::caption::image::PictureError> for CliError {
    fn from(e: crate::tasks::caption::image::PictureError) -> Self {
        match e {
            crate::tasks::caption::image::PictureError::Missing(_) => Self::Missing(e.to_string()),
            _ => Self::Input(e.to_string()),
        }
    }
}

impl From<crate::audio::capture::CaptureError> for CliError {
    fn from(e: crate::audio::capture::CaptureError) -> Self {
        use crate::audio::capture::CaptureError as C;
        match e {
            C::NoDevice | C::UnknownDevice(_) => Self::Missing(e.to_string()),
            C::Open(_) | C::Stopped(_) => Self::Failed(e.to_string()),
        }
    }
}

/// A download's progress on stderr (indicatif): on a terminal, one bar
/// for the whole model (bytes, rate, time left) and one for the file being
/// fetched; elsewhere (a log, a pipe) a plain line per file.
pub struct ProgressBar {
    bars: Option<(indicatif::ProgressBar, indicatif::ProgressBar)>,
    last_file: String,
}

impl ProgressBar {
    pub fn new() -> Self {
        let bars = std::io::stderr().is_terminal().then(|| {
            let multi = indicatif::MultiProgress::new();
            let style = |template: &str| {
                indicatif::ProgressStyle::with_template(template)
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                    .progress_chars("=> ")
            };
            let model = multi.add(indicatif::ProgressBar::new(0));
            model.set_style(style(
                "{prefix} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
            ));
            let file = multi.add(indicatif::ProgressBar::new(0));
            file.set_style(style("  {msg} [{bar:30}] {bytes}/{total_bytes}"));
            (model, file)
        });
        Self {
            bars,
            last_file: String::new(),
        }
    }

    pub fn show(&mut self, p: &DownloadProgress) {
        let new_file = p.file != self.last_file;
        if new_file {
            self.last_file = p.file.clone();
        }
        match &self.bars {
            Some((model, file)) => {
                model.set_length(p.total);
                model.set_position(p.bytes.min(p.total));
                model.set_prefix(format!(
                    "file {}/{}",
                    (p.files_done + 1).min(p.files_total),
                    p.files_total
                ));
                if new_file {
                    file.reset();
                    file.set_message(p.file.clone());
                }
                file.set_length(p.file_total);
                file.set_position(p.file_bytes.min(p.file_total));
            }
            None if new_file => {
                eprintln!("fetching {} ({})", p.file, format_bytes(p.file_total));
            }
            None => {}
        }
    }

    pub fn finish(&mut self) {
        if let Some((model, file)) = &self.bars {
            file.finish_and_clear();
            model.finish();
        }
    }
}

impl Default for ProgressBar {
    fn default() -> Self {
        Self::new()
    }
}

fn print_json(v: &impl serde::Serialize) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(v).map_err(|e| HubError::Malformed {
        what: e.to_string(),
    })?;
    outln!("{text}");
    Ok(())
}

fn parse_dtype(text: &str) -> Result<candle_core::DType, CliError> {
    match text {
        "f32" | "float32" => Ok(candle_core::DType::F32),
        "f16" | "float16" => Ok(candle_core::DType::F16),
        "bf16" | "bfloat16" => Ok(candle_core::DType::BF16),
        other => Err(CliError::Input(format!(
            "\"{other}\" is not a type: use f32, f16 or bf16"
        ))),
    }
}

/// Where a command's model runs: the selected device, in `compute`.
pub(crate) fn placement(
    selected: &crate::tasks::device::Selected,
    compute: ComputeType,
) -> crate::tasks::nn::Placement {
    crate::tasks::nn::Placement {
        compute,
        ..crate::tasks::nn::Placement::new(&selected.device)
    }
}

/// `spaceport measure`: loads the model on the chosen device and runs it
/// on the built-in input for `seconds`.
fn measure(
    hub: &Hub,
    (choice, compute): (DeviceChoice, ComputeType),
    model: &str,
    (seconds, batch): (f64, usize),
    dtype: Option<&str>,
    json: bool,
) -> Result<(), CliError> {
    let path = PathBuf::from(model);
    let (dir, panel) = if path.is_dir() {
        let config = std::fs::read_to_string(path.join("config.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok());
        let files: Vec<String> = std::fs::read_dir(&path)
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        let verdict = crate::catalog::verdict(&crate::catalog::ModelFacts {
            id: model.to_string(),
            config,
            files,
            ..Default::default()
        });
        let panel = verdict
            .panel()
            .ok_or_else(|| CliError::Input(verdict.explain()))?;
        (path, panel)
    } else {
        let cached = crate::hub::cache::scan_repo(&hub.config.cache_dir, model)
            .ok_or_else(|| CliError::Missing(format!("{model} is not downloaded")))?;
        let panel = cached
            .verdict
            .panel()
            .ok_or_else(|| CliError::Input(cached.verdict.explain()))?;
        let dir = cached
            .main_revision()
            .map(|r| r.path.clone())
            .ok_or_else(|| CliError::Missing(format!("{model} has no downloaded revision")))?;
        (dir, panel)
    };
    let selected = crate::tasks::device::select(choice);
    if let Some(note) = &selected.fallback_note {
        eprintln!("{note}");
    }
    let place = crate::tasks::nn::Placement {
        dtype: dtype.map(parse_dtype).transpose()?,
        compute,
        ..crate::tasks::nn::Placement::new(&selected.device)
    };
    let m = crate::evaluate::measured::measure_placed(
        &dir,
        panel,
        &place,
        &selected.describe(),
        seconds,
        batch,
        &crate::work::cancel_on_interrupt(),
    )?;
    if json {
        return print_json(&m);
    }
    let speed = match (m.rtfx, m.tokens_per_second) {
        (Some(r), _) => format!("{r:.1}× real time"),
        (_, Some(t)) => format!("{t:.0} tokens/s"),
        _ => String::new(),
    };
    outln!(
        "{model}: {speed}, {:.3} s an item, loaded in {:.2} s, on the {}",
        m.seconds_per_item,
        m.load_seconds,
        m.device
    );
    Ok(())
}

/// Runs one subcommand against `config`.
pub fn run(
    cmd: Command,
    config: HubConfig,
    device: DeviceChoice,
    compute: ComputeType,
) -> Result<(), CliError> {
    let hub = Hub::new(config);
    match cmd {
        Command::Translate(args) => translate::run(&hub, device, compute, args),
        Command::Transcribe(args) => transcribe::run(&hub, device, compute, args),
        Command::Caption(args) => caption::run(&hub, device, compute, args),
        Command::Dataset(args) => dataset::run(&hub, args),
        Command::Score(args) => score::run(args),
        Command::Evaluate(args) => evaluate::run(&hub, device, compute, args),
        Command::Gui => Ok(()),
        Command::Devices { json } => {
            let (offered, notes) = crate::tasks::device::offered();
            if json {
                return print_json(&serde_json::json!({ "devices": offered, "notes": notes }));
            }
            for d in &offered {
                outln!("{}", d.describe());
            }
            for n in &notes {
                outln!("{n}");
            }
            Ok(())
        }
        Command::Measure {
            model,
            seconds,
            dtype,
            batch,
            json,
        } => measure(
            &hub,
            (device, compute),
            &model,
            (seconds, batch),
            dtype.as_deref(),
            json,
        ),
        Command::MakeRandomModel {
            preset,
            like,
            out,
            dtype,
        } => {
            let dtype = parse_dtype(&dtype)?;
            crate::tasks::random_model::write(&preset, &like, &out, dtype)?;
            outln!("{preset} with random weights written to {}", out.display());
            Ok(())
        }
        Command::Search {
            query,
            task,
            sort,
            limit,
            json,
        } => {
            let task = TaskFilter::parse(&task).ok_or_else(|| HubError::Malformed {
                what: format!("unknown task \"{task}\" (use translation, image-to-text, automatic-speech-recognition or all)"),
            })?;
            let sort = Sort::parse(&sort).ok_or_else(|| HubError::Malformed {
                what: format!("unknown sort \"{sort}\" (use downloads, likes or updated)"),
            })?;
            let mut models = Vec::new();
            let mut page = hub.search(&SearchQuery {
                text: query,
                task,
                sort,
                limit: limit.min(100),
            })?;
            loop {
                models.extend(page.models);
                match page.next {
                    Some(next) if models.len() < limit => page = hub.search_page(&next)?,
                    _ => break,
                }
            }
            models.truncate(limit);
            if json {
                return print_json(&models);
            }
            if models.is_empty() {
                outln!("No models found.");
            }
            for m in &models {
                outln!(
                    "{:<50} {:<28} {:>10} dl {:>6} likes  {:>9}  {}",
                    m.id,
                    m.pipeline_tag.as_deref().unwrap_or("-"),
                    m.downloads,
                    m.likes,
                    m.size_bytes.map(format_bytes).unwrap_or_else(|| "-".into()),
                    m.verdict.short()
                );
            }
            Ok(())
        }
        Command::Info {
            repo,
            revision,
            json,
        } => {
            let d = match hub.details(&repo, &revision) {
                Err(e) if e.is_offline() => {
                    cache::local_details(&hub.config.cache_dir, &repo, &revision).ok_or(e)?
                }
                other => other?,
            };
            if json {
                return print_json(&d);
            }
            outln!("{}  (commit {})", d.summary.id, d.commit);
            outln!("{}", d.summary.verdict.explain());
            if let Some(t) = &d.summary.pipeline_tag {
                outln!("Task: {t}");
            }
            if let Some(c) = &d.config {
                let arch = c
                    .get("architectures")
                    .and_then(|a| a.get(0))
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("-");
                let kind = c
                    .get("model_type")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("-");
                outln!("Architecture: {arch} ({kind})");
            }
            outln!("Licence: {}", d.license.as_deref().unwrap_or("not stated"));
            if let Some(g) = &d.gated_mode {
                outln!("Gated ({g}): accept its licence on the Hub and set a token to download.");
            }
            if d.summary.private {
                outln!("Private.");
            }
            outln!(
                "Download: {} in {} files",
                format_bytes(d.download_bytes),
                d.needed.len()
            );
            for f in &d.files {
                let mark = if d.needed.contains(&f.path) { "*" } else { " " };
                outln!(" {mark} {:>10}  {}", format_bytes(f.size), f.path);
            }
            Ok(())
        }
        Command::Download {
            repo,
            revision,
            json,
        } => {
            let mut bar = ProgressBar::new();
            let snap = hub.download_model(
                &repo,
                &revision,
                &crate::work::cancel_on_interrupt(),
                &mut |p| bar.show(p),
            );
            bar.finish();
            let snap = snap?;
            if json {
                return print_json(&snap);
            }
            outln!(
                "{} at {} in {}",
                snap.repo,
                snap.commit,
                snap.path.display()
            );
            Ok(())
        }
        Command::Models { json } => {
            let models = cache::scan(&hub.config.cache_dir)?;
            if json {
                return print_json(&models);
            }
            let total: u64 = models.iter().map(|m| m.size_bytes).sum();
            for m in &models {
                let rev = m.main_revision();
                outln!(
                    "{:<50} {:>10}  {}{}",
                    m.repo,
                    format_bytes(m.size_bytes),
                    rev.map(|r| &r.commit[..r.commit.len().min(12)])
                        .unwrap_or("(no snapshot)"),
                    if m.incomplete_bytes > 0 {
                        "  (unfinished download)"
                    } else {
                        ""
                    }
                );
            }
            outln!(
                "{}, {} in {}",
                count_models(models.len()),
                format_bytes(total),
                hub.config.cache_dir.display()
            );
            Ok(())
        }
        Command::Rm {
            repo,
            revision,
            json,
        } => {
            let freed = match &revision {
                Some(rev) => {
                    let commit = cache::resolve_snapshot(&hub.config.cache_dir, &repo, rev)
                        .map(|(c, _)| c)
                        .ok_or_else(|| HubError::NotDownloaded(format!("{repo} at {rev}")))?;
                    cache::delete_revision(&hub.config.cache_dir, &repo, &commit)?
                }
                None => cache::delete_model(&hub.config.cache_dir, &repo)?,
            };
            if json {
                return print_json(&serde_json::json!({"repo": repo, "freed_bytes": freed}));
            }
            outln!("Deleted {repo}, freed {}.", format_bytes(freed));
            Ok(())
        }
    }
}
