//! Image captioning with BLIP (`BlipForConditionalGeneration`): the model
//! ([`model`]) in the Hugging Face layout, its configuration completed as
//! transformers completes it, and caption generation ([`generate`]).

pub mod generate;
pub mod image;
pub mod model;
