//! `spaceport dataset`: datasets without the window — what a dataset holds
//! (`info`) and its rows (`rows`), from a local parquet file or folder, a
//! Hub dataset in the cache, or one read in place from the Hub's parquet
//! export (only the row groups the rows need).

use std::path::Path;

use clap::{Args, Subcommand};

use super::{CliError, outln};
use crate::datasets::local::choose;
use crate::datasets::remote::RemoteDataset;
use crate::datasets::{AnySplit, DataError, Dataset};
use crate::hub::Hub;
use crate::work::CancelToken;

#[derive(Args, Debug)]
pub struct DatasetArgs {
    #[command(subcommand)]
    pub command: DatasetCommand,
}

#[derive(Subcommand, Debug)]
pub enum DatasetCommand {
    /// Search the Datasets Hub.
    Search {
        /// Words to look for in dataset ids.
        query: String,
        /// automatic-speech-recognition, translation, image-to-text or all.
        #[arg(long, default_value = "all")]
        task: String,
        /// audio, image, text… (any when not given).
        #[arg(long)]
        modality: Option<String>,
        /// downloads, likes or updated.
        #[arg(long, default_value = "downloads")]
        sort: String,
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// A list of objects: id, downloads, likes, gated, private,
        /// size_bytes, fits (the demo, or null) and fit (in words).
        #[arg(long)]
        json: bool,
    },
    /// Download a split (or every split of a config) of a dataset's parquet
    /// export (or, without one, its parquet files on main) into the Hugging
    /// Face cache, where Python `datasets` finds it.
    Download {
        dataset: String,
        #[arg(long)]
        config: Option<String>,
        #[arg(long)]
        split: Option<String>,
        /// refs/convert/parquet (the export), main or a commit (the parquet
        /// files there); the export when there is one if not given.
        #[arg(long)]
        revision: Option<String>,
        /// repo, revision, commit, files (the cached paths).
        #[arg(long)]
        json: bool,
    },
    /// Configs, splits (rows, bytes) and column types of a dataset.
    Info {
        /// A Hub dataset id (from the cache, else read from the Hub), or a
        /// local parquet file or folder.
        dataset: String,
        #[arg(long, default_value = "main")]
        revision: String,
        #[arg(long)]
        json: bool,
    },
    /// Prepare a split (filter, shuffle, take, split into train/test) and
    /// write it as parquet (with datasets' features, so Python reads Audio
    /// and Image back), CSV or JSON Lines (sounds and pictures as files
    /// beside it).
    Export {
        dataset: String,
        #[arg(long)]
        config: Option<String>,
        #[arg(long)]
        split: Option<String>,
        #[arg(long, default_value = "main")]
        revision: String,
        /// `COLUMN contains TEXT`, `COLUMN OP VALUE` (==, !=, <, <=, >,
        /// >=) or `TEXT` (any text column contains it).
        #[arg(long)]
        filter: Option<String>,
        /// Shuffle the rows with this seed.
        #[arg(long)]
        shuffle: Option<u64>,
        /// Keep the first N rows (after the filter and the shuffle).
        #[arg(long)]
        take: Option<u64>,
        /// Split into FILE-train and FILE-test, this fraction (0–1) to test.
        #[arg(long)]
        test_size: Option<f64>,
        /// FILE.parquet, FILE.csv or FILE.jsonl.
        #[arg(long)]
        to: std::path::PathBuf,
        /// files: each file written and its row count.
        #[arg(long)]
        json: bool,
    },
    /// Rows of one split: one JSON object a line with --json (`row_idx`,
    /// `row`), pictures and sounds as their length and sha256.
    Rows {
        dataset: String,
        #[arg(long)]
        config: Option<String>,
        #[arg(long)]
        split: Option<String>,
        #[arg(long, default_value_t = 0)]
        offset: u64,
        #[arg(long, default_value_t = 100)]
        limit: usize,
        #[arg(long, default_value = "main")]
        revision: String,
        #[arg(long)]
        json: bool,
    },
}

impl From<DataError> for CliError {
    fn from(e: DataError) -> Self {
        match e {
            DataError::Missing(m) => CliError::Missing(m),
            DataError::Cancelled => CliError::Task(crate::tasks::TaskError::Cancelled),
            DataError::Remote(h) => CliError::Hub(h),
            other => CliError::Input(other.to_string()),
        }
    }
}

