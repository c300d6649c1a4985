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
//! - [`audio`]: audio files decoded and resampled to what the models take.
//! - [`tasks`]: compute-device choice and the worker plumbing (named threads,
//!   cancellation, progress) that every long job uses.
//! - [`workers`]: the `Command`/`Event` protocol between the UI and the
//!   worker threads.
//! - [`cli`]: the headless twin of every panel.
//! - [`format`]: sizes, durations and counts as people read them.
//! - [`app`]: the egui window (egui only: state, logic, drawing).
//! - [`settings`]: what persists across restarts.

pub mod app;
pub mod audio;
pub mod catalog;
pub mod cli;
pub mod format;
pub mod hub;
pub mod settings;
pub mod tasks;
pub mod work;
pub mod workers;
