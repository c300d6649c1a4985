//! Fonts for every script. egui's built-in fonts cover Latin, Greek and
//! Cyrillic; model cards, dataset rows and translations also come in
//! Chinese, Japanese, Korean, Arabic, Hebrew, Devanagari and more. At start
//! a worker ([`start`]) looks for a system font for each script egui
//! cannot draw — through fontconfig (`fc-list :charset=…`), else in the
//! platform's font folders — checks with the font's own character map
//! that it has every sample character, and adds it to egui as a fallback
//! (after the built-in fonts). The first frame does not wait for it.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use egui::epaint::text::{FontInsert, FontPriority, InsertFontFamily};

/// The scripts looked for, each with sample text a font must have.
pub const SCRIPTS: &[(&str, &str)] = &[
    ("Chinese", "中文汉字简体繁體"),
    ("Japanese", "日本語のひらがなカタカナ"),
    ("Korean", "한국어"),
    ("Arabic", "العربية"),
    ("Hebrew", "עברית"),
    ("Devanagari", "हिन्दी"),
    ("Cyrillic", "Русский"),
    ("Greek", "Ελληνικά"),
    ("Thai", "ภาษาไทย"),
    ("Bengali", "বাংলা"),
    ("Tamil", "தமிழ்"),
    ("Georgian", "ქართული"),
    ("Armenian", "Հայերեն"),
    ("Ethiopic", "አማርኛ"),
];

/// The fonts added so far: (script, file).
static LOADED: Mutex<Vec<(String, PathBuf)>> = Mutex::new(Vec::new());
/// The scripts no font was found for.
static MISSING: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// The scripts this system has no font for (once looked for).
pub fn unsupported() -> Vec<String> {
    MISSING.lock().map(|l| l.clone()).unwrap_or_default()
}

/// The system fonts added for scripts, as (script, file).
pub fn loaded() -> Vec<(String, PathBuf)> {
    LOADED.lock().map(|l| l.clone()).unwrap_or_default()
}

/// Looks for the fonts on a worker thread and adds them to `ctx` as they
/// are found; the window repaints after each.
pub fn start(ctx: &egui::Context) {
    let ctx = ctx.clone();
    let _ = std::thread::Builder::new()
        .name("system-fonts".into())
        .spawn(move || {
            load(&ctx);
        });
}

/// Finds and adds a font for every script `ctx` cannot draw yet; the
/// scripts given a font. (Blocking: [`start`] runs it on a worker; tests
/// call it directly.)
pub fn load(ctx: &egui::Context) -> Vec<String> {
    let mut added = Vec::new();
    // The fonts added so far, kept while looking (a font for one script
    // often has the next: Chinese and Japanese).
    let mut added_data: Vec<(Vec<u8>, u32)> = Vec::new();
    // egui's own fonts, read here rather than through the context (whose
    // fonts exist only once the first frame has begun).
    let builtin = egui::FontDefinitions::default().font_data;
    for (script, sample) in SCRIPTS {
        if builtin
            .values()
            .any(|f| face_with(f.bytes(), sample).is_some())
            || added_data.iter().any(|(d, i)| face_has(d, *i, sample))
        {
            continue;
        }
        let Some((path, data, index)) = find(sample) else {
            if let Ok(mut m) = MISSING.lock()
                && !m.iter().any(|s| s == script)
            {
                m.push(script.to_string());
            }
            continue;
        };
        let name = format!(
            "system-{}",
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        );
        added_data.push((data.clone(), index));
        let mut font = egui::FontData::from_owned(data);
        font.index = index;
        ctx.add_font(FontInsert::new(
            &name,
            font,
            vec![
                InsertFontFamily {
                    family: egui::FontFamily::Proportional,
                    priority: FontPriority::Lowest,
                },
                InsertFontFamily {
                    family: egui::FontFamily::Monospace,
                    priority: FontPriority::Lowest,
                },
            ],
        ));
        if let Ok(mut l) = LOADED.lock() {
            l.push((script.to_string(), path.clone()));
        }
        added.push(script.to_string());
        ctx.request_repaint();
    }
    added
}

/// The characters of `text` that `ctx`'s fonts lack (once a frame has
/// begun).
pub fn missing(ctx: &egui::Context, text: &str) -> Vec<char> {
    ctx.fonts_mut(|f| {
        text.chars()
            .filter(|c| !c.is_whitespace() && !c.is_control())
            .filter(|c| !f.has_glyph(&egui::FontId::proportional(14.0), *c))
            .collect()
    })
}

