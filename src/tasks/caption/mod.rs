//! Image captioning with BLIP (`BlipForConditionalGeneration`): pictures
//! to pixel tensors as `BlipImageProcessor` makes them ([`image`]), the
//! model ([`model`]) in the Hugging Face layout with its configuration
//! completed as transformers completes it, caption generation
//! ([`generate`]), and [`Captioner`], which ties them to the model's
//! tokenizer.

pub mod generate;
pub mod image;
pub mod model;

use std::path::Path;

use candle_core::{Device, Tensor};

use crate::tasks::TaskError;
use generate::{CaptionOptions, beam_search, generation_config, greedy, prefix};
use image::{ImageConfig, Rgb, pixel_values};
use model::Blip;

use crate::tasks::nn::ModelFileError;
use crate::work::CancelToken;

/// A caption: its text and the generated ids (the prefix included).
#[derive(Clone, Debug, serde::Serialize)]
pub struct Caption {
    pub text: String,
    pub token_ids: Vec<u32>,
}

/// How to caption one picture.
#[derive(Clone, Debug, Default)]
pub struct CaptionRequest {
    /// Text the caption starts with ("a photography of").
    pub prompt: Option<String>,
    /// Beam search width; 1 or none decodes greedily (BLIP's default).
    pub beams: Option<usize>,
    /// New tokens at most (20 by default, as transformers).
    pub max_new_tokens: Option<usize>,
}

/// A loaded BLIP model with its tokenizer and image settings.
pub struct Captioner {
    pub model: Blip,
    tokenizer: tokenizers::Tokenizer,
    pub image: ImageConfig,
}

impl Captioner {
    /// Loads a model folder (`config.json`, weights, `tokenizer.json`,
    /// `preprocessor_config.json`).
    pub fn load(dir: &Path, device: &Device) -> Result<Self, TaskError> {
        Self::load_placed(dir, &crate::tasks::nn::Placement::new(device))
    }

    /// [`Self::load`] with the device, precision and kernels of `place`.
    pub fn load_placed(dir: &Path, place: &crate::tasks::nn::Placement) -> Result<Self, TaskError> {
        let model = Blip::load_placed(dir, place)?;
        let tokenizer = crate::tasks::nn::load_tokenizer(dir)?;
        let image = ImageConfig::load(dir);
        image
            .check()
            .map_err(|e| TaskError::File(ModelFileError::bad("preprocessor_config.json", e)))?;
        Ok(Self {
            model,
            tokenizer,
            image,
        })
    }

    /// The model's input tensor (1, 3, h, w) for a picture.
    pub fn pixels(&self, img: &Rgb) -> Result<Tensor, TaskError> {
        let (sized, v) = pixel_values(img, &self.image);
        Ok(Tensor::from_vec(
            v,
            (1, 3, sized.height, sized.width),
            self.model.device(),
        )?)
    }

    /// Captions a picture.
    pub fn caption(
        &self,
        img: &Rgb,
        req: &CaptionRequest,
        cancel: &CancelToken,
    ) -> Result<Caption, TaskError> {
        let embeds = self
            .model
            .encode_image_cancellable(&self.pixels(img)?, cancel)?
            .ok_or(TaskError::Cancelled)?;
        let prompt_ids = match req.prompt.as_deref().map(str::trim) {
            Some(p) if !p.is_empty() => Some(
                self.tokenizer
                    .encode(p, true)
                    .map_err(|e| TaskError::Model(e.to_string()))?
                    .get_ids()
                    .to_vec(),
            ),
            _ => None,
        };
        let start = prefix(&self.model, prompt_ids.as_deref());
        let opts = CaptionOptions {
            max_length: req.max_new_tokens.map(|n| start.len() + n),
            length_penalty: None,
        };
        let beams = req.beams.unwrap_or(1).max(1);
        let ids = if beams == 1 {
            greedy(&self.model, &embeds, &start, &opts, cancel)?
        } else {
            let cfg = generation_config(&self.model, start.len(), beams, &opts);
            beam_search(&self.model, &embeds, &start, &cfg, cancel)?
        };
        let text = self
            .tokenizer
            .decode(&ids, true)
            .map_err(|e| TaskError::Model(e.to_string()))?;
        Ok(Caption {
            text: text.trim().to_string(),
            token_ids: ids,
        })
    }
}

/// Captions of a batch as CSV (`image,caption`; quoted as RFC 4180).
pub fn to_csv(rows: &[(String, String)]) -> String {
    // The csv crate quotes as RFC 4180 and spreadsheets expect: fields
    // with commas, quotes or line breaks quoted, quotes doubled.
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut write = || -> csv::Result<Vec<u8>> {
        w.write_record(["image", "caption"])?;
        for (image, text) in rows {
            w.write_record([image, text])?;
        }
        w.flush()?;
        Ok(w.get_ref().clone())
    };
    // Writing to memory fails only on a bug; say so in the file.
    write()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_else(|e| format!("could not write CSV: {e}\n"))
}

/// Captions of a batch as a JSON list of `{"image", "text"}`.
pub fn to_json(rows: &[(String, String)]) -> String {
    let v: Vec<serde_json::Value> = rows
        .iter()
        .map(|(image, text)| serde_json::json!({"image": image, "text": text}))
        .collect();
    serde_json::to_string_pretty(&v).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn exports_quote_what_needs_it() {
        let rows = vec![("a, b.png".to_string(), "a \"red\" cat".to_string())];
        assert_eq!(
            super::to_csv(&rows),
            "image,caption\n\"a, b.png\",\"a \"\"red\"\" cat\"\n"
        );
        // A caption over two lines stays one field.
        let two = vec![("x.png".to_string(), "one\ntwo".to_string())];
        assert_eq!(super::to_csv(&two), "image,caption\nx.png,\"one\ntwo\"\n");
        let v: serde_json::Value = serde_json::from_str(&super::to_json(&rows)).unwrap();
        assert_eq!(v[0]["text"], "a \"red\" cat");
    }
}
