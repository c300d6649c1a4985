//! What the window remembers across restarts (stored by eframe's
//! persistence under the app id): theme, offline switch, compute device and
//! the last search filters. The token is not here: it lives in the standard
//! Hugging Face token file, where other tools find it too.

use serde::{Deserialize, Serialize};

use crate::hub::{Sort, TaskFilter};
use crate::tasks::device::DeviceChoice;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Theme {
    #[default]
    System,
    Light,
    Dark,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub theme: Theme,
    /// Work from the cache only, as with `HF_HUB_OFFLINE=1`.
    pub offline: bool,
    pub device: DeviceChoice,
    pub search_task: TaskFilter,
    pub search_sort: Sort,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            theme: Theme::System,
            offline: false,
            device: DeviceChoice::Auto,
            search_task: TaskFilter::All,
            search_sort: Sort::Downloads,
        }
    }
}

/// The key under which eframe stores [`Settings`].
pub const STORAGE_KEY: &str = "spaceport-settings";
