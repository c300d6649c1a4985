//! Translation with Marian (`Helsinki-NLP/opus-mt-*`) models: the
//! SentencePiece reader ([`spm`]), the `MarianTokenizer` twin
//! ([`tokenizer`]), the model in candle ([`model`]) and generation
//! ([`generate`]).

pub mod generate;
pub mod model;
pub mod spm;
pub mod tokenizer;

/// Why a translation model cannot be loaded or run, in words.
#[derive(Debug, thiserror::Error)]
pub enum TranslateError {
    #[error("The model folder has no {file} ({reason}).")]
    MissingFile { file: String, reason: String },
    #[error("{file} in the model folder could not be read: {reason}.")]
    BadFile { file: String, reason: String },
    #[error("This model can't be used: {0}.")]
    Unsupported(String),
    #[error("The model failed while running: {0}")]
    Model(String),
    #[error("Cancelled.")]
    Cancelled,
}
