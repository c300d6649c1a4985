//! [`TaskError`]: the one error every model task (translate, transcribe,
//! caption) reports, so the window, the CLI and its exit codes treat a
//! missing file, an unusable model, a bad request, a failure while running
//! and a deliberate stop the same way whatever the model. Its `Display` is
//! the sentence a person reads.

use crate::tasks::nn::ModelFileError;

/// Why a model task could not load, could not run, or did not finish.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// A file of the model folder is missing or cannot be read.
    #[error(transparent)]
    File(#[from] ModelFileError),
    /// The model's files are readable but describe something Spaceport
    /// cannot run (an unknown architecture, sizes that do not fit).
    #[error("This model can't be used: {0}.")]
    Unsupported(String),
    /// A multi-target translation model was given no target language.
    #[error(
        "This model translates into several languages; choose one with --to, or start the text with its code such as >>fra<< ({0})."
    )]
    NeedsTarget(String),
    /// The target language asked for is not one the model knows.
    #[error("This model can't translate into \"{wanted}\"; it offers {offered}.")]
    UnknownTarget { wanted: String, offered: String },
    /// The model failed while running.
    #[error("The model failed while running: {0}")]
    Model(String),
    /// Stopped on purpose (Stop, a newer job, Ctrl-C).
    #[error("Cancelled.")]
    Cancelled,
}

impl TaskError {
    /// The process exit code the CLI returns for this error (the README's
    /// table): 3 a missing model file, 8 an unusable model, 2 a bad
    /// request, 130 cancelled, 1 a failure while running.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::File(ModelFileError::Missing { .. }) => 3,
            Self::File(ModelFileError::Bad { .. }) | Self::Unsupported(_) => 8,
            Self::NeedsTarget(_) | Self::UnknownTarget { .. } => 2,
            Self::Cancelled => 130,
            Self::Model(_) => 1,
        }
    }

    pub fn is_cancelled(&self) -> bool {
        matches!(self, Self::Cancelled)
    }
}

impl From<candle_core::Error> for TaskError {
    fn from(e: candle_core::Error) -> Self {
        Self::Model(e.to_string())
    }
}

pub type Result<T, E = TaskError> = std::result::Result<T, E>;
