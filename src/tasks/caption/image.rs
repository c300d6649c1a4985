//! Pictures in, pixel tensors out, exactly as transformers'
//! `BlipImageProcessor` (its PIL backend) prepares them: the file decoded
//! (JPEG, PNG, WebP, GIF's first frame, BMP, TIFF) with its EXIF
//! orientation applied, made RGB (transparency composited onto white as
//! `convert_to_rgb` does, with PIL's integer arithmetic), resized to the
//! processor's size with PIL's resampling (bicubic by default; its
//! fixed-point two-pass convolution, so the bytes are PIL's), rescaled
//! and normalised with the processor's mean and std. 16-bit images keep
//! their high byte (PIL does so for RGB; for 16-bit grey it would clip).

use std::path::{Path, PathBuf};

use image::{DynamicImage, ImageDecoder, ImageReader};
use serde_json::Value;

/// Why a picture can't be used, in words for the user.
#[derive(Debug, thiserror::Error)]
pub enum PictureError {
    #[error("{0} was not found.")]
    Missing(String),
    #[error("{0} could not be read: {1}.")]
    Unreadable(String, String),
    #[error("{0} is not a picture Spaceport can open (JPEG, PNG, WebP, GIF, BMP or TIFF).")]
    NotAPicture(String),
    #[error("{0} is damaged: {1}.")]
    Damaged(String, String),
    #[error("{0} has no pixels.")]
    Empty(String),
}

/// An 8-bit RGB picture, rows top to bottom.
#[derive(Clone, Debug, PartialEq)]
pub struct Rgb {
    pub width: usize,
    pub height: usize,
    pub data: Vec<u8>,
}

/// The processor's settings (`preprocessor_config.json`), with
/// `BlipImageProcessor`'s defaults for what it leaves out.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageConfig {
    pub width: usize,
    pub height: usize,
    /// PIL's resampling filter number: 2 bilinear, 3 bicubic.
    pub resample: u32,
    pub do_resize: bool,
    pub do_rescale: bool,
    pub rescale_factor: f64,
    pub do_normalize: bool,
    pub mean: [f32; 3],
    pub std: [f32; 3],
}

impl Default for ImageConfig {
    fn default() -> Self {
        Self {
            width: 384,
            height: 384,
            resample: 3,
            do_resize: true,
            do_rescale: true,
            rescale_factor: 1.0 / 255.0,
            do_normalize: true,
            // OpenAI CLIP's.
            mean: [0.481_454_66, 0.457_827_5, 0.408_210_73],
            std: [0.268_629_54, 0.261_302_6, 0.275_777_1],
        }
    }
}

impl ImageConfig {
    /// Reads `preprocessor_config.json` in `dir` (defaults when absent).
    pub fn load(dir: &Path) -> Self {
        let v: Value = std::fs::read_to_string(dir.join("preprocessor_config.json"))
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or(Value::Null);
        let mut c = Self::default();
        let size = &v["size"];
        if let (Some(h), Some(w)) = (size["height"].as_u64(), size["width"].as_u64()) {
            (c.height, c.width) = (h as usize, w as usize);
        } else if let Some(s) = size.as_u64() {
            (c.height, c.width) = (s as usize, s as usize);
        }
        let three = |x: &Value| -> Option<[f32; 3]> {
            let a = x.as_array()?;
            Some([
                a.first()?.as_f64()? as f32,
                a.get(1)?.as_f64()? as f32,
                a.get(2)?.as_f64()? as f32,
            ])
        };
        if let Some(m) = three(&v["image_mean"]) {
            c.mean = m;
        }
        if let Some(s) = three(&v["image_std"]) {
            c.std = s;
        }
        if let Some(r) = v["resample"].as_u64() {
            c.resample = r as u32;
        }
        if let Some(f) = v["rescale_factor"].as_f64() {
            c.rescale_factor = f;
        }
        for (key, slot) in [
            ("do_resize", &mut c.do_resize),
            ("do_rescale", &mut c.do_rescale),
            ("do_normalize", &mut c.do_normalize),
        ] {
            if let Some(b) = v[key].as_bool() {
                *slot = b;
            }
        }
        c
    }

