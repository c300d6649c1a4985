//! Turns worker events into UI state. Runs before every frame and also
//! while the window is hidden; it never draws and never blocks.

use super::{App, DetailsState, DownloadState, LibraryState, SearchState, TranscribeStatus};
use crate::format::format_bytes;
use crate::workers::Event;

impl App {
    /// Applies every event that has arrived since the last frame.
    pub fn drain_events(&mut self) {
        while let Ok(event) = self.events.try_recv() {
            self.apply(event);
        }
    }

    fn apply(&mut self, event: Event) {
        // Pages that own their state take their own events.
        if self.translate.on_event(&event) {
            return;
        }
        match event {
            Event::SearchResults {
                generation,
                page,
                append,
            } => {
                if generation != self.hub.generation {
                    return; // a stale search
                }
                self.unreachable = None;
                if append {
                    self.hub.results.extend(page.models);
                } else {
                    self.hub.results = page.models;
                }
                self.hub.next = page.next;
                self.hub.search = SearchState::Idle;
            }
            Event::SearchFailed {
                generation,
                error,
                offline,
            } => {
                if generation != self.hub.generation {
                    return;
                }
                if offline {
                    self.unreachable = Some(error.clone());
                }
                self.hub.search = SearchState::Failed(error);
            }
            Event::Details(d) => {
                let wanted = match &self.hub.details {
                    DetailsState::Loading { repo } => repo == &d.summary.id,
                    _ => false,
                };
                if wanted {
                    self.hub.details = DetailsState::Ready(d);
                }
            }
            Event::DetailsFailed {
                repo,
                error,
                offline,
            } => {
                if offline {
                    self.unreachable = Some(error.clone());
                }
                if matches!(&self.hub.details, DetailsState::Loading { repo: r } if *r == repo) {
                    self.hub.details = DetailsState::Failed { repo, error };
                }
            }
            Event::DownloadProgress(p) => {
                let cancelling = matches!(
                    self.downloads.get(&p.repo),
                    Some(DownloadState::Cancelling(_))
                );
                let state = if cancelling {
                    DownloadState::Cancelling(p.clone())
                } else {
                    DownloadState::Running(p.clone())
                };
                self.downloads.insert(p.repo, state);
            }
            Event::DownloadDone(s) => {
                self.notify(format!("{} is downloaded and ready offline.", s.repo));
                self.downloads
                    .insert(s.repo, DownloadState::Done { commit: s.commit });
            }
            Event::DownloadFailed {
                repo,
                error,
                cancelled,
            } => {
                if cancelled {
                    self.downloads.insert(repo, DownloadState::Cancelled);
                } else {
                    self.notify_error(format!("Download of {repo} failed: {error}"));
                    self.downloads.insert(repo, DownloadState::Failed(error));
                }
            }
            Event::Cache(models) => self.library = LibraryState::Ready(models),
            Event::CacheFailed(e) => self.library = LibraryState::Failed(e),
            Event::Deleted { repo, freed_bytes } => {
                self.downloads.remove(&repo);
                self.notify(format!(
                    "Deleted {repo} and freed {}.",
                    format_bytes(freed_bytes)
                ));
            }
            Event::DeleteFailed { repo, error } => {
                self.notify_error(format!("Could not delete {repo}: {error}"));
            }
            Event::TokenSaved { masked } => {
                self.notify(match &masked {
                    Some(m) => format!("Token {m} saved to {}.", self.config.token_path.display()),
                    None => "Token removed.".to_string(),
                });
                self.token_masked = masked;
            }
            Event::TokenFailed(e) => self.notify_error(format!("Could not save the token: {e}")),
            Event::TranscriptionLoading { generation } => {
                if generation == self.transcribe.generation {
                    self.transcribe.status = TranscribeStatus::LoadingModel;
                }
            }
            Event::TranscriptionSegment {
                generation,
                segment,
                progress,
            } => {
                if generation == self.transcribe.generation {
                    self.transcribe.status = TranscribeStatus::Running { progress };
                    self.transcribe.segments.push(segment);
                }
            }
            Event::TranscriptionDone {
                generation,
                transcript,
                note,
            } => {
                if generation == self.transcribe.generation {
                    let page = &mut self.transcribe;
                    page.status = TranscribeStatus::Idle;
                    page.segments = transcript.segments.clone();
                    page.note = note;
                    if let Some(f) = &page.file {
                        let name = f
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default();
                        page.history
                            .push((name, Some(f.clone()), transcript.clone()));
                    }
                    page.transcript = Some(transcript);
                    self.next_in_queue();
                }
            }
            Event::TranscriptionFailed { generation, error } => {
                if generation == self.transcribe.generation {
                    if self.transcribe.queue.is_empty() {
                        self.transcribe.status = TranscribeStatus::Failed(error);
                    } else {
                        // Say what went wrong and go on with the next file.
                        let name = self
                            .transcribe
                            .file
                            .as_ref()
                            .map(|f| f.display().to_string())
                            .unwrap_or_default();
                        self.notify_error(format!("{name}: {error}"));
                        self.next_in_queue();
                    }
                }
            }
            Event::InputDevices(devices) => {
                let page = &mut self.transcribe;
                if page
                    .input_device
                    .as_ref()
                    .is_some_and(|d| !devices.contains(d))
                {
                    page.input_device = None; // unplugged: back to the default
                }
                page.input_devices = Some(devices);
            }
            Event::ModelLanguages { dir, languages } => {
                let page = &mut self.transcribe;
                if page
                    .language
                    .as_ref()
                    .is_some_and(|l| !languages.is_empty() && !languages.contains(l))
                {
                    page.language = None;
                }
                page.languages = Some((dir, languages));
            }
            Event::FilesChosen { purpose, paths } => match purpose {
                crate::workers::DialogPurpose::OpenPictures
                | crate::workers::DialogPurpose::OpenFolder => {
                    if let Some(model) = self.caption.chosen_model.clone()
                        && !paths.is_empty()
                    {
                        self.start_captions(model, paths);
                    }
                }
                _ => {
                    if let Some(model) = self.transcribe.chosen_model.clone() {
                        self.transcribe_files(model, paths);
                    }
                }
            },
            Event::CaptionLoading { generation } => {
                if generation == self.caption.generation {
                    self.caption.loading = true;
                }
            }
            Event::CaptionQueued { generation, paths } => {
                if generation == self.caption.generation {
                    self.caption.rows = paths
                        .into_iter()
                        .map(|path| crate::app::CaptionRow {
                            path,
                            result: None,
                            preview: None,
                            thumbnail: None,
                        })
                        .collect();
                }
            }
            Event::CaptionItem {
                generation,
                index,
                result,
                thumbnail,
            } => {
                if generation == self.caption.generation {
                    self.caption.loading = false;
                    if let Some(row) = self.caption.rows.get_mut(index) {
                        row.result = Some(result);
                        row.preview = thumbnail;
                    }
                }
            }
            Event::CaptionFinished { generation, error } => {
                if generation == self.caption.generation {
                    let page = &mut self.caption;
                    page.loading = false;
                    page.running = false;
                    page.error = error;
                }
            }
            Event::LiveReady { generation } => {
                if generation == self.transcribe.generation
                    && self.transcribe.status == TranscribeStatus::LoadingModel
                {
                    self.transcribe.status = TranscribeStatus::Idle;
                }
            }
            Event::LivePartial { generation, text } => {
                if generation == self.transcribe.generation {
                    self.transcribe.partial = Some(text);
                }
            }
            Event::LiveFinal {
                generation,
                segments,
            } => {
                if generation == self.transcribe.generation {
                    self.transcribe.partial = None;
                    self.transcribe.segments.extend(segments);
                }
            }
            Event::DictationDone {
                generation,
                language,
                error,
                note,
            } => {
                if generation == self.transcribe.generation {
                    let page = &mut self.transcribe;
                    page.dictating = false;
                    page.partial = None;
                    page.recording = None;
                    page.note = note;
                    if let Some(e) = error {
                        page.status = TranscribeStatus::Failed(e);
                    } else if page.status == TranscribeStatus::LoadingModel {
                        page.status = TranscribeStatus::Idle;
                    }
                    if !page.segments.is_empty() {
                        let transcript =
                            crate::tasks::transcribe::decode::Transcript::from_segments(
                                page.segments.clone(),
                                language,
                            );
                        page.dictations += 1;
                        page.history.push((
                            format!("Dictation {}", page.dictations),
                            None,
                            transcript.clone(),
                        ));
                        page.transcript = Some(transcript);
                    }
                }
            }
            Event::RecordingLevel {
                generation,
                dbfs,
                seconds,
                overflow,
            } => {
                if generation == self.transcribe.generation && self.transcribe.dictating {
                    self.transcribe.recording = Some((dbfs, seconds, overflow));
                }
            }
            Event::Saved { path } => self.notify(format!("Saved {}.", path.display())),
            Event::SaveFailed { path, error } => {
                self.notify_error(format!("Could not save {}: {error}", path.display()));
            }
            // The Translate page's, taken above.
            Event::TranslationLoading { .. }
            | Event::TranslationPartial { .. }
            | Event::TranslationDone { .. }
            | Event::TranslationFailed { .. } => {}
            Event::Busy => self.notify_error(
                "Spaceport could not start a worker; close some downloads and try again.".into(),
            ),
        }
    }
}
