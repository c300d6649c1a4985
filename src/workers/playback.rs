//! Playing a dataset's sound or a transcribed recording: one
//! `spaceport-player` thread a sound decodes it, plays it through
//! [`Playback`] and reports [`Event::Playing`] once it sounds, where it is
//! ([`Event::PlayPosition`]) a few times a second, then exactly one
//! [`Event::PlayEnded`] — at its end, on Stop, when another sound starts,
//! or with the reason it could not play.

use super::{Event, Sink};
use crate::audio::playback::Playback;
use crate::work::CancelToken;

/// The sound playing, if any: cancelling its token stops it.
#[derive(Default)]
pub(crate) struct Player {
    running: Option<CancelToken>,
}

impl Player {
    /// Stops what plays and plays `bytes` (a sound file called `name`);
    /// `id` names it in the events.
    pub(crate) fn play(&mut self, id: u64, bytes: Vec<u8>, name: String, sink: &Sink) {
        self.start(id, sink, move || Ok((bytes, name)));
    }

    /// As [`Self::play`], the file read on the player's thread.
    pub(crate) fn play_file(&mut self, id: u64, path: std::path::PathBuf, sink: &Sink) {
        self.start(id, sink, move || {
            std::fs::read(&path)
                .map(|bytes| (bytes, path.display().to_string()))
                .map_err(|e| format!("{} could not be read: {e}", path.display()))
        });
    }

    fn start(
        &mut self,
        id: u64,
        sink: &Sink,
        sound: impl FnOnce() -> Result<(Vec<u8>, String), String> + Send + 'static,
    ) {
        self.stop();
        let stop = CancelToken::new();
        self.running = Some(stop.clone());
        let sink2 = sink.clone();
        super::job("spaceport-player", sink, move || {
            let started = sound()
                .and_then(|(bytes, name)| Playback::start(bytes, &name).map_err(|e| e.to_string()));
            let error = match started {
                Ok(playback) => {
                    sink2.send(Event::Playing {
                        id,
                        seconds: playback.progress().1,
                    });
                    let mut tick = 0u32;
                    while !playback.finished() && !stop.is_cancelled() {
                        std::thread::sleep(std::time::Duration::from_millis(30));
                        tick += 1;
                        if tick.is_multiple_of(2) {
                            sink2.send(Event::PlayPosition {
                                id,
                                seconds: playback.progress().0,
                            });
                        }
                    }
                    let failure = playback.failure();
                    playback.stop();
                    failure
                }
                Err(e) => Some(e),
            };
            stop.cancel();
            sink2.send(Event::PlayEnded { id, error });
        });
    }

    pub(crate) fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            r.cancel();
        }
    }
}