    /// Settings a picture can be prepared with: a size neither zero nor
    /// absurd, a known filter, finite factors and no zero deviation.
    pub fn check(&self) -> Result<(), String> {
        if self.width == 0 || self.height == 0 || self.width > 8192 || self.height > 8192 {
            return Err(format!(
                "its picture size {}×{} can't be used",
                self.width, self.height
            ));
        }
        if self.resample > 5 {
            return Err(format!(
                "its resampling filter {} is unknown",
                self.resample
            ));
        }
        if !self.rescale_factor.is_finite()
            || self.mean.iter().chain(&self.std).any(|x| !x.is_finite())
            || self.std.contains(&0.0)
        {
            return Err("its rescale factor, mean or deviation is not a usable number".into());
        }
        Ok(())
    }
}

/// The largest picture Spaceport decodes, on either side, and the memory
/// a decoder may take for it: a 12000×9000 photograph (324 MB decoded)
/// opens; a damaged header claiming 60000×60000 pixels is refused before
/// anything is allocated.
const MAX_SIDE: u32 = 40_000;
const MAX_DECODE_BYTES: u64 = 2 << 30;

/// Opens a picture file: decoded, EXIF orientation applied, made RGB.
pub fn open(path: &Path) -> Result<Rgb, PictureError> {
    let name = path.display().to_string();
    if !path.exists() {
        return Err(PictureError::Missing(name));
    }
    let bytes =
        std::fs::read(path).map_err(|e| PictureError::Unreadable(name.clone(), e.to_string()))?;
    decode(&bytes, &name)
}

/// Decodes a picture from its bytes (`name` for messages).
pub fn decode(bytes: &[u8], name: &str) -> Result<Rgb, PictureError> {
    let mut reader = ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| PictureError::Unreadable(name.into(), e.to_string()))?;
    if reader.format().is_none() {
        return Err(PictureError::NotAPicture(name.into()));
    }
    // Big photographs (12000×9000 and more) are fine: the picture is
    // shrunk right after decoding. Sizes a damaged header claims are not.
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let decoded = crate::work::catch_panic(|| -> Result<_, PictureError> {
        let mut decoder = reader.into_decoder().map_err(|e| match e {
            image::ImageError::Unsupported(_) => PictureError::NotAPicture(name.into()),
            e => PictureError::Damaged(name.into(), e.to_string()),
        })?;
        let orientation = decoder.orientation().ok();
        let img = DynamicImage::from_decoder(decoder)
            .map_err(|e| PictureError::Damaged(name.into(), e.to_string()))?;
        Ok((img, orientation))
    });
    let (mut img, orientation) = decoded.map_err(|why| {
        PictureError::Damaged(name.into(), format!("its decoder failed ({why})"))
    })??;
    if let Some(o) = orientation {
        img.apply_orientation(o);
    }
    if img.width() == 0 || img.height() == 0 {
        return Err(PictureError::Empty(name.into()));
    }
    Ok(to_rgb(&img))
}

/// PIL's `alpha_composite` of one channel over opaque white.
fn over_white(c: u8, a: u8) -> u8 {
    if a == 0 {
        return 255;
    }
    let (c, a) = (c as u32, a as u32);
    // coef1 = a·255·255·128 / (255·255) = 128·a when the background is
    // opaque; 7 bits of precision and rounded divisions, as PIL.
    let t = c * (a << 7) + 255 * ((255 - a) << 7) + (0x80 << 7);
    ((((t >> 8) + t) >> 8) >> 7) as u8
}

/// The file name endings of the pictures Spaceport opens (what the file
/// dialogs offer and what a dropped folder is searched for).
pub const PICTURE_EXTENSIONS: [&str; 9] = [
    "jpg", "jpeg", "png", "webp", "gif", "bmp", "tif", "tiff", "jfif",
];

/// Picture files among `paths`, a folder standing for the pictures in it
/// (by name ending, not looking inside sub-folders), in name order.
pub fn expand_pictures(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut inside: Vec<PathBuf> = std::fs::read_dir(p)
                .map(|d| d.flatten().map(|e| e.path()).collect())
                .unwrap_or_default();
            inside.retain(|f| {
                f.is_file()
                    && f.extension().is_some_and(|e| {
                        PICTURE_EXTENSIONS.contains(&e.to_string_lossy().to_lowercase().as_str())
                    })
            });
            inside.sort();
            out.extend(inside);
        } else {
            out.push(p.clone());
        }
    }
    out
}

