//! Speech recognition with Whisper. So far: the log-mel features
//! ([`mel`]) computed as transformers' `WhisperFeatureExtractor` does; the
//! model, decoding and the panel come next (issue 3).

pub mod mel;
pub mod model;
