//! The access token: read from the standard token file, saved there from
//! Settings, and wrapped so that it is never printed or logged.

use std::path::Path;

use super::{HubError, Result};

/// An access token. `Debug` and `Display` show only a mask, so a token that
/// ends up in a log line or an error message reveals nothing.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// A token from user input or a file; `None` when blank.
    pub fn new(raw: &str) -> Option<Self> {
        let t = raw.trim();
        (!t.is_empty()).then(|| Self(t.to_string()))
    }

    /// The secret itself, for the `Authorization` header only.
    pub fn secret(&self) -> &str {
        &self.0
    }

    /// A form that is safe to show: `hf_…abcd`.
    pub fn masked(&self) -> String {
        let tail: String = self
            .0
            .chars()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        if self.0.chars().count() <= 8 {
            "••••".to_string()
        } else {
            format!("••••{tail}")
        }
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Token({})", self.masked())
    }
}

impl std::fmt::Display for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.masked())
    }
}

/// The token saved in `path` (the file `huggingface-cli login` writes).
pub fn read_token_file(path: &Path) -> Option<Token> {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| Token::new(&s))
}

/// Saves (or with `None`, removes) the token in the standard token file,
/// readable by its owner only.
pub fn write_token_file(path: &Path, token: Option<&Token>) -> Result<()> {
    match token {
        None => match std::fs::remove_file(path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(HubError::io("remove", path, e)),
        },
        Some(t) => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| HubError::io("create", dir, e))?;
            }
            std::fs::write(path, t.secret()).map_err(|e| HubError::io("write", path, e))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                    .map_err(|e| HubError::io("protect", path, e))?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_never_shows_in_debug_or_display() {
        let t = Token::new(" hf_SecretValue1234 ").expect("non-empty");
        assert_eq!(t.secret(), "hf_SecretValue1234");
        let shown = format!("{t} {t:?}");
        assert!(!shown.contains("Secret"), "{shown}");
        assert!(shown.contains("1234"));
        assert!(Token::new("  ").is_none());
    }
}