impl Rgb {
    /// A picture from unpremultiplied 8-bit RGBA rows (a pasted picture),
    /// transparency over white as for files; `None` when the sizes do not
    /// match the bytes.
    pub fn from_rgba(width: usize, height: usize, rgba: Vec<u8>) -> Option<Rgb> {
        let (w, h) = (u32::try_from(width).ok()?, u32::try_from(height).ok()?);
        let buf = image::RgbaImage::from_raw(w, h, rgba)?;
        Some(to_rgb(&DynamicImage::ImageRgba8(buf)))
    }
}

/// A small RGBA preview of a picture.
#[derive(Clone, Debug)]
pub struct Thumbnail {
    pub width: usize,
    pub height: usize,
    pub rgba: Vec<u8>,
}

/// A preview at most `side` pixels on its longer side.
pub fn thumbnail(img: &Rgb, side: usize) -> Thumbnail {
    let scale = (side as f64 / img.width.max(img.height).max(1) as f64).min(1.0);
    let (w, h) = (
        ((img.width as f64 * scale).round() as usize).max(1),
        ((img.height as f64 * scale).round() as usize).max(1),
    );
    let small = resize(img, w, h, 2);
    let mut rgba = Vec::with_capacity(w * h * 4);
    for px in small.data.chunks_exact(3) {
        rgba.extend_from_slice(&[px[0], px[1], px[2], 255]);
    }
    Thumbnail {
        width: w,
        height: h,
        rgba,
    }
}

/// Any decoded picture as 8-bit RGB, the way transformers' convert_to_rgb
/// makes it (16-bit samples keep their high byte).
pub fn to_rgb(img: &DynamicImage) -> Rgb {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let hi = |v: u16| (v >> 8) as u8;
    let mut data = Vec::with_capacity(w * h * 3);
    match img {
        DynamicImage::ImageLuma8(b) => {
            for p in b.pixels() {
                data.extend_from_slice(&[p.0[0]; 3]);
            }
        }
        DynamicImage::ImageLumaA8(b) => {
            for p in b.pixels() {
                data.extend_from_slice(&[over_white(p.0[0], p.0[1]); 3]);
            }
        }
        DynamicImage::ImageRgb8(b) => data.extend_from_slice(b.as_raw()),
        DynamicImage::ImageRgba8(b) => {
            for p in b.pixels() {
                let [r, g, bl, a] = p.0;
                data.extend_from_slice(&[over_white(r, a), over_white(g, a), over_white(bl, a)]);
            }
        }
        DynamicImage::ImageLuma16(b) => {
            for p in b.pixels() {
                data.extend_from_slice(&[hi(p.0[0]); 3]);
            }
        }
        DynamicImage::ImageLumaA16(b) => {
            for p in b.pixels() {
                data.extend_from_slice(&[over_white(hi(p.0[0]), hi(p.0[1])); 3]);
            }
        }
        DynamicImage::ImageRgb16(b) => data.extend(b.as_raw().iter().map(|&v| hi(v))),
        DynamicImage::ImageRgba16(b) => {
            for p in b.pixels() {
                let [r, g, bl, a] = p.0.map(hi);
                data.extend_from_slice(&[over_white(r, a), over_white(g, a), over_white(bl, a)]);
            }
        }
        other => data = other.to_rgb8().into_raw(),
    }
    Rgb {
        width: w,
        height: h,
        data,
    }
}

/// PIL's fixed-point precision for 8-bit resampling.
const PRECISION_BITS: u32 = 32 - 8 - 2;

fn bicubic(x: f64) -> f64 {
    let a = -0.5;
    let x = x.abs();
    if x < 1.0 {
        ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    } else if x < 2.0 {
        (((x - 5.0) * x + 8.0) * x - 4.0) * a
    } else {
        0.0
    }
}

fn bilinear(x: f64) -> f64 {
    let x = x.abs();
    if x < 1.0 { 1.0 - x } else { 0.0 }
}