/// A font file with every character of `sample`: its path, bytes and the
/// face in it that has them.
fn find(sample: &str) -> Option<(PathBuf, Vec<u8>, u32)> {
    let candidates = fontconfig(sample).unwrap_or_else(folder_fonts);
    let mut ranked: Vec<PathBuf> = candidates.into_iter().filter(|p| loadable(p)).collect();
    ranked.sort_by_key(|p| rank(p));
    ranked.dedup();
    ranked.into_iter().find_map(|p| {
        let data = read_font(&p)?;
        let index = face_with(&data, sample)?;
        Some((p, data, index))
    })
}

/// A font file's bytes (at most 64 MB: a collection of CJK faces is about
/// 20–40 MB).
fn read_font(path: &Path) -> Option<Vec<u8>> {
    let len = std::fs::metadata(path).ok()?.len();
    if len == 0 || len > 64 << 20 {
        return None;
    }
    std::fs::read(path).ok()
}

/// The first face in a font file (or collection) whose character map has
/// every character of `sample`.
fn face_with(data: &[u8], sample: &str) -> Option<u32> {
    let faces = skrifa::raw::FileRef::new(data)
        .ok()?
        .fonts()
        .count()
        .min(64);
    (0..faces as u32).find(|&i| face_has(data, i, sample))
}

/// Whether face `index` of a font file has every character of `sample`.
fn face_has(data: &[u8], index: u32, sample: &str) -> bool {
    use skrifa::MetadataProvider;
    skrifa::FontRef::from_index(data, index).is_ok_and(|f| {
        let map = f.charmap();
        sample
            .chars()
            .filter(|c| !c.is_whitespace())
            .all(|c| map.map(c).is_some())
    })
}

/// Whether egui can read this kind of font file.
fn loadable(p: &Path) -> bool {
    p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        matches!(
            e.to_ascii_lowercase().as_str(),
            "ttf" | "otf" | "ttc" | "otc"
        )
    })
}

/// Prefer plain sans-serif faces: regular before bold or italic, sans
/// before serif or mono, then by name.
fn rank(p: &Path) -> (u8, u8, String) {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let styled = [
        "bold", "italic", "oblique", "light", "thin", "black", "heavy", "medium",
    ]
    .iter()
    .any(|s| name.contains(s));
    let sans = name.contains("sans") || name.contains("fallback") || name.contains("hei");
    let odd = name.contains("mono") || name.contains("serif") || name.contains("emoji");
    (u8::from(styled), u8::from(!sans || odd), name)
}

/// Files fontconfig says have every character of `sample` (`None` when
/// fontconfig is not installed).
fn fontconfig(sample: &str) -> Option<Vec<PathBuf>> {
    let charset: Vec<String> = sample
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| format!("{:x}", c as u32))
        .collect();
    let out = std::process::Command::new("fc-list")
        .arg(format!(":charset={}", charset.join(" ")))
        .arg("file")
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.trim().strip_suffix(':'))
            .map(PathBuf::from)
            .collect(),
    )
}

/// The platform's font folders.
fn font_folders() -> Vec<PathBuf> {
    let mut dirs = vec![
        PathBuf::from("/usr/share/fonts"),
        PathBuf::from("/usr/local/share/fonts"),
        PathBuf::from("/System/Library/Fonts"),
        PathBuf::from("/Library/Fonts"),
    ];
    if let Some(home) = std::env::home_dir() {
        dirs.push(home.join(".local/share/fonts"));
        dirs.push(home.join(".fonts"));
        dirs.push(home.join("Library/Fonts"));
    }
    if let Some(data) = std::env::var_os("XDG_DATA_HOME") {
        dirs.push(PathBuf::from(data).join("fonts"));
    }
    if let Some(windir) = std::env::var_os("WINDIR") {
        dirs.push(PathBuf::from(windir).join("Fonts"));
    }
    dirs
}

/// Every font file in the platform's font folders (at most 5,000, at
/// most six folders deep).
fn folder_fonts() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack: Vec<(PathBuf, u8)> = font_folders().into_iter().map(|d| (d, 0)).collect();
    while let Some((dir, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                if depth < 6 {
                    stack.push((p, depth + 1));
                }
            } else if loadable(&p) {
                out.push(p);
                if out.len() >= 5000 {
                    return out;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_sans_faces_come_first() {
        let mut v = [
            PathBuf::from("/f/NotoSerifCJK-Regular.ttc"),
            PathBuf::from("/f/NotoSansCJK-Bold.ttc"),
            PathBuf::from("/f/NotoSansCJK-Regular.ttc"),
        ];
        v.sort_by_key(|p| rank(p));
        assert_eq!(v[0], PathBuf::from("/f/NotoSansCJK-Regular.ttc"));
        assert!(loadable(Path::new("a.TTF")) && !loadable(Path::new("a.pcf.gz")));
    }

    #[test]
    fn a_file_that_is_not_a_font_has_no_face() {
        assert_eq!(face_with(b"not a font at all", "a"), None);
        assert_eq!(face_with(&[], "a"), None);
    }
}
