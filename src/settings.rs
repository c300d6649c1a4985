//! What the window remembers across restarts (stored by eframe's
//! persistence under the app id): theme, offline switch, compute device and
//! the last search filters, and how fast the last download came. The token is not here: it lives in the standard
//! Hugging Face token file, where other tools find it too.

use serde::{Deserialize, Serialize};

use crate::hub::{Sort, TaskFilter};
use crate::tasks::device::{ComputeType, DeviceChoice};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Theme {
    #[default]
    System,
    Light,
    Dark,
}

/// What the caption window shows of each line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum CaptionShow {
    #[default]
    Both,
    Original,
    Translation,
}

impl CaptionShow {
    pub const ALL: [CaptionShow; 3] = [Self::Both, Self::Original, Self::Translation];

    pub fn label(self) -> &'static str {
        match self {
            Self::Both => "Original and translation",
            Self::Original => "Original",
            Self::Translation => "Translation",
        }
    }
}

/// The caption window's colours: text on background.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum CaptionColors {
    #[default]
    WhiteOnBlack,
    YellowOnBlack,
    BlackOnWhite,
}

impl CaptionColors {
    pub const ALL: [CaptionColors; 3] =
        [Self::WhiteOnBlack, Self::YellowOnBlack, Self::BlackOnWhite];

    pub fn label(self) -> &'static str {
        match self {
            Self::WhiteOnBlack => "White on black",
            Self::YellowOnBlack => "Yellow on black",
            Self::BlackOnWhite => "Black on white",
        }
    }

    /// (text, translation text, background) as RGB.
    pub fn rgb(self) -> ([u8; 3], [u8; 3], [u8; 3]) {
        match self {
            Self::WhiteOnBlack => ([255, 255, 255], [150, 220, 255], [0, 0, 0]),
            Self::YellowOnBlack => ([255, 230, 40], [255, 255, 255], [0, 0, 0]),
            Self::BlackOnWhite => ([0, 0, 0], [0, 70, 160], [255, 255, 255]),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub theme: Theme,
    /// Work from the cache only, as with `HF_HUB_OFFLINE=1`.
    pub offline: bool,
    pub device: DeviceChoice,
    /// The number format the models compute in.
    pub compute: ComputeType,
    /// Transcribe recordings longer than 30 s a batch of windows at a
    /// time (see `TranscribeOptions::batch_size`).
    pub batched_transcription: bool,
    /// Time each word of a transcript (Whisper's cross-attention
    /// alignment): karaoke subtitles and words highlighted in playback.
    pub word_timestamps: bool,
    /// Live captions: translate what is said into this language (`None`:
    /// only the transcript).
    pub live_translate_to: Option<String>,
    /// Live captions into English: by Whisper's own translate task (a
    /// multilingual model) rather than a translation model.
    pub live_whisper_translate: bool,
    /// The always-on-top caption window: shown, its text size (points),
    /// what it shows and in which colours.
    pub caption_window: bool,
    pub caption_size: f32,
    pub caption_show: CaptionShow,
    pub caption_colors: CaptionColors,
    /// Where the caption window was last (its outer left and top, its
    /// inner width and height, in points), to open it there again.
    pub caption_window_rect: Option<[f32; 4]>,
    pub search_task: TaskFilter,
    pub search_sort: Sort,
    /// How fast the last large download came (bytes a second), for the
    /// Welcome page's estimates.
    pub download_rate_bps: Option<f64>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            theme: Theme::System,
            offline: false,
            device: DeviceChoice::Auto,
            compute: ComputeType::Default,
            batched_transcription: true,
            word_timestamps: false,
            live_translate_to: None,
            live_whisper_translate: false,
            caption_window: false,
            caption_size: 34.0,
            caption_show: CaptionShow::Both,
            caption_colors: CaptionColors::WhiteOnBlack,
            caption_window_rect: None,
            search_task: TaskFilter::All,
            search_sort: Sort::Downloads,
            download_rate_bps: None,
        }
    }
}

/// The key under which eframe stores [`Settings`].
pub const STORAGE_KEY: &str = "spaceport-settings";

/// The app's data folder (kept evaluation runs): `$SPACEPORT_DATA_DIR`,
/// else the platform's — `$XDG_DATA_HOME/spaceport` or
/// `~/.local/share/spaceport` (Linux, where eframe keeps the window's
/// state too), `~/Library/Application Support/Spaceport` (macOS),
/// `%APPDATA%\Spaceport` (Windows).
pub fn data_dir() -> std::path::PathBuf {
    use std::path::PathBuf;
    let var = |k: &str| {
        std::env::var_os(k)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    if let Some(d) = var("SPACEPORT_DATA_DIR") {
        return d;
    }
    let home = std::env::home_dir();
    let platform = if cfg!(target_os = "macos") {
        home.map(|h| h.join("Library/Application Support/Spaceport"))
    } else if cfg!(windows) {
        var("APPDATA").map(|a| a.join("Spaceport"))
    } else {
        var("XDG_DATA_HOME")
            .or_else(|| home.map(|h| h.join(".local/share")))
            .map(|d| d.join("spaceport"))
    };
    platform.unwrap_or_else(|| std::env::temp_dir().join("spaceport"))
}