/// One axis' taps, as PIL's `precompute_coeffs` + `normalize_coeffs_8bpc`:
/// for each output position, the first input index and fixed-point weights.
fn taps(in_size: usize, out_size: usize, resample: u32) -> Vec<(usize, Vec<i32>)> {
    let (filter, support): (fn(f64) -> f64, f64) = match resample {
        2 => (bilinear, 1.0),
        _ => (bicubic, 2.0),
    };
    let scale = in_size as f64 / out_size as f64;
    let filterscale = scale.max(1.0);
    let support = support * filterscale;
    let ss = 1.0 / filterscale;
    (0..out_size)
        .map(|xx| {
            let center = (xx as f64 + 0.5) * scale;
            // C's truncating casts, as PIL.
            let xmin = ((center - support + 0.5) as i64).max(0) as usize;
            let xmax = ((center + support + 0.5) as i64).min(in_size as i64) as usize;
            let n = xmax.saturating_sub(xmin);
            let w: Vec<f64> = (0..n)
                .map(|x| filter(((x + xmin) as f64 - center + 0.5) * ss))
                .collect();
            let total: f64 = w.iter().sum();
            let one = (1u32 << PRECISION_BITS) as f64;
            let k = w
                .iter()
                .map(|&v| {
                    let v = if total != 0.0 { v / total } else { v };
                    if v < 0.0 {
                        (-0.5 + v * one) as i32
                    } else {
                        (0.5 + v * one) as i32
                    }
                })
                .collect();
            (xmin, k)
        })
        .collect()
}

fn clip8(v: i64) -> u8 {
    (v >> PRECISION_BITS).clamp(0, 255) as u8
}

/// Resizes as PIL's `Image.resize(size, resample)` on an RGB image: a
/// horizontal pass, then a vertical one, each rounded to 8 bits.
pub fn resize(src: &Rgb, width: usize, height: usize, resample: u32) -> Rgb {
    let half = 1i64 << (PRECISION_BITS - 1);
    let horizontal = if src.width != width {
        let t = taps(src.width, width, resample);
        let mut out = vec![0u8; width * src.height * 3];
        for y in 0..src.height {
            let row = &src.data[y * src.width * 3..(y + 1) * src.width * 3];
            for (xx, (xmin, k)) in t.iter().enumerate() {
                for c in 0..3 {
                    let mut s = half;
                    for (i, &w) in k.iter().enumerate() {
                        s += row[(xmin + i) * 3 + c] as i64 * w as i64;
                    }
                    out[(y * width + xx) * 3 + c] = clip8(s);
                }
            }
        }
        Rgb {
            width,
            height: src.height,
            data: out,
        }
    } else {
        src.clone()
    };
    if horizontal.height == height {
        return horizontal;
    }
    let t = taps(horizontal.height, height, resample);
    let mut out = vec![0u8; width * height * 3];
    for (yy, (ymin, k)) in t.iter().enumerate() {
        for x in 0..width * 3 {
            let mut s = half;
            for (i, &w) in k.iter().enumerate() {
                s += horizontal.data[(ymin + i) * width * 3 + x] as i64 * w as i64;
            }
            out[yy * width * 3 + x] = clip8(s);
        }
    }
    Rgb {
        width,
        height,
        data: out,
    }
}

/// The model's input for a picture: (3, height, width) values, channel
/// after channel, as the processor makes them.
pub fn pixel_values(img: &Rgb, cfg: &ImageConfig) -> (Rgb, Vec<f32>) {
    let sized = if cfg.do_resize && (img.width != cfg.width || img.height != cfg.height) {
        resize(img, cfg.width, cfg.height, cfg.resample)
    } else {
        img.clone()
    };
    let plane = sized.width * sized.height;
    let mut out = vec![0f32; 3 * plane];
    for (i, px) in sized.data.chunks_exact(3).enumerate() {
        for c in 0..3 {
            let mut v = px[c] as f64;
            if cfg.do_rescale {
                v *= cfg.rescale_factor;
            }
            let mut v = v as f32;
            if cfg.do_normalize {
                v = (v - cfg.mean[c]) / cfg.std[c];
            }
            out[c * plane + i] = v;
        }
    }
    (sized, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_white_matches_pil_at_the_ends() {
        assert_eq!(over_white(10, 255), 10);
        assert_eq!(over_white(10, 0), 255);
        assert_eq!(over_white(0, 128), 127);
    }

    #[test]
    fn taps_sum_to_one_and_stay_inside() {
        for (i, o) in [(1000, 384), (384, 384), (7, 384), (1, 384), (12000, 384)] {
            for (xmin, k) in taps(i, o, 3) {
                let s: i64 = k.iter().map(|&w| w as i64).sum();
                assert!(
                    (s - (1 << PRECISION_BITS)).abs() < k.len() as i64,
                    "{i}→{o}"
                );
                assert!(xmin + k.len() <= i);
            }
        }
    }
}
