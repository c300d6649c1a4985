//! Spaceport's integration tests, one binary (as ripgrep's `tests/tests.rs`):
//! candle, egui, cpal and symphonia are linked once instead of once per
//! file. Each module is one area; `support` holds the stand-in Hub, the
//! fixtures' helpers and the one kittest harness builder.
//!
//! The tests that play sound into the PulseAudio null sink take
//! `support::sink_turn()`, so they never hear each other. Tests named
//! `alone_*` (real-time recording, a process-wide memory peak) are run by
//! `scripts/test.sh` after the rest, one at a time.

mod support;

mod audio_decode;
mod caption_cli;
mod caption_image;
mod caption_model;
mod captions;
mod cli;
mod damaged_files;
mod datasets_local;
mod datasets_prepare;
mod datasets_remote;
mod device_generic;
mod evaluate;
mod exit_codes;
mod hub_download;
mod layers;
mod metrics;
mod mic;
mod precision;
mod python_interop;
mod silero;
mod transcribe_live;
mod transcribe_real;
mod translate_cli;
mod translate_model;
mod translate_tokenizer;
mod ui_app;
mod ui_caption;
mod ui_datasets;
mod ui_evaluate;
mod ui_shortcuts;
mod ui_transcribe;
mod ui_translate;
mod ui_welcome;
mod whisper_features;
mod word_timestamps;
mod workers;
