//! Spaceport: Hugging Face Spaces-style demos on one person's machine.
//!
//! Module map (see `ARCHITECTURE.md` for the threads and how they talk):
//!
//! - [`hub`]: the Hugging Face Hub — REST client (search, details, tree),
//!   resumable verified downloads into the standard HF cache, cache scans and
//!   deletion, tokens and offline mode. Never imports egui.
//! - [`catalog`]: `models.toml` (the recommended models) and the rules that
//!   decide whether a Hub model runs here, in which panel, and which of its
//!   files it needs.
//! - [`datasets`]: datasets (the Hub's parquet, the user's parquet, CSV,
//!   JSON Lines and media folders) read a row group at a time, their column
//!   types, which demo they fit, and prepared and exported.
//! - [`metrics`]: WER/CER, sacreBLEU's BLEU and chrF, bootstrap intervals
//!   and paired tests, exactly as the reference packages compute them.
//! - [`rng`]: a seeded generator for shuffles and resamples.
//! - [`evaluate`]: a model over a dataset split, scored and timed.
//! - [`audio`]: audio files decoded and resampled to what the models take,
//!   and the one [`audio::recorder::Recorder`] the window and CLI record with.
//! - [`tasks`]: the models (translate, caption, transcribe), what they
//!   share, the compute device, and the one [`tasks::TaskError`].
//! - [`work`]: cancellation, named threads, throttled progress, caught
//!   panics and Ctrl-C — below every other layer.
//! - [`workers`]: the `Command`/`Event` protocol between the UI and the
//!   worker threads, and one file per job family.
//! - [`cli`]: the headless twin of every panel.
//! - [`format`]: sizes, durations and counts as people read them.
//! - [`app`]: the egui window (the only module that names egui).
//! - [`settings`]: what persists across restarts.

pub mod app;
pub mod audio;
pub mod catalog;
pub mod cli;
pub mod datasets;
pub mod evaluate;
pub mod format;
pub mod hub;
pub mod metrics;
pub mod rng;
pub mod settings;
pub mod tasks;
pub mod work;
pub mod workers;