fn print_rows(
    table: &AnySplit,
    offset: u64,
    limit: usize,
    json: bool,
    cancel: &CancelToken,
) -> Result<(), CliError> {
    use std::io::Write;
    // One pass over the rows into a buffered standard output; a failure
    // to write stops the reading and is what is said.
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let mut failed = None;
    let mut line = String::new();
    let read = table.for_each_row(offset, limit as u64, cancel, &mut |row| {
        let written = if json {
            row.write_json(&mut out).and_then(|_| out.write_all(b"\n"))
        } else {
            // index, then column=value a tab apart, in one reused buffer.
            line.clear();
            line.push_str(&row.index.to_string());
            for (k, v) in &row.cells {
                line.push('\t');
                line.push_str(k);
                line.push('=');
                v.short_into(&mut line, 60);
            }
            line.push('\n');
            out.write_all(line.as_bytes())
        };
        written.map_err(|e| {
            failed = Some(e);
            DataError::Cancelled
        })
    });
    let flushed = out.flush();
    match (failed.map(Err).unwrap_or(flushed), read) {
        (Err(e), _) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        (Err(e), _) => Err(CliError::Failed(format!(
            "Could not write the output: {e}."
        ))),
        (Ok(()), r) => r.map_err(CliError::from),
    }
}

pub fn run(hub: &Hub, args: DatasetArgs) -> Result<(), CliError> {
    let cancel = crate::work::cancel_on_interrupt();
    match args.command {
        DatasetCommand::Search {
            query,
            task,
            modality,
            sort,
            limit,
            json,
        } => search(hub, query, &task, modality, &sort, limit, json)?,
        DatasetCommand::Download {
            dataset,
            config,
            split,
            revision,
            json,
        } => download(
            hub,
            &dataset,
            (config.as_deref(), split.as_deref()),
            revision.as_deref(),
            json,
            &cancel,
        )?,
        DatasetCommand::Info {
            dataset,
            revision,
            json,
        } => {
            let mut info = Dataset::open(hub, &dataset, &revision, &cancel)?.info()?;
            if !Path::new(&dataset).exists() {
                info.id = dataset;
            }
            if json {
                outln!(
                    "{}",
                    serde_json::to_string_pretty(&info.to_json()).unwrap_or_default()
                );
            } else {
                outln!("{}", info.id);
                for c in &info.configs {
                    for s in &c.splits {
                        outln!(
                            "  {}/{}: {} rows, {}",
                            c.name,
                            s.name,
                            s.num_rows.map(|n| n.to_string()).unwrap_or("?".into()),
                            s.num_bytes
                                .map(crate::format::format_bytes)
                                .unwrap_or("?".into())
                        );
                    }
                }
                outln!("Columns:");
                for (name, f) in &info.features {
                    outln!("  {name}: {}", f.describe());
                }
                outln!(
                    "Fits: {}",
                    crate::datasets::features::fit(&info.features).explain()
                );
            }
        }
        DatasetCommand::Export {
            dataset,
            config,
            split,
            revision,
            filter,
            shuffle,
            take,
            test_size,
            to,
            json,
        } => {
            use crate::datasets::prepare::{self, Filter, Prepare};
            let plan = Prepare {
                filter: filter.as_deref().map(Filter::parse).transpose()?,
                shuffle,
                take,
                test_fraction: test_size,
            };
            if crate::datasets::write::Format::of(&to).is_none() {
                return Err(CliError::Input(format!(
                    "{} should end in .parquet, .csv or .jsonl.",
                    to.display()
                )));
            }
            let opened = Dataset::open(hub, &dataset, &revision, &cancel)?;
            let (c, s) = choose(&opened.configs(), config.as_deref(), split.as_deref())?;
            let table = opened.split(&c, &s)?;
            // Rows read (a filter's pass) and written, on a terminal.
            let bar = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
                indicatif::ProgressBar::new(0).with_style(
                    indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} rows")
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                )
            } else {
                indicatif::ProgressBar::hidden()
            };
            let show = |msg: &'static str, done: u64, total: u64| {
                bar.set_message(msg);
                bar.set_length(total);
                bar.set_position(done);
            };
            let chosen =
                prepare::select(&table, &plan, &cancel, &mut |d, t| show("Filtering", d, t));
            let written = chosen.and_then(|chosen| {
                prepare::export(&table, &chosen, &to, &cancel, &mut |d, t| {
                    show("Writing", d, t)
                })
            });
            bar.finish_and_clear();
            let written = written?;
            if json {
                outln!(
                    "{}",
                    serde_json::json!({"files": written.iter().map(|(p, n)| serde_json::json!({
                        "path": p.display().to_string(), "rows": n})).collect::<Vec<_>>()})
                );
            } else {
                for (p, n) in &written {
                    outln!("{}: {n} rows", p.display());
                }
            }
        }
        DatasetCommand::Rows {
            dataset,
            config,
            split,
            offset,
            limit,
            revision,
            json,
        } => {
            let opened = Dataset::open(hub, &dataset, &revision, &cancel)?;
            let (c, s) = choose(&opened.configs(), config.as_deref(), split.as_deref())?;
            let split = opened.split(&c, &s)?;
            print_rows(&split, offset, limit, json, &cancel)?;
            if let Some((fetched, total)) = split.fetched() {
                eprintln!(
                    "note: read {} of {} from the Hub",
                    crate::format::format_bytes(fetched),
                    crate::format::format_bytes(total)
                );
            }
        }
    }
    Ok(())
}

