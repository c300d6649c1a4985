//! Pictures prepared exactly as transformers' BlipImageProcessor (PIL
//! backend) prepares them: for edge cases made by
//! scripts/fixtures/make_blip_images.py (committed in
//! tests/fixtures/blip/images) and scikit-image's sample photographs
//! (fetched from its wheel by the test command), the 384×384 RGB bytes
//! are PIL's (same SHA-256) and the pixel tensor matches within 1e-3.

use std::path::PathBuf;

use serde_json::Value;
use sha2::{Digest, Sha256};
use spaceport::tasks::caption::image::{ImageConfig, PictureError, open, pixel_values};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/blip/images")
}

fn photos() -> PathBuf {
    let dir = std::env::var("SPACEPORT_TEST_IMAGES")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default())
                .join(".cache/spaceport/images/scikit-image-0.25.2")
        });
    assert!(
        dir.join("astronaut.png").exists(),
        "run scripts/test.sh: it fetches the sample photographs into {}",
        dir.display()
    );
    dir
}

/// A reference's picture: "skimage:NAME" from scikit-image's wheel,
/// otherwise from the fixtures.
fn picture(name: &str) -> PathBuf {
    match name.strip_prefix("skimage:") {
        Some(n) => photos().join(n),
        None => fixtures().join(name),
    }
}

#[test]
fn pixels_match_blip_image_processor() {
    let refs: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("reference.json")).unwrap())
            .unwrap();
    assert!(refs.len() >= 14);
    let cfg = ImageConfig::default();
    for r in &refs {
        let name = r["name"].as_str().unwrap();
        let path = picture(name);
        let img = open(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (sized, pv) = pixel_values(&img, &cfg);
        assert_eq!((sized.width, sized.height), (384, 384), "{name}");
        let sha: String = Sha256::digest(&sized.data)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let mut worst = 0f32;
        for s in r["samples"].as_array().unwrap() {
            let s: Vec<f64> = s
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            let (c, y, x) = (s[0] as usize, s[1] as usize, s[2] as usize);
            worst = worst.max((pv[c * 384 * 384 + y * 384 + x] - s[3] as f32).abs());
        }
        let sum: f64 = pv.iter().map(|&v| v as f64).sum();
        assert!(worst <= 1e-3, "{name}: sampled values off by {worst}");
        assert!(
            (sum - r["sum"].as_f64().unwrap()).abs() <= 1e-3 * pv.len() as f64 * 1e-2,
            "{name}: sum {sum} vs {}",
            r["sum"]
        );
        assert_eq!(
            sha,
            r["resized_sha256"].as_str().unwrap(),
            "{name}: resized bytes"
        );
    }
}

#[test]
fn the_exif_orientation_is_applied() {
    let img = open(&fixtures().join("rotated.png")).unwrap();
    // Stored 64 wide and 48 high, orientation 6: shown 48 wide.
    assert_eq!((img.width, img.height), (48, 64));
}

#[test]
fn a_phone_photo_turned_by_its_exif_tag_is_shown_upright() {
    // Stored 72×40 with orientation 8: PIL's exif_transpose rotates it 90°
    // counter-clockwise, so the shown picture's (x, y) is the stored
    // (71 - y, x).
    let path = fixtures().join("phone.jpg");
    let shown = open(&path).unwrap();
    assert_eq!((shown.width, shown.height), (40, 72));
    let stored = image::open(&path).unwrap().to_rgb8();
    assert_eq!(stored.dimensions(), (72, 40));
    for (x, y) in [(0usize, 0usize), (5, 9), (39, 71), (17, 30)] {
        let want = stored.get_pixel(71 - y as u32, x as u32).0;
        let got = &shown.data[(y * 40 + x) * 3..(y * 40 + x) * 3 + 3];
        assert_eq!(got, want, "({x}, {y})");
    }
}

#[test]
fn jpegs_decode_as_pil_does_within_a_few_levels() {
    // PIL decodes with libjpeg-turbo, the app with zune-jpeg: the same
    // picture, upright, with colours a level or two apart where chroma is
    // upsampled (measured: rocket.jpg 99 % of values identical, the small
    // 4:2:0 phone.jpg 74 %, never more than 4 apart).
    let refs: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("jpeg_reference.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(refs.len(), 2);
    for r in &refs {
        let name = r["name"].as_str().unwrap();
        let path = picture(name);
        let img = open(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let size = [img.width as u64, img.height as u64];
        assert_eq!(
            size[..],
            [
                r["size"][0].as_u64().unwrap(),
                r["size"][1].as_u64().unwrap()
            ]
        );
        let (mut worst, mut total, mut n) = (0u32, 0u32, 0u32);
        for s in r["samples"].as_array().unwrap() {
            let s: Vec<usize> = s
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as usize)
                .collect();
            let at = (s[0] * img.width + s[1]) * 3;
            for c in 0..3 {
                let d = (img.data[at + c] as i32 - s[2 + c] as i32).unsigned_abs();
                worst = worst.max(d);
                total += d;
                n += 1;
            }
        }
        let mean = total as f64 / n as f64;
        assert!(
            worst <= 4 && mean <= 0.6,
            "{name}: colours off by up to {worst} (mean {mean:.3})"
        );
    }
}

#[test]
fn bad_pictures_get_a_sentence() {
    let tmp = tempfile::tempdir().unwrap();
    let text = tmp.path().join("notes.jpg");
    std::fs::write(&text, "not a picture at all").unwrap();
    let e = open(&text).unwrap_err();
    assert!(matches!(e, PictureError::NotAPicture(_)), "{e}");
    assert!(e.to_string().contains("not a picture"), "{e}");

    let bytes = std::fs::read(photos().join("chelsea.png")).unwrap();
    let cut = tmp.path().join("cut.png");
    std::fs::write(&cut, &bytes[..bytes.len() / 3]).unwrap();
    let e = open(&cut).unwrap_err();
    assert!(matches!(e, PictureError::Damaged(..)), "{e}");

    let e = open(&tmp.path().join("missing.png")).unwrap_err();
    assert!(e.to_string().contains("was not found"), "{e}");
}

/// Peak resident memory of this process so far, in MB (Linux).
fn peak_mb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

#[test]
fn alone_a_huge_photograph_is_prepared_without_running_out_of_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("huge.jpg");
    let (w, h) = (12000u32, 9000u32);
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x / 47) as u8, (y / 35) as u8, ((x + y) / 83) as u8])
    });
    let file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    image::codecs::jpeg::JpegEncoder::new_with_quality(file, 80)
        .encode_image(&img)
        .unwrap();
    drop(img);
    let opened = open(&path).unwrap();
    assert_eq!((opened.width, opened.height), (12000, 9000));
    let (sized, pv) = pixel_values(&opened, &ImageConfig::default());
    assert_eq!(
        (sized.width, sized.height, pv.len()),
        (384, 384, 3 * 384 * 384)
    );
    // The picture is held as bytes (324 MB decoded), never as floats at
    // full size (1.3 GB).
    if let Some(mb) = peak_mb() {
        eprintln!("peak memory {mb} MB");
        assert!(mb < 1200, "peak memory {mb} MB");
    }
}
