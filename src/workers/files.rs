//! File jobs: awaiting a file dialog that the UI thread opened
//! (`spaceport-dialog`), writing exports (`spaceport-save`), listing the
//! microphones (`spaceport-devices`) and reading which languages a
//! Whisper model folder knows (`spaceport-model-info`) — none of which may
//! block a frame.

use std::path::{Path, PathBuf};

use super::{Event, Sink, job};
use crate::tasks::transcribe::decode::Transcript;
use crate::tasks::transcribe::formats::{Format, render};

/// A file dialog, opened on the UI thread (where macOS wants it) and
/// awaited on a worker so the window keeps drawing.
pub struct Dialog(
    pub std::pin::Pin<Box<dyn std::future::Future<Output = Result<Vec<PathBuf>, String>> + Send>>,
);

impl std::fmt::Debug for Dialog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Dialog")
    }
}

/// What a file dialog was for.
#[derive(Clone, Debug)]
pub enum DialogPurpose {
    /// Audio files to transcribe.
    OpenAudio,
    /// Where to save a transcript; the format follows the extension
    /// chosen (`.txt` when there is none).
    SaveTranscript(Box<Transcript>),
    /// Pictures to caption.
    OpenPictures,
    /// A folder of pictures to caption.
    OpenFolder,
    /// A dataset to open: a parquet, CSV or JSON Lines file, or a folder.
    OpenDataset,
    /// Where to export a prepared split (parquet, CSV or JSON Lines by
    /// the extension).
    ExportDataset,
    /// Where to save live captions (each line and its translation): SRT,
    /// WebVTT, JSON or text (a tab between) by the ending.
    SaveCues(Vec<crate::tasks::captions::Cue>),
    /// Where to save a batch's captions, (image, caption) pairs: CSV, or
    /// JSON when the name ends in `.json`.
    SaveCaptions(Vec<(String, String)>),
    /// Where to export an evaluation run: CSV when the name ends in
    /// `.csv`, else JSON.
    SaveRun(Box<crate::evaluate::record::RunRecord>),
}

/// Waits for `dialog`; a save dialog's file is written here, an open
/// dialog's choice goes back to the page.
pub(crate) fn await_dialog(purpose: DialogPurpose, dialog: Dialog, sink: &Sink) {
    let sink2 = sink.clone();
    job("spaceport-dialog", sink, move || {
        let paths = match pollster::block_on(dialog.0) {
            Ok(paths) => paths,
            Err(error) => {
                sink2.send(Event::DialogFailed { error });
                return;
            }
        };
        match (purpose, paths.first()) {
            (DialogPurpose::SaveTranscript(t), Some(path)) => {
                let format = path
                    .extension()
                    .and_then(|e| Format::parse(&e.to_string_lossy()))
                    .unwrap_or(Format::Txt);
                let path = if path.extension().is_none() {
                    path.with_extension("txt")
                } else {
                    path.clone()
                };
                write(&sink2, &path, render(&t, format));
            }
            (DialogPurpose::SaveCues(cues), Some(path)) => {
                let format = path
                    .extension()
                    .and_then(|e| Format::parse(&e.to_string_lossy()))
                    .unwrap_or(Format::Srt);
                write(
                    &sink2,
                    path,
                    crate::tasks::captions::render_cues(&cues, format),
                );
            }
            (DialogPurpose::SaveCaptions(rows), Some(path)) => {
                let text = if path.extension().is_some_and(|e| e == "json") {
                    crate::tasks::caption::to_json(&rows)
                } else {
                    crate::tasks::caption::to_csv(&rows)
                };
                write(&sink2, path, text);
            }
            (DialogPurpose::SaveRun(run), Some(path)) => {
                let text = if path.extension().is_some_and(|e| e == "csv") {
                    run.to_csv()
                } else {
                    serde_json::to_string_pretty(&run.to_json()).unwrap_or_default()
                };
                write(&sink2, path, text);
            }
            // A save dialog that was cancelled: nothing to do.
            (
                DialogPurpose::SaveTranscript(_)
                | DialogPurpose::SaveCaptions(_)
                | DialogPurpose::SaveCues(_)
                | DialogPurpose::SaveRun(_),
                None,
            ) => {}
            (purpose, _) => {
                sink2.send(Event::FilesChosen { purpose, paths });
            }
        }
    });
}

/// Writes an export on a worker.
pub(crate) fn save_text(path: PathBuf, text: String, sink: &Sink) {
    let sink2 = sink.clone();
    job("spaceport-save", sink, move || write(&sink2, &path, text));
}

/// Writes several files on a worker, saying once how it went.
pub(crate) fn save_texts(files: Vec<(PathBuf, String)>, sink: &Sink) {
    let sink2 = sink.clone();
    job("spaceport-save", sink, move || {
        let folder = files
            .first()
            .and_then(|(p, _)| p.parent())
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let count = files.len();
        for (path, text) in files {
            if let Err(e) = std::fs::write(&path, text) {
                sink2.send(Event::SaveFailed {
                    error: crate::hub::HubError::io("write", &path, e).to_string(),
                    path,
                });
                return;
            }
        }
        sink2.send(Event::SavedMany { count, folder });
    });
}

fn write(sink: &Sink, path: &Path, text: String) {
    sink.send(match std::fs::write(path, text) {
        Ok(()) => Event::Saved {
            path: path.to_path_buf(),
        },
        Err(e) => Event::SaveFailed {
            error: crate::hub::HubError::io("write", path, e).to_string(),
            path: path.to_path_buf(),
        },
    });
}

pub(crate) fn list_input_devices(sink: &Sink) {
    let sink2 = sink.clone();
    job("spaceport-devices", sink, move || {
        sink2.send(Event::InputDevices(crate::audio::capture::input_devices()));
    });
}

pub(crate) fn list_compute_devices(sink: &Sink) {
    let sink2 = sink.clone();
    job("spaceport-compute-devices", sink, move || {
        let (offered, notes) = crate::tasks::device::offered();
        sink2.send(Event::ComputeDevices { offered, notes });
    });
}

pub(crate) fn model_languages(dir: PathBuf, sink: &Sink) {
    let sink2 = sink.clone();
    job("spaceport-model-info", sink, move || {
        let languages = crate::tasks::transcribe::model_languages(&dir);
        sink2.send(Event::ModelLanguages { dir, languages });
    });
}

/// Decodes a picture for a larger view on a `spaceport-picture` thread.
pub(crate) fn enlarge(id: u64, bytes: Vec<u8>, name: String, sink: &Sink) {
    let sink2 = sink.clone();
    job("spaceport-picture", sink, move || {
        let picture = crate::tasks::caption::image::decode(&bytes, &name)
            .map(|img| crate::tasks::caption::image::thumbnail(&img, 1024))
            .map_err(|e| e.to_string());
        sink2.send(Event::Enlarged { id, picture });
    });
}