fn search(
    hub: &Hub,
    text: String,
    task: &str,
    modality: Option<String>,
    sort: &str,
    limit: usize,
    json: bool,
) -> Result<(), CliError> {
    let task = crate::hub::TaskFilter::parse(task).ok_or_else(|| {
        CliError::Input(format!(
            "Unknown task \"{task}\": use automatic-speech-recognition, translation, image-to-text or all."
        ))
    })?;
    let sort = crate::hub::Sort::parse(sort).ok_or_else(|| {
        CliError::Input(format!(
            "Unknown sort \"{sort}\": use downloads, likes or updated."
        ))
    })?;
    let page = hub.search_datasets(&crate::hub::datasets::DatasetQuery {
        text,
        task,
        modality,
        sort,
        limit,
    })?;
    let fits: Vec<crate::datasets::Fit> = page
        .datasets
        .iter()
        .map(|d| crate::datasets::features::fit_of(d.card_data.as_ref(), &d.tags, &d.files, &d.id))
        .collect();
    if json {
        let list: Vec<serde_json::Value> = page
            .datasets
            .iter()
            .zip(&fits)
            .map(|(d, f)| {
                serde_json::json!({
                    "id": d.id,
                    "downloads": d.downloads,
                    "likes": d.likes,
                    "gated": d.gated,
                    "private": d.private,
                    "last_modified": d.last_modified,
                    "size_bytes": d.size_bytes,
                    "fits": f.panel().map(|p| p.label()),
                    "fit": f.explain(),
                })
            })
            .collect();
        outln!(
            "{}",
            serde_json::to_string_pretty(&list).unwrap_or_default()
        );
    } else if page.datasets.is_empty() {
        outln!("No datasets match.");
    } else {
        for (d, f) in page.datasets.iter().zip(&fits) {
            outln!(
                "{:<48} {:>9} downloads {:>6} likes {:>10}{}  {}",
                d.id,
                d.downloads,
                d.likes,
                d.size_bytes
                    .map(crate::format::format_bytes)
                    .unwrap_or_default(),
                if d.gated { "  gated" } else { "" },
                f.explain()
            );
        }
    }
    Ok(())
}

fn download(
    hub: &Hub,
    id: &str,
    (config, split): (Option<&str>, Option<&str>),
    revision: Option<&str>,
    json: bool,
    cancel: &CancelToken,
) -> Result<(), CliError> {
    let remote = RemoteDataset::open_at(hub, id, revision, cancel.clone())?;
    let configs = remote.configs();
    let (c, _) = choose(&configs, config, split)?;
    let mut bar = super::ProgressBar::new();
    let snap = remote.download(&c, split, &mut |p| bar.show(p));
    bar.finish();
    let snap = snap?;
    let files: Vec<String> = walk_files(&snap.path);
    if json {
        outln!(
            "{}",
            serde_json::json!({
                "repo": snap.repo,
                "revision": remote.revision,
                "commit": snap.commit,
                "files": files,
                "bytes_fetched": snap.bytes_fetched,
            })
        );
    } else {
        outln!(
            "{} ({}{}) is in the cache: {}",
            snap.repo,
            c,
            split.map(|s| format!("/{s}")).unwrap_or_default(),
            snap.path.display()
        );
    }
    Ok(())
}

/// The files under a snapshot folder, sorted.
fn walk_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.display().to_string());
            }
        }
    }
    out.sort();
    out
}
